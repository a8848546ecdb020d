"""Quarantined revisions: feedback to the cadre, an entry for the central office, resolution.

A revision that is identifiable but fails validation is stored unchanged (docs/validation-
rules.md). This after-write hook then writes a `feedback:` document into the village database
(the device pulls it and shows the cadre what to correct) and a `quarantine:` entry into the
review database. When a later revision of the same document passes, both are marked resolved.
"""
from __future__ import annotations

import logging

from models.quarantine import feedback_document, quarantine_entry
from models.registry import ACCEPT, QUARANTINE
from sync.couch.client import CouchServer, Database
from sync.clock import utc_now
from sync.couch.names import DatabaseNames
from sync.gateway.screening import WriteBatch

log = logging.getLogger("fieldsync.quarantine")


def _generation(rev: str | None) -> int:
    try:
        return int((rev or "0").split("-", 1)[0])
    except ValueError:
        return 0


def _write_new(db: Database, docs: list[dict]) -> None:
    if not docs:
        return
    failures = [r for r in db.bulk_docs(docs) if r.get("error") and r["error"] != "conflict"]
    if failures:
        log.error("quarantine documents not written to %s: %s", db.name, failures)


class QuarantineDesk:
    """Writes and resolves quarantine feedback and entries."""

    def __init__(self, couch: CouchServer, names: DatabaseNames):
        self.couch, self.names = couch, names

    @property
    def review_db(self) -> Database:
        return self.couch.database(self.names.review)

    def after_write(self, batch: WriteBatch) -> None:
        """After-write hook: feedback + entry for each quarantined revision; resolve corrections."""
        village = batch.request.village
        village_db = self.couch.database(self.names.village(village))
        now = utc_now()
        quarantined = [e for e in batch.written if e.verdict.action == QUARANTINE]
        _write_new(village_db, [feedback_document(e.doc, e.rev, e.verdict, village, now)
                                for e in quarantined])
        _write_new(self.review_db, [quarantine_entry(e.doc, e.rev, e.verdict, village, now)
                                    for e in quarantined])
        for entry in quarantined:
            log.info("quarantined %s rev %s of village %s: %s", entry.doc_id, entry.rev, village,
                     ", ".join(entry.verdict.codes))
        corrected = [e for e in batch.written
                     if e.verdict.action == ACCEPT and _generation(e.rev) > 1]
        for entry in corrected:
            self._resolve(village_db, village, entry.doc_id, entry.rev, now)

    def _resolve(self, village_db: Database, village: str, doc_id: str, rev: str,
                 now: str) -> None:
        stale = [d for d in village_db.docs_with_prefix(f"feedback:{doc_id}:")
                 if d.get("resolved_at") is None and d["target"]["rev"] != rev
                 and d.get("kind") != "household_disagreement"]  # that one awaits its review
        for feedback in stale:
            feedback.update(resolved_at=now, resolved_by_rev=rev)
        _write_new(village_db, stale)
        entries = [d for d in self.review_db.docs_with_prefix(f"quarantine:{village}:{doc_id}:")
                   if d.get("state") == "open"]
        for item in entries:
            item.update(state="resolved", resolved_at=now, resolved_by=f"revision {rev}")
        _write_new(self.review_db, entries)

    def open_entries(self, within: str | None = None) -> list[dict]:
        """Open quarantine entries, optionally only for villages under a jurisdiction prefix."""
        entries = [d for d in self.review_db.docs_with_prefix("quarantine:")
                   if d.get("state") == "open"]
        if within:
            entries = [d for d in entries if d.get("village_code", "").startswith(within)]
        return sorted(entries, key=lambda d: d.get("received_at", ""))
