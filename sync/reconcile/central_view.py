"""The central view: a reconciled read model of every village, kept up to date from changes.

One document per household (`hh:<village>:<household id>`: its current state with identity
numbers masked, keyed hashes for duplicate finding, failing indicators and the latest
verification) and per mediation case (`case:<village>:<request id>`: the request and the state
its events fold to). Changes arrive through the village feed (sync/feeds/village_feed.py) from a
stored checkpoint, so the work done is proportional to what changed. Applying a change is
idempotent: each entry keeps the revisions it was built from and is written only when its
content changes, so a change replayed after a crash is a no-op and nothing is counted twice.
"""
from __future__ import annotations

import copy
import logging
from datetime import datetime, timezone

from models.case_state import fold
from models.doc_ids import type_of_id
from models.duplicates import hashed_identities, near_duplicate_key, town_of
from models.household import INDICATORS
from models.household_merge import revision_order
from models.identity import mask_id_number, mask_phone
from sync.couch.client import Database
from sync.reconcile.duplicates import DuplicateIndex

log = logging.getLogger("fieldsync.central_view")
VIEWED_TYPES = frozenset({"household", "verification_visit", "mediation_request", "case_event"})
MAX_ATTEMPTS = 6


def household_key(village: str, household_id: str) -> str:
    """The central view entry of one household."""
    return f"hh:{village}:{household_id}"


def case_key(village: str, request_id: str) -> str:
    """The central view entry of one mediation case."""
    return f"case:{village}:{request_id}"


def _masked(value: object) -> str | None:
    return mask_id_number(value) if isinstance(value, str) else None


def _moment(recorded_at: object) -> str:
    try:
        moment = datetime.fromisoformat(str(recorded_at))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def _failing(indicators: object) -> list[str]:
    if not isinstance(indicators, dict):
        return []
    return [name for name in INDICATORS if indicators.get(name) is False]


def _entry(doc_id: str, village: str, kind: str) -> dict:
    return {"_id": doc_id, "type": kind, "schema_version": 1, "village_code": village,
            "town_code": town_of(village), "county_code": village[:6] + "000000"}


class CentralView:
    """Applies village changes to the central database."""

    def __init__(self, central_db: Database, duplicates: DuplicateIndex, hashing_key: bytes):
        self.db, self.duplicates, self.key = central_db, duplicates, hashing_key

    # --- the feed's side ------------------------------------------------------------------------
    name = "central_view"

    def filter(self, change: dict) -> bool:
        """Changes of the document types the central view shows."""
        return type_of_id(change.get("id", "")) in VIEWED_TYPES

    def on_match(self, change: dict, village: str) -> None:
        """Apply one change (with its document) to the view."""
        self.apply(village, [change])

    def on_batch(self, changes: list[dict], village: str) -> None:
        """Apply a page of changes: one read and one write of the view entries they touch."""
        self.apply(village, changes)

    # --- applying -------------------------------------------------------------------------------
    def apply(self, village: str, changes: list[dict]) -> int:
        """Apply changes of one village; returns how many view documents were written."""
        for attempt in range(MAX_ATTEMPTS):
            keys = sorted({k for change in changes for k in [self._target(village, change)] if k})
            if not keys:
                return 0
            # on the first attempt the entries of households and requests at their first
            # revision are taken to be new and written without a read (a 409 means one was
            # there after all: the next attempt reads every entry; on a cluster a racing write
            # can instead be accepted as well, 202, and the entry left in conflict: the
            # worker's sweeper recomputes it with merge_entries)
            fresh = self._first_revisions(village, changes) if attempt == 0 else set()
            read = [key for key in keys if key not in fresh]
            rows = self.db.all_docs(keys=read, include_docs=True)["rows"] if read else []
            current = {key: None for key in fresh}
            current.update((row["key"], row.get("doc")) for row in rows)
            updated = {key: copy.deepcopy(doc) if doc else None for key, doc in current.items()}
            for change in changes:
                key = self._target(village, change)
                if key:
                    updated[key] = self._apply_one(village, change, updated.get(key) or
                                                   _entry(key, village, self._kind(change)))
            changed = [doc for key, doc in updated.items() if doc is not None
                       and _content(doc) != _content(current.get(key))]
            # indexes first: a crash before the view write replays them
            self.duplicates.reindex_many([
                (village, doc["household_id"], current.get(doc["_id"]), doc)
                for doc in changed if doc["type"] == "central_household"])
            if not changed:
                return 0
            results = self.db.bulk_docs(changed)
            failed = [r for r in results if r.get("error") and r["error"] != "conflict"]
            if failed:
                raise RuntimeError(f"central view not written: {failed}")
            # by id, not position (pouchdb-server reorders rows); a 409 or a missing row: again
            written = {r.get("id") for r in results if r.get("rev") and not r.get("error")}
            if written >= {doc["_id"] for doc in changed}:
                return len(changed)
        raise RuntimeError(f"central view entries of village {village} kept changing")

    def _first_revisions(self, village: str, changes: list[dict]) -> set[str]:
        """Entries of households and mediation requests that arrive at their first revision
        (a village's first upload is mostly these): most likely not in the view yet."""
        fresh = set()
        for change in changes:
            doc = change.get("doc") or {}
            if (type_of_id(change.get("id", "")) in ("household", "mediation_request")
                    and str(doc.get("_rev", "")).startswith("1-") and not change.get("deleted")
                    and not doc.get("_conflicts")):
                fresh.add(self._target(village, change))
        return {key for key in fresh if key}

    @staticmethod
    def _kind(change: dict) -> str:
        doc_type = type_of_id(change["id"])
        return "central_household" if doc_type in ("household", "verification_visit") \
            else "central_case"

    @staticmethod
    def _target(village: str, change: dict) -> str | None:
        doc_type, doc = type_of_id(change.get("id", "")), change.get("doc") or {}
        if doc_type == "household":
            return household_key(village, change["id"])
        if doc_type == "verification_visit" and isinstance(doc.get("household_id"), str):
            return household_key(village, doc["household_id"])
        if doc_type == "mediation_request":
            return case_key(village, change["id"])
        if doc_type == "case_event" and isinstance(doc.get("request_id"), str):
            return case_key(village, doc["request_id"])
        return None

    def _apply_one(self, village: str, change: dict, entry: dict) -> dict:
        doc_type, doc = type_of_id(change["id"]), change.get("doc") or {}
        deleted = bool(change.get("deleted") or doc.get("_deleted"))
        if doc_type == "household":
            return self._household(village, change["id"], doc, deleted, entry)
        if doc_type == "verification_visit":
            return _visit(change["id"], doc, deleted, entry)
        if doc_type == "mediation_request":
            return _request(change["id"], doc, deleted, entry)
        return _case_event(change["id"], doc, deleted, entry)

    def _household(self, village: str, doc_id: str, doc: dict, deleted: bool,
                   entry: dict) -> dict:
        entry["household_id"] = doc_id
        if deleted:
            entry.update(deleted=True, source_rev=doc.get("_rev"), id_hashes={}, near_key=None)
            return entry
        head = doc.get("head") if isinstance(doc.get("head"), dict) else {}
        members = doc.get("members") if isinstance(doc.get("members"), list) else []
        entry.update(
            deleted=False, source_rev=doc.get("_rev"),
            head={"name": head.get("name"), "id_masked": _masked(head.get("id_number"))},
            members=[{"name": m.get("name"), "relation": m.get("relation"), "age": m.get("age"),
                      "id_masked": _masked(m.get("id_number"))}
                     for m in members if isinstance(m, dict)],
            member_count=len(members), poverty_status=doc.get("poverty_status"),
            income_per_capita_fen=doc.get("income_per_capita_fen"),
            indicators=doc.get("indicators") if isinstance(doc.get("indicators"), dict) else {},
            failing_indicators=_failing(doc.get("indicators")),
            id_hashes=hashed_identities(self.key, doc),
            near_key=near_duplicate_key(self.key, village, head.get("name"),
                                        head.get("id_number")))
        entry.setdefault("latest_verification", None)
        return entry


def merge_entries(leaves: list[dict]) -> dict:
    """A central view entry a cluster left in conflict, recomputed from its leaves: the
    household or request as of its latest source revision, the latest verification by the
    device's time, the union of the case's events (each at its latest revision) and the case
    state folded again from them. The same whatever order the leaves come in."""
    def source(leaf: dict) -> tuple:
        return (revision_order(str(leaf.get("source_rev") or leaf.get("request_rev") or "")),
                revision_order(leaf.get("_rev", "")))
    merged = copy.deepcopy(max(leaves, key=source))
    visits = [leaf["latest_verification"] for leaf in leaves if leaf.get("latest_verification")]
    if visits:
        merged["latest_verification"] = max(visits, key=lambda v: (v["order"], v.get("rev") or ""))
    if merged.get("type") == "central_case":
        events: dict[str, dict] = {}
        for leaf in leaves:
            for event_id, event in (leaf.get("events") or {}).items():
                held = events.get(event_id)
                if held is None or revision_order(str(event.get("_rev"))) > \
                        revision_order(str(held.get("_rev"))):
                    events[event_id] = event
        merged["events"] = events
        merged["state"] = _state(events)
    return merged


def _content(doc: dict | None) -> dict | None:
    return None if doc is None else {k: v for k, v in doc.items() if k != "_rev"}


def _visit(doc_id: str, doc: dict, deleted: bool, entry: dict) -> dict:
    entry.setdefault("household_id", doc.get("household_id"))
    entry.setdefault("latest_verification", None)
    latest = entry["latest_verification"]
    summary = {"id": doc_id, "rev": doc.get("_rev"), "recorded_at": doc.get("recorded_at"),
               "order": [_moment(doc.get("recorded_at")), doc_id],
               "verdict": doc.get("verdict"), "reasons": doc.get("reasons") or [],
               "cadre": doc.get("cadre"), "failing_indicators": _failing(doc.get("indicators"))}
    if deleted:
        if latest and latest["id"] == doc_id:
            entry["latest_verification"] = None
        return entry
    # the latest by the device's recorded time, then id: the same whatever order visits arrive
    if latest is None or latest["id"] == doc_id or summary["order"] >= latest["order"]:
        entry["latest_verification"] = summary
    return entry


def _request(doc_id: str, doc: dict, deleted: bool, entry: dict) -> dict:
    applicant = doc.get("applicant") if isinstance(doc.get("applicant"), dict) else {}
    source = doc.get("source") if isinstance(doc.get("source"), dict) else {}
    entry.update(request_id=doc_id, request_rev=doc.get("_rev"), deleted=deleted,
                 category=doc.get("category"), urgency=doc.get("urgency"),
                 recorded_at=doc.get("recorded_at"), channel=source.get("channel"),
                 applicant={"name": applicant.get("name"),
                            "phone_masked": mask_phone(applicant["phone"])
                            if isinstance(applicant.get("phone"), str) else None,
                            "id_masked": _masked(applicant.get("id_number"))})
    entry.setdefault("events", {})
    entry["state"] = _state(entry["events"])
    return entry


def _case_event(doc_id: str, doc: dict, deleted: bool, entry: dict) -> dict:
    entry.setdefault("request_id", doc.get("request_id"))
    events = entry.setdefault("events", {})
    if deleted:
        events.pop(doc_id, None)
    else:
        events[doc_id] = {"_id": doc_id, "_rev": doc.get("_rev"), "kind": doc.get("kind"),
                          "recorded_at": doc.get("recorded_at"), "mediator": doc.get("mediator"),
                          "referred_to": doc.get("referred_to")}
    entry["state"] = _state(events)
    return entry


def _state(events: dict) -> dict:
    state = fold(list(events.values()))
    return {"stage": state.stage, "closed": state.closed, "event_count": state.event_count,
            "first_contacted_at": state.first_contacted_at, "mediator": state.mediator,
            "sessions": state.sessions, "outcomes": list(state.outcomes),
            "referred_to": list(state.referred_to),
            "conflicting_outcomes": state.conflicting_outcomes}
