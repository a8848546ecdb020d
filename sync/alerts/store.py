"""The alerts database: alerts, their deliveries (the outbox) and officials' case notes."""
from __future__ import annotations

import logging
from typing import Callable, Iterator

from sync.couch.client import Database, NotFound
from sync.couch.design import ensure_design_doc

log = logging.getLogger("fieldsync.alerts")

# every alert is listed under its town, its county and "all", once under "*" and once under
# its state, newest last: one view answers "alerts I may see, maybe of one state, paged"
_SCOPED = ("function (doc) { var scopes = [['town', doc.town_code], ['county', doc.county_code],"
           " ['all', '*']]; for (var i = 0; i < scopes.length; i++) {")
ALERTS_DDOC = {
    "_id": "_design/alerts", "language": "javascript",
    "views": {
        "by_scope": {"map": _SCOPED.replace("{ var", "{ if (doc.type !== 'alert') return; var") +
                     " emit([scopes[i][0], scopes[i][1], '*', doc.received_at], null);"
                     " emit([scopes[i][0], scopes[i][1], doc.state, doc.received_at], null); } }"},
        "scope_counts": {"map": _SCOPED.replace("{ var", "{ if (doc.type !== 'alert') return; var") +
                         " emit([scopes[i][0], scopes[i][1], doc.state], null); } }",
                         "reduce": "_count"},
        "active": {"map": "function (doc) { if (doc.type === 'alert' && !doc.resolved_at)"
                          " { emit(doc.alerted_at, null); } }"},
        "pending_deliveries": {"map": "function (doc) { if (doc.type === 'delivery' &&"
                                      " doc.state === 'pending') { emit(doc.next_attempt_at,"
                                      " null); } }"},
        "dead_deliveries": {"map": _SCOPED.replace(
            "{ var", "{ if (doc.type !== 'delivery' || doc.state !== 'dead') return; var") +
            " emit([scopes[i][0], scopes[i][1], doc.dead_at], null); } }"},
        "inbox": {"map": "function (doc) { if (doc.type === 'delivery' && doc.channel ==="
                         " 'inbox' && doc.state === 'delivered') { emit([doc.recipient,"
                         " doc.created_at], null); } }"},
    },
}


def scope_of(level: str, code: str) -> list:
    """The view key prefix for what an account at `level`/`code` may see."""
    if level == "city":
        return ["all", "*"]
    return [level, code]


class AlertStore:
    """Reads and writes of the alerts database."""

    def __init__(self, db: Database):
        self.db = db

    def ensure_design(self) -> None:
        """Install the alerts design document (idempotent)."""
        ensure_design_doc(self.db, ALERTS_DDOC)

    def get(self, alert_id: str) -> dict | None:
        """One alert, or None."""
        return self.db.get_or_none(alert_id)

    def update(self, doc_id: str, change: Callable[[dict], bool | None],
               attempts: int = 8) -> dict | None:
        """Read, change and write a document, re-reading on conflict; `change` returning False
        means "nothing to do". Returns the stored document, or None when it does not exist
        (Database.update does the reading, writing and re-reading)."""
        def apply(doc: dict | None) -> dict | None:
            return None if doc is None or change(doc) is False else doc
        return self.db.update(doc_id, apply, attempts=attempts)

    def _view_docs(self, view: str, **params) -> list[dict]:
        try:
            rows = self.db.view("alerts", view, include_docs=True, **params)["rows"]
        except NotFound:  # a fresh database: install the views once, then ask again
            self.ensure_design()
            rows = self.db.view("alerts", view, include_docs=True, **params)["rows"]
        return [row["doc"] for row in rows if row.get("doc")]

    def listed(self, scope: list, state: str | None, limit: int, skip: int) -> list[dict]:
        """Alerts in a scope, newest first, optionally of one state."""
        head = [*scope, state or "*"]
        return self._view_docs("by_scope", startkey=[*head, {}], endkey=head, descending=True,
                               limit=limit, skip=skip)

    def scan(self, scope: list, state: str | None, batch: int = 500) -> Iterator[dict]:
        """Every alert in a scope, newest first, optionally of one state (read in batches)."""
        skip = 0
        while True:
            docs = self.listed(scope, state, batch, skip)
            yield from docs
            if len(docs) < batch:
                return
            skip += batch

    def state_counts(self, scope: list) -> dict[str, int]:
        """How many alerts of each state a scope holds."""
        params = {"startkey": scope, "endkey": [*scope, {}], "group_level": 3}
        try:
            rows = self.db.view("alerts", "scope_counts", **params)["rows"]
        except NotFound:
            self.ensure_design()
            rows = self.db.view("alerts", "scope_counts", **params)["rows"]
        return {row["key"][2]: row["value"] for row in rows}

    def in_scope(self, scope: list, since: str | None = None) -> list[dict]:
        """Every alert in a scope received since `since` (ISO time), oldest first."""
        head = [*scope, "*"]
        return self._view_docs("by_scope", startkey=[*head, since or ""], endkey=[*head, {}])

    def active(self, batch: int = 500) -> Iterator[dict]:
        """Alerts not yet resolved, oldest first."""
        skip = 0
        while True:
            docs = self._view_docs("active", limit=batch, skip=skip)
            yield from docs
            if len(docs) < batch:
                return
            skip += batch

    def due_deliveries(self, now_iso: str, limit: int) -> list[dict]:
        """Pending deliveries whose next attempt is due, oldest first."""
        return self._view_docs("pending_deliveries", endkey=now_iso, limit=limit)

    def dead_deliveries(self, scope: list, limit: int, skip: int) -> list[dict]:
        """Deliveries that gave up, newest first."""
        return self._view_docs("dead_deliveries", startkey=[*scope, {}], endkey=scope,
                               descending=True, limit=limit, skip=skip)

    def inbox(self, username: str, limit: int) -> list[dict]:
        """An official's inbox: delivered inbox items, newest first."""
        return self._view_docs("inbox", startkey=[username, {}], endkey=[username],
                               descending=True, limit=limit)

    def deliveries_of(self, alert_id: str) -> list[dict]:
        """Every delivery of one alert."""
        return list(self.db.docs_with_prefix(f"delivery:{alert_id}:"))

    def case_notes_of(self, alert_id: str) -> list[dict]:
        """Case events officials recorded on one alert."""
        return list(self.db.docs_with_prefix(f"alert_event:{alert_id}:"))
