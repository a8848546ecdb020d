"""The audit trail: one entry per accepted device write, with a deterministic id.

Entries are keyed by (village, document, revision), so a retried request or a replayed
replication never adds a second entry for the same write.
"""
from __future__ import annotations

import logging

from sync.couch import Database
from sync.directory import utc_now
from sync.sync_writes import WriteBatch

log = logging.getLogger("fieldsync.audit")


def audit_entry_id(village: str, doc_id: str, rev: str | None) -> str:
    """Deterministic id of the audit entry of one write."""
    return f"audit:write:{village}:{doc_id}:{rev or '-'}"


class AuditTrail:
    """Writes audit entries to the audit database."""

    def __init__(self, db: Database):
        self.db = db

    def record_writes(self, batch: WriteBatch) -> None:
        """After-write hook: one entry per stored document (conflicts mean "already recorded")."""
        req = batch.request
        principal = req.principal
        now = utc_now()
        entries = [{
            "_id": audit_entry_id(req.village, entry.doc_id, entry.rev),
            "type": "audit_entry", "schema_version": 1, "action": "device_write", "at": now,
            "account": principal.username if principal else None,
            "device_id": req.device.get("id"), "app_version": req.device.get("app_version"),
            "village_code": req.village, "doc_id": entry.doc_id, "rev": entry.rev,
            "doc_type": entry.doc.get("type"), "verdict": entry.verdict.action,
            "request_id": req.request_id,
        } for entry in batch.written]
        if not entries:
            return
        results = self.db.bulk_docs(entries)
        failures = [r for r in results if r.get("error") and r["error"] != "conflict"]
        if failures:
            log.error("audit entries not written: %s", failures)
