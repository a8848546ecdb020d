"""Duplicate households across the central view: shared identity numbers, near-duplicates.

Index documents in the central database group households by a keyed hash: `idn:<hash>` by
identity number (any village), `nd:<hash>` by (town, head's name, birth date). When a group
holds two or more households a review task is opened (`review:duplicate_id:<hash prefix>`,
`review:near_duplicate:<hash prefix>`); nothing is ever merged automatically. Updates are
idempotent (a household already listed the same way is not written again) and retried on 409,
so a re-sent document, a replayed change or two workers racing never add anything twice.
"""
from __future__ import annotations

import logging

from models.doc_ids import review_task_id
from sync.couch import Conflict, Database
from sync.directory import utc_now

log = logging.getLogger("fieldsync.duplicates")
MAX_ATTEMPTS = 6
# index prefix -> (review task key, review task kind)
INDEXES = {"idn": ("duplicate_id", "duplicate_household"),
           "nd": ("near_duplicate", "near_duplicate_household")}


def task_id_for(index_id: str) -> str:
    """The review task about one duplicate group."""
    prefix, _, digest = index_id.partition(":")
    return review_task_id(INDEXES[prefix][0], digest[:16])


class DuplicateIndex:
    """Keeps the duplicate indexes and their review tasks in step with the central view."""

    def __init__(self, central_db: Database, review_db: Database):
        self.central_db, self.review_db = central_db, review_db

    def reindex(self, village: str, household_id: str, old: dict | None, new: dict | None) -> None:
        """Move a household between index groups after its central view entry changed."""
        member = f"{village}/{household_id}"
        old_ids = dict((old or {}).get("id_hashes") or {})
        new_ids = dict((new or {}).get("id_hashes") or {})
        for digest in sorted(set(old_ids) | set(new_ids)):
            entry = ({"village_code": village, "household_id": household_id,
                      "id_masked": new_ids[digest]} if digest in new_ids else None)
            self._update(f"idn:{digest}", member, entry)
        old_near, new_near = (old or {}).get("near_key"), (new or {}).get("near_key")
        for digest in sorted({k for k in (old_near, new_near) if k}):
            entry = ({"village_code": village, "household_id": household_id,
                      "head_name": (new.get("head") or {}).get("name")}
                     if digest == new_near else None)
            self._update(f"nd:{digest}", member, entry)

    def _update(self, index_id: str, member: str, entry: dict | None) -> None:
        for _ in range(MAX_ATTEMPTS):
            doc = self.central_db.get_or_none(index_id) or {
                "_id": index_id, "type": "central_duplicate_index", "schema_version": 1,
                "households": {}}
            if doc["households"].get(member) != entry:
                if entry is None:
                    doc["households"].pop(member, None)
                else:
                    doc["households"][member] = entry
                try:
                    self.central_db.put(doc)
                except Conflict:
                    continue
            if len(doc["households"]) >= 2:
                self._ensure_task(index_id, doc["households"])
            return
        raise RuntimeError(f"duplicate index {index_id} kept changing")

    def _ensure_task(self, index_id: str, households: dict) -> None:
        kind = INDEXES[index_id.split(":", 1)[0]][1]
        listed = [households[member] for member in sorted(households)]
        villages = sorted({h["village_code"] for h in listed})
        for _ in range(MAX_ATTEMPTS):
            task = self.review_db.get_or_none(task_id_for(index_id))
            if task is not None and (task.get("state") != "open" or task["households"] == listed):
                return
            task = task or {"_id": task_id_for(index_id), "type": "review_task",
                            "schema_version": 1, "kind": kind, "state": "open",
                            "created_at": utc_now(), "index_id": index_id}
            task.update(households=listed, villages=villages,
                        subject_ids=sorted({h["household_id"] for h in listed}),
                        village_code=villages[0] if len(villages) == 1 else None,
                        cross_village=len(villages) > 1)
            try:
                self.review_db.put(task)
                log.info("%s: %d households (%d villages) to review", task["_id"], len(listed),
                         len(villages))
                return
            except Conflict:
                continue
