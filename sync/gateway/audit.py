"""The audit trail: one record per device write request, with a line per revision it carried.

A line says whether the revision was received (accepted or quarantined; the record's `at` is the
server's receipt time, since device documents are never rewritten) or refused (with its code),
so the central office can list what devices were told. The `_design/audit` view `by_subject`
finds the lines of one revision: `[doc id, rev] -> {action, verdict, at, actor, device_id}`.
"""
from __future__ import annotations

import logging
from typing import Iterator

from models.quarantine import device_write_record, office_write_record, revision_line
from sync.couch.client import Conflict, Database
from sync.couch.design import AUDIT_DDOC
from sync.clock import utc_now
from sync.gateway.screening import WriteBatch

log = logging.getLogger("fieldsync.audit")
WEB_START_PREFIX = "audit:web_start:"


def _refused_line(row: dict) -> dict:
    return {"subject_id": row.get("id") or "", "subject_rev": row.get("rev"),
            "action": "rejected", "code": row["fieldsync"]["code"],
            "problems": row["fieldsync"]["errors"]}


class AuditTrail:
    """Writes and reads the audit database."""

    def __init__(self, db: Database):
        self.db = db

    def record_writes(self, batch: WriteBatch) -> None:
        """After-write hook: the record of this request (a 409 means it is already there)."""
        lines = [revision_line(e.doc, e.rev, e.verdict) for e in batch.written]
        lines += [_refused_line(row) for row in batch.rejections]
        if not lines:
            return
        req = batch.request
        record = device_write_record(
            req.request_id, req.village, req.principal.username if req.principal else "-",
            utc_now(), {"device_id": req.device.get("id"),
                        "app_version": req.device.get("app_version"),
                        "request_id": req.request_id}, lines)
        try:
            self.db.put(record)
        except Conflict:
            pass

    def record_office_write(self, village: str, actor: str, doc_id: str, rev: str,
                            details: dict) -> None:
        """The record of a revision written at the central office (idempotent per revision)."""
        self.db.create_doc(office_write_record(f"{doc_id}:{rev}", village, actor, utc_now(),
                                               doc_id, rev, details))

    def record_web_start(self, host: str, pid: int) -> None:
        """A web process started: writes it took in before a crash may have left no record, so
        the worker's feeds make a full pass over every village (sync/feeds/signals.py)."""
        at = utc_now()
        self.db.create_doc({"_id": f"{WEB_START_PREFIX}{at}:{host}-{pid}", "type": "audit_entry",
                            "schema_version": 1, "action": "web_start", "actor": "-", "at": at,
                            "subject_id": None, "subject_rev": None, "village_code": None,
                            "details": {"host": host, "pid": pid}})

    def lines(self, action: str | None = None) -> Iterator[dict]:
        """Every audit line, flattened with its record's who/when (small installations, tests)."""
        for record in self.db.docs_with_prefix("audit:write:"):
            for line in record["details"].get("lines", []):
                if action is None or line["action"] == action:
                    yield {**line, "at": record["at"], "actor": record["actor"],
                           "village_code": record["village_code"],
                           "device_id": record["details"].get("device_id"),
                           "app_version": record["details"].get("app_version"),
                           "request_id": record["details"].get("request_id")}

    def receipts(self, doc_id: str, revs: list[str]) -> dict[str, dict]:
        """The first receipt of each revision: {rev: {username, received_at, device_id}}."""
        rows = self.db.server.json(
            "POST", f"{self.db.path}/{AUDIT_DDOC}/_view/by_subject",
            json_body={"keys": [[doc_id, rev] for rev in revs]}, idempotent=True)["rows"]
        found: dict[str, dict] = {}
        for row in rows:
            value, rev = row["value"], row["key"][1]
            if value["action"] != "received":
                continue
            if rev not in found or value["at"] < found[rev]["received_at"]:
                found[rev] = {"username": value["actor"], "received_at": value["at"],
                              "device_id": value["device_id"]}
        return found
