"""The audit trail: what the gateway received and decided, one entry per document revision.

Accepted and quarantined revisions get a `received` entry (device documents are never
rewritten, so this is where their server receipt time lives); refused ones a `rejected` entry,
so the central office can list what devices were told. Ids are deterministic: a retried
request or a replayed replication never adds a second entry for the same revision.
"""
from __future__ import annotations

import hashlib
import json
import logging

from models.doc_ids import audit_id
from models.quarantine import receipt_entry
from sync.couch import Database
from sync.directory import utc_now
from sync.sync_writes import WriteBatch

log = logging.getLogger("fieldsync.audit")


def _request_details(batch: WriteBatch) -> dict:
    req = batch.request
    return {"device_id": req.device.get("id"), "app_version": req.device.get("app_version"),
            "request_id": req.request_id}


def _rejected_entry(row: dict, batch: WriteBatch, actor: str, now: str) -> dict:
    req = batch.request
    subject = row.get("id") or ""
    discriminator = row.get("rev") or hashlib.sha256(
        json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    return {"_id": audit_id("rejected", subject, discriminator), "type": "audit_entry",
            "schema_version": 1, "action": "rejected", "actor": actor, "subject_id": subject,
            "subject_rev": row.get("rev"), "village_code": req.village, "at": now,
            "details": {**_request_details(batch), "code": row["fieldsync"]["code"],
                        "problems": row["fieldsync"]["errors"]}}


class AuditTrail:
    """Writes audit entries to the audit database."""

    def __init__(self, db: Database):
        self.db = db

    def record_writes(self, batch: WriteBatch) -> None:
        """After-write hook: an entry per stored or refused revision (409 = already recorded)."""
        req = batch.request
        actor = req.principal.username if req.principal else "-"
        now = utc_now()
        entries = []
        for entry in batch.written:
            doc = receipt_entry(entry.doc, entry.rev or "-", entry.verdict, req.village, actor, now)
            doc["details"].update(_request_details(batch))
            entries.append(doc)
        entries += [_rejected_entry(row, batch, actor, now) for row in batch.rejections]
        if not entries:
            return
        failures = [r for r in self.db.bulk_docs(entries)
                    if r.get("error") and r["error"] != "conflict"]
        if failures:
            log.error("audit entries not written: %s", failures)

    def entries(self, action: str | None = None) -> list[dict]:
        """Audit entries, optionally of one action (for tests and small installations)."""
        prefix = f"audit:{action}:" if action else "audit:"
        return list(self.db.docs_with_prefix(prefix))
