"""Which villages were written to lately: one feed to read instead of one request per village.

Every write fieldsync makes on a cadre's or official's behalf leaves an audit record whose id
names the village (`audit:<kind>:<village>:...`: device writes through the gateway and the
villagers' online filing and photo uploads, `audit:office:...` for central-office decisions).
Reading the audit
database's `_changes` (ids only) from a position kept in memory tells a village feed which
villages to look at, at a cost that does not grow with the number of villages.

Writes can leave no record: a web process killed between a write and its audit record, or
someone writing into CouchDB directly. Every web process leaves a `audit:web_start:...` record
when it starts (a killed one is restarted by its supervisor), and reading one makes the feeds
look at every village (whenever the record reaches the feed: on a cluster a read right after
a write may not list it yet, and the position is kept, so the next read sees it); the village
feed also makes a full pass every `full_pass_s` (sync/feeds/village_feed.py), and on CouchDB 3.x
`_db_updates` names directly written databases.
"""
from __future__ import annotations

import logging

from sync.gateway.audit import WEB_START_PREFIX
from sync.couch.client import CouchError, Database

log = logging.getLogger("fieldsync.village_signals")
PAGE = 1000


def village_of(audit_id: str) -> str | None:
    """The village an audit record id names (`audit:<kind>:<12 digits>:...`), if any."""
    parts = audit_id.split(":", 3)
    if len(parts) >= 3 and parts[0] == "audit" and len(parts[2]) == 12 and parts[2].isdigit():
        return parts[2]
    return None


class VillageSignals:
    """Reads the audit feed for the villages written since the last call."""

    def __init__(self, audit_db: Database):
        self.db = audit_db
        self.since: str | None = None

    def reset(self) -> None:
        """Before a full pass over villages: with no position yet (a start, a failed read),
        start from the audit feed's current end (the pass covers everything earlier). A
        position once held is never jumped: on a cluster a record can reach the feed late,
        after records written later, and a jump would skip it."""
        if self.since is not None:
            return
        try:
            self.since = self.db.changes("now").last_seq
        except CouchError as exc:
            log.warning("audit feed position not read (%s): the next pass reads everything", exc)
            self.since = None

    def written(self) -> set[str] | None:
        """Villages with audit records since last time; None when unknown (no position yet,
        or the feed failed): the caller should then look at every village."""
        if self.since is None:
            return None
        villages: set[str] = set()
        web_started = False
        try:
            while True:
                page = self.db.changes(self.since, limit=PAGE)
                ids = [c.get("id", "") for c in page.results]
                web_started |= any(doc_id.startswith(WEB_START_PREFIX) for doc_id in ids)
                villages.update(code for code in map(village_of, ids) if code)
                self.since = page.last_seq
                if len(page.results) < PAGE:
                    break
        except CouchError as exc:
            log.warning("audit feed not read (%s): looking at every village", exc)
            self.since = None
            return None
        if web_started:  # seen whenever it reaches the feed: this read or a later one
            log.info("a web process started: looking at every village")
            return None
        return villages
