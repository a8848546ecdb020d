"""Deciding duplicate and near-duplicate household tasks: the same household recorded twice is
merged (nothing lost: members, phones and notes united, every other field kept where the kept
record has none, the merged-away record archived whole before it is removed), or the records are
different households and the task is dismissed with a reason. Both are audited and close the task.
"""
from __future__ import annotations

import copy
import time

from models import hlc
from models.household import STAMPED_FIELDS, household_schema
from models.household_merge import canonical, get_path, latest_stamp, set_value
from models.validation import describe_errors
from sync.clock import utc_now
from sync.couch.client import NotFound
from sync.gateway.audit import AuditTrail
from sync.reconcile.pipeline import OFFICE_NODE, ReconciliationDesk, ReviewError

DUPLICATE_KINDS = ("duplicate_household", "near_duplicate_household")
UNITED = ("members", "phones")


def _open_duplicate_task(desk: ReconciliationDesk, task_id: str) -> dict:
    task = desk.review_db.get_or_none(task_id)
    if task is None or task.get("type") != "review_task":
        raise ReviewError(404, "review_task_unknown", task=task_id)
    if task.get("kind") not in DUPLICATE_KINDS:
        raise ReviewError(409, "review_task_not_decidable")
    if task.get("state") != "open":
        raise ReviewError(409, "review_task_closed", state=task.get("state"))
    return task


def _close(desk: ReconciliationDesk, task_id: str, state: str, username: str,
           decision: dict) -> dict:
    def closed(current: dict | None) -> dict:
        if current is None:
            raise NotFound(404, "not_found", "deleted", "GET", task_id)
        current.update(state=state, decided_at=utc_now(), decided_by=username, decision=decision)
        return current
    return desk.review_db.update(task_id, closed, attempts=5)


def dismiss_duplicate(desk: ReconciliationDesk, task_id: str, username: str,
                      reason: str) -> dict:
    """Not the same household: close the task with the reason (it stays closed)."""
    task = _open_duplicate_task(desk, task_id)
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(422, "review_reason_required")
    decided = _close(desk, task_id, "dismissed", username, {"action": "dismiss",
                                                            "reason": reason[:500]})
    AuditTrail(desk.couch.database(desk.names.audit)).record_office_write(
        task.get("village_code") or (task.get("villages") or ["-"])[0], username, task_id,
        decided["_rev"], {"review_task": task_id, "action": "dismiss_duplicate",
                          "reason": reason[:500]})
    return decided


def united(kept: list, other: list) -> list:
    """`kept` followed by what `other` holds that `kept` does not (compared as JSON)."""
    seen = {canonical(value) for value in kept}
    return [*kept, *[value for value in other if canonical(value) not in seen]]


def merged_household(kept: dict, other: dict) -> tuple[dict, list[str]]:
    """The kept household with what the other adds, and the paths that changed."""
    merged, changed = copy.deepcopy(kept), []
    for path in STAMPED_FIELDS:
        mine, theirs = get_path(kept, path), get_path(other, path)
        if path in UNITED and isinstance(mine, list) and isinstance(theirs, list):
            value = united(mine, theirs)
        elif path == "notes" and theirs and theirs != mine:
            value = "；".join(part for part in (mine, theirs) if part)
        elif mine in (None, "", []) and theirs not in (None, "", []):
            value = theirs
        else:
            continue
        if canonical(value) != canonical(mine):
            set_value(merged, path, value)
            changed.append(path)
    return merged, changed


def merge_duplicate(desk: ReconciliationDesk, task_id: str, username: str, keep: str) -> dict:
    """The same household: keep one record (`<village>/<household id>` or the household id),
    merge the others into it and remove them once archived."""
    task = _open_duplicate_task(desk, task_id)
    listed = {f"{h['village_code']}/{h['household_id']}": h for h in task.get("households") or []}
    chosen = next((member for member, h in listed.items()
                   if keep in (member, h["household_id"])), None)
    if chosen is None or len(listed) < 2:
        raise ReviewError(400, "review_keep_invalid", keep=str(keep)[:80])
    kept_ref = listed[chosen]
    kept_db = desk.couch.database(desk.names.village(kept_ref["village_code"]))
    others = [(ref, desk.couch.database(desk.names.village(ref["village_code"])))
              for member, ref in listed.items() if member != chosen]
    bodies = [(ref, db, db.get_or_none(ref["household_id"])) for ref, db in others]
    audit = AuditTrail(desk.couch.database(desk.names.audit))
    archives = []
    for ref, _, body in bodies:
        if body is None:
            continue
        archive = {"_id": f"merge_archive:{ref['household_id']}:{body['_rev']}",
                   "type": "merge_archive", "schema_version": 1, "review_task_id": task_id,
                   "village_code": ref["village_code"], "household_id": ref["household_id"],
                   "merged_into": kept_ref["household_id"], "body": body,
                   "archived_by": username, "archived_at": utc_now()}
        desk.review_db.create_doc(archive)  # a retry finds it written: same id
        archives.append(archive["_id"])

    def merged(current: dict | None) -> dict:
        if current is None:
            raise NotFound(404, "not_found", "deleted", "GET", kept_ref["household_id"])
        result = current
        for _, _, body in bodies:
            if body is not None:
                result, paths = merged_household(result, body)
                stamps = result.setdefault("field_stamps", {})
                for path in paths:
                    stamps[path] = hlc.tick(int(time.time() * 1000), latest_stamp(result),
                                            OFFICE_NODE)
        problems = describe_errors(household_schema.validate(result))
        if problems:
            raise ReviewError(422, "validation_failed", problems)
        return result
    written = kept_db.update(kept_ref["household_id"], merged, attempts=5)
    audit.record_office_write(kept_ref["village_code"], username, kept_ref["household_id"],
                              written["_rev"], {"review_task": task_id, "action": "merge_kept",
                                                "archives": archives})
    removed = []
    for ref, db, body in bodies:
        if body is None:
            continue
        tombstone = {"_id": body["_id"], "_rev": body["_rev"], "_deleted": True,
                     "type": "household", "village_code": ref["village_code"],
                     "merged_into": kept_ref["household_id"]}
        rev = db.put(tombstone)
        audit.record_office_write(ref["village_code"], username, body["_id"], str(rev),
                                  {"review_task": task_id, "action": "merge_removed",
                                   "merged_into": kept_ref["household_id"]})
        removed.append(f"{ref['village_code']}/{ref['household_id']}")
    decision = {"action": "merge", "kept": chosen, "kept_rev": written["_rev"],
                "removed": removed, "archives": archives}
    for sibling in desk.review_db.docs_with_prefix("review:"):  # the same pair, another number
        members = {f"{h['village_code']}/{h['household_id']}"
                   for h in sibling.get("households") or []}
        if (sibling["_id"] != task_id and sibling.get("kind") in DUPLICATE_KINDS
                and sibling.get("state") == "open" and members and members <= set(listed)):
            _close(desk, sibling["_id"], "merged", username, {**decision, "via": task_id})
    return _close(desk, task_id, "merged", username, decision)
