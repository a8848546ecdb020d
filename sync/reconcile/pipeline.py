"""Reconciliation for the central office, in one place: conflicts, central view, duplicates.

The worker drives it through the village feed (consumer `reconcile`): for each change of a
device document, first resolve the document's conflicts (sync/reconcile/conflicts.py), then apply it to
the central view (sync/reconcile/central_view.py), which keeps the
duplicate indexes (sync/reconcile/duplicates.py).
"""
from __future__ import annotations

import logging
import time
from functools import cached_property
from typing import Callable

from models import hlc
from models.duplicates import hashing_key
from models.household import household_schema
from models.household_merge import latest_stamp, set_value
from models.validation import describe_errors
from sync.cluster.server_conflicts import ServerConflicts, default_merges
from sync.reconcile.central_view import CentralView, merge_entries
from sync.gateway.audit import AuditTrail
from sync.reconcile.conflicts import ConflictResolver, ConflictTransition
from sync.reconcile.disagreement_feedback import settle_disagreement_feedback
from sync.couch.client import CouchServer, Database, NotFound
from sync.clock import utc_now
from sync.directory.store import Directory
from sync.reconcile.duplicates import DuplicateIndex
from sync.couch.names import DatabaseNames
from sync.directory.provisioning import ensure_village_database
from sync.feeds.village_feed import VillageFeed

log = logging.getLogger("fieldsync.reconciliation")
CONSUMER = "reconcile"
MISSING_VALUE = object()  # "no edited value given" (None is a value: it clears a field)


class ReconciliationDesk:
    """The reconciliation parts, wired from a CouchDB server, database names and the secret key."""

    def __init__(self, couch: CouchServer, names: DatabaseNames, secret_key: str,
                 full_pass_s: float = 1800.0):
        self.couch, self.names, self.full_pass_s = couch, names, full_pass_s
        self._key = hashing_key(secret_key)

    @property
    def central_db(self) -> Database:
        return self.couch.database(self.names.central)

    @property
    def review_db(self) -> Database:
        return self.couch.database(self.names.review)

    @cached_property
    def resolver(self) -> ConflictResolver:
        return ConflictResolver(self.couch, self.names)

    @cached_property
    def central_view(self) -> CentralView:
        return CentralView(self.central_db, DuplicateIndex(self.central_db, self.review_db),
                           self._key)

    @cached_property
    def feed(self) -> VillageFeed:
        """The village feed of consumer `reconcile`: conflicts first, then the central view."""
        directory = Directory(self.couch.database(self.names.directory))
        return VillageFeed(self.couch, self.names, directory,
                           self.couch.database(self.names.state), CONSUMER,
                           [ConflictTransition(self.resolver), self.central_view], batch=500,
                           parallel=4, full_pass_s=self.full_pass_s)

    def run(self, max_items: int | None = None, max_seconds: float | None = None,
            stop: Callable[[], bool] | None = None) -> int:
        """Reconcile what changed in every village since the stored checkpoints (until nothing
        is left, or a limit: items, seconds, `stop()`)."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        handled = self.feed.sweep(max_items=max_items, deadline=deadline, stop=stop)
        # what two of our writes left in conflict on a cluster (201 + 202), merged at once
        self.server_conflicts.sweep([self.names.central, self.names.review])
        return handled

    @cached_property
    def server_conflicts(self) -> ServerConflicts:
        """The sweeper of the central and review databases, with the central view's merges."""
        merges = default_merges()
        merges.update(central_household=merge_entries, central_case=merge_entries,
                      central_duplicate_index=self.central_view.duplicates.merge_index)
        return ServerConflicts(self.couch, self.names, merges)

    def ensure_village_designs(self) -> int:
        """Bring every known village's design document up to date (the conflicts view)."""
        updated = 0
        for code in self.feed.villages():
            updated += bool(ensure_village_database(self.couch, self.names, code))
        if updated:
            log.info("updated the design documents of %d villages", updated)
        return updated


class ReviewError(Exception):
    """A review decision that cannot be made; `code` is a message code."""

    def __init__(self, status: int, code: str, details: list | None = None, /, **params: object):
        super().__init__(code)
        self.status, self.code, self.details, self.params = status, code, details or [], params


OFFICE_NODE = "central"  # the clock node of edits made at the central office


def decide_household_task(desk: ReconciliationDesk, task_id: str, username: str,
                          pick: int | None = None, value: object = MISSING_VALUE) -> dict:
    """Settle a household disagreement: write the chosen or edited value as a new, freshly
    stamped revision of the household (it syncs back to devices like any edit)."""
    task = desk.review_db.get_or_none(task_id)
    if task is None or task.get("type") != "review_task":
        raise ReviewError(404, "review_task_unknown", task=task_id)
    if task.get("kind") != "household_disagreement":
        raise ReviewError(409, "review_task_not_decidable")
    if task.get("state") != "open":
        raise ReviewError(409, "review_task_closed", state=task.get("state"))
    candidates = task.get("candidates") or []
    if (pick is None) == (value is MISSING_VALUE):
        raise ReviewError(400, "review_pick_invalid")
    if pick is not None:
        if not isinstance(pick, int) or isinstance(pick, bool) or not 0 <= pick < len(candidates):
            raise ReviewError(400, "review_pick_invalid")
        value = candidates[pick]["value"]
    village_db = desk.couch.database(desk.names.village(task["village_code"]))
    doc_id, path = task["subject_ids"][0], task["field"]
    def decided(household: dict | None) -> dict:
        if household is None:
            raise NotFound(404, "not_found", "deleted", "GET", doc_id)
        set_value(household, path, value)
        stamps = household.setdefault("field_stamps", {})
        stamps[path] = hlc.tick(int(time.time() * 1000), latest_stamp(household), OFFICE_NODE)
        problems = describe_errors(household_schema.validate(household))
        if problems:
            raise ReviewError(422, "validation_failed", problems)
        return household
    household = village_db.update(doc_id, decided, attempts=5)
    rev = household["_rev"]
    decision = {"field": path, "value": value, "pick": pick, "edited": pick is None, "rev": rev,
                "stamp": household["field_stamps"][path]}
    AuditTrail(desk.couch.database(desk.names.audit)).record_office_write(
        task["village_code"], username, doc_id, rev, {"review_task": task_id, **decision})

    def closed(current: dict | None) -> dict:
        if current is None:
            raise NotFound(404, "not_found", "deleted", "GET", task_id)
        current.update(state="decided", decided_at=utc_now(), decided_by=username,
                       decision=decision)
        return current
    closed_task = desk.review_db.update(task_id, closed, attempts=5)
    settle_disagreement_feedback(village_db, doc_id, task_id, value, closed_task["decided_at"])
    return closed_task


def search_households(desk: ReconciliationDesk, within: str, query: str | None = None,
                      status: str | None = None) -> list[dict]:
    """Households of the central view under jurisdiction prefix `within`, matching a name part,
    or a full identity number (compared by keyed hash: the number itself is never stored)."""
    from models.duplicates import id_hash
    from models.identity import id_number_problem, normalise_id_number
    query = (query or "").strip()
    wanted_hash = None
    if query and id_number_problem(normalise_id_number(query)) is None:
        wanted_hash = id_hash(desk._key, query)
    found = []
    for entry in desk.central_db.docs_with_prefix(f"hh:{within}"):
        if entry.get("deleted") or (status and entry.get("poverty_status") != status):
            continue
        if wanted_hash is not None:
            if wanted_hash not in (entry.get("id_hashes") or {}):
                continue
        elif query:
            names = [entry.get("head", {}).get("name") or ""] + [
                m.get("name") or "" for m in entry.get("members", [])]
            if not any(query in name for name in names):
                continue
        found.append({k: v for k, v in entry.items() if k not in ("_rev", "id_hashes", "near_key")})
    return found
