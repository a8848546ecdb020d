"""The photo pipeline around sync/photos/checks.py: a queue filled by the gateway, drained by the worker.

1. The gateway's after-write hook queues a `photo_job:` document for every image attachment
   that lands (deterministic id per attachment digest: a re-sent photo is queued once). The
   backlog is simply the number of job documents.
2. Jobs are split over the live workers by rendezvous hashing on the job id (`owns`,
   sync/cluster/membership.py), as villages and deliveries are: no worker claims a photo by
   winning a write, since on a cluster two writers of one lease can both be told 201/202. The
   owner records a lease in the job before processing only as a crash guard (attempts are
   counted, so a photo that kills its worker goes dead after MAX_ATTEMPTS; a killed worker's
   lease expires), processes the photo off the request path and writes a `photo:` record with
   the facts and the served copies as attachments.
3. A refused photo gets a feedback document in the village database; a photo whose fingerprint
   matches a photo of another household opens a `photo_reuse` review task.
Processing is idempotent, since two workers may both process one photo during a handover (or
after a crash between the record and the job's removal): a job whose `photo:` record exists is
only removed; the record, the feedback (stamped with the job's queue time, so two workers write
the same body) and the review task have deterministic ids, and what a cluster stores twice is
merged by the conflict sweeper (photo records: the first processing; jobs: the most attempts).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import time
from typing import Callable

from models.doc_ids import review_task_id
from sync.couch.client import Conflict, CouchError, CouchServer, Database, NotFound
from sync.clock import utc_now
from sync.photos.feedback import photo_feedback
from sync.couch.names import DatabaseNames
from sync.photos.checks import (MAX_PIXELS, PHASH_MATCH_DISTANCE, PhotoRejected, hamming,
                                process_photo)
from sync.gateway.screening import WriteBatch

log = logging.getLogger("fieldsync.photos")

LEASE_S = 120.0
MAX_ATTEMPTS = 5



def _key(*parts: str) -> str:
    return hashlib.sha1(":".join(parts).encode()).hexdigest()[:20]


class PhotoDesk:
    """Queues, processes and serves photo evidence."""

    def __init__(self, couch: CouchServer, names: DatabaseNames, max_pixels: int = MAX_PIXELS):
        self.couch, self.names, self.max_pixels = couch, names, max_pixels

    @property
    def db(self) -> Database:
        return self.couch.database(self.names.photos)

    # --- 1. queue ---------------------------------------------------------------------------
    def enqueue(self, batch: WriteBatch) -> None:
        """After-write hook: queue each image attachment of each stored document."""
        village, jobs = batch.request.village, []
        for entry in batch.written:
            for name, stub in (entry.doc.get("_attachments") or {}).items():
                if not str(stub.get("content_type", "")).startswith("image/"):
                    continue
                digest = stub.get("digest") or entry.rev or ""
                jobs.append({"_id": f"photo_job:{_key(village, entry.doc_id, name, digest)}",
                             "type": "photo_job", "schema_version": 1, "state": "pending",
                             "village_code": village, "doc_id": entry.doc_id, "rev": entry.rev,
                             "doc_type": entry.doc.get("type"), "attachment": name,
                             "digest": digest, "household_id": entry.doc.get("household_id"),
                             "attempts": 0, "lease_until": 0, "queued_at": utc_now()})
        if jobs:
            self.db.bulk_docs(jobs)  # a conflict means the photo is already queued

    def backlog(self) -> dict:
        """How many photos wait, and how many gave up after MAX_ATTEMPTS."""
        jobs = list(self.db.docs_with_prefix("photo_job:"))
        return {"pending": sum(1 for j in jobs if j["state"] == "pending"),
                "dead": sum(1 for j in jobs if j["state"] == "dead")}

    # --- 2. process -------------------------------------------------------------------------
    def process_pending(self, worker_id: str, max_items: int = 20, now: float | None = None,
                        owns: Callable[[str], bool] | None = None) -> int:
        """Process up to `max_items` queued photos of this worker's share (`owns`, None: all);
        returns how many were done."""
        done = 0
        for job in self.db.docs_with_prefix("photo_job:", batch=max_items * 2):
            if done >= max_items:
                break
            current = now or time.time()
            if job["state"] != "pending" or job.get("lease_until", 0) > current:
                continue
            if owns is not None and not owns(job["_id"]):
                continue
            job.update(lease_until=current + LEASE_S, leased_by=worker_id,
                       attempts=job.get("attempts", 0) + 1)
            try:
                self.db.put(job)  # a record, not a claim: a 409 = written meanwhile, look later
            except Conflict:
                continue
            self._process(job)
            done += 1
        return done

    def record_id(self, job: dict) -> str:
        """The id of the `photo:` record of a job's photo."""
        return (f"photo:{job['village_code']}:{job['doc_id']}:{job['attachment']}:"
                f"{_key(job['digest'])}")

    def _process(self, job: dict) -> None:
        if self.db.get_or_none(self.record_id(job)) is not None:  # processed before: a repeat
            self._finish(job)
            return
        village_db = self.couch.database(self.names.village(job["village_code"]))
        try:
            data = village_db.get_attachment(job["doc_id"], job["attachment"], rev=job["rev"])
        except CouchError as exc:
            if job["attempts"] >= MAX_ATTEMPTS:
                job.update(state="dead", error=str(exc))
                try:
                    self.db.put(job)
                except Conflict:  # written meanwhile: its next pass decides again
                    pass
            log.warning("photo %s/%s not readable (attempt %d): %s", job["doc_id"],
                        job["attachment"], job["attempts"], exc)
            return
        record = {"_id": self.record_id(job), "type": "photo_record", "schema_version": 1,
                  **{k: job[k] for k in ("village_code", "doc_id", "rev", "doc_type",
                                         "attachment", "digest", "household_id")},
                  "bytes": len(data), "processed_at": utc_now()}
        try:
            photo = process_photo(data, self.max_pixels)
        except PhotoRejected as exc:
            record.update(status="refused", code=exc.code)
            # stamped with the queue time: a second worker writes the same body (one revision)
            village_db.create_doc(photo_feedback(job, exc.code, exc.params,
                                                 job.get("queued_at") or record["processed_at"]))
            log.info("photo %s/%s refused: %s", job["doc_id"], job["attachment"], exc.code)
        else:
            record.update(status="ok", format=photo.format, width=photo.width,
                          height=photo.height, captured_at=photo.captured_at, gps=photo.gps,
                          phash=photo.phash, _attachments={
                              "display.jpg": _inline(photo.display_jpeg),
                              "thumb.jpg": _inline(photo.thumbnail_jpeg)})
        self.db.create_doc(record)
        if record["status"] == "ok":
            self._check_reuse(record)
        self._finish(job)

    def _finish(self, job: dict) -> None:
        """Remove a processed job (written meanwhile or gone: its next pass finds the record)."""
        try:
            self.db.delete(job["_id"], job["_rev"])
        except (Conflict, NotFound):
            pass

    # --- 3. reuse across households ---------------------------------------------------------
    def _check_reuse(self, record: dict) -> None:
        keys = [[i, record["phash"][i * 4:i * 4 + 4]] for i in range(4)]
        rows = self.db.server.json("POST", f"{self.db.path}/_design/photos/_view/by_phash_chunk",
                                   json_body={"keys": keys}, idempotent=True)["rows"]
        candidates = {row["id"] for row in rows} - {record["_id"]}
        for other_id in sorted(candidates):
            other = self.db.get_or_none(other_id)
            if (other is None or not other.get("household_id")
                    or other["household_id"] == record.get("household_id")
                    or hamming(other["phash"], record["phash"]) > PHASH_MATCH_DISTANCE):
                continue
            pair = sorted([record["_id"], other_id])
            task = {"_id": review_task_id("photo_reuse", "|".join(pair)), "type": "review_task",
                    "schema_version": 1, "kind": "photo_reuse", "subject_ids": pair,
                    "village_code": record["village_code"], "state": "open",
                    "created_at": utc_now(),
                    "details": {"households": sorted({record["household_id"], other["household_id"]}),
                                "villages": sorted({record["village_code"], other["village_code"]}),
                                "distance": hamming(other["phash"], record["phash"])}}
            if self.couch.database(self.names.review).create_doc(task):
                log.warning("same photo used for households %s", task["details"]["households"])

    # --- serving ----------------------------------------------------------------------------
    def served_copy(self, village: str, doc_id: str, attachment: str, size: str) -> bytes | None:
        """The display or thumbnail JPEG of a processed photo (metadata stripped), or None."""
        records = [r for r in self.db.docs_with_prefix(f"photo:{village}:{doc_id}:{attachment}:")
                   if r.get("status") == "ok"]
        if not records:
            return None
        latest = max(records, key=lambda r: r["processed_at"])
        name = "thumb.jpg" if size == "thumb" else "display.jpg"
        return self.db.get_attachment(latest["_id"], name)


def _inline(data: bytes) -> dict:
    return {"content_type": "image/jpeg", "data": base64.b64encode(data).decode()}
