"""Duplicate households across the central view: shared identity numbers, near-duplicates.

Index documents in the central database group households by a keyed hash: `idn:<hash>` by
identity number (every member's, any village), `nd:<hash>` by (town, head's name, birth date).
When a group holds two or more households a review task is opened
(`review:duplicate_id:<hash prefix>`, `review:near_duplicate:<hash prefix>`); nothing is ever
merged automatically. Index documents are read and written a page of changes at a time, only
where a household's listing changes; updates are idempotent and retried on 409, so a re-sent
document, a replayed change or two workers racing never add anything twice. On a cluster two
pages creating one index at once may both be accepted (201 + 202) and leave it in conflict: the
worker's sweeper (sync/cluster/server_conflicts.py) merges it with `merge_index`.

(A CouchDB view over the central entries would spare the index documents; measured on
pouchdb-server, its indexing cost twice their writes: docs/performance.md.)
"""
from __future__ import annotations

import logging

from models.doc_ids import review_task_id
from models.household_merge import revision_order
from sync.couch.client import Database
from sync.clock import utc_now

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
        self.reindex_many([(village, household_id, old, new)])

    def reindex_many(self, moves: list[tuple[str, str, dict | None, dict | None]]) -> None:
        """Reindex many households at once: one read and one write of the index documents
        they touch (a 409 re-reads just the documents it hit)."""
        wanted: dict[str, dict[str, dict | None]] = {}
        for village, household_id, old, new in moves:
            for index_id, member, entry in _moves(village, household_id, old, new):
                wanted.setdefault(index_id, {})[member] = entry
        wanted = self._create_new(wanted)
        for _ in range(MAX_ATTEMPTS):
            if not wanted:
                return
            rows = self.central_db.all_docs(keys=sorted(wanted), include_docs=True)["rows"]
            changed, groups = [], {}
            for row in rows:
                doc = row.get("doc") or _index_doc(row["key"], {})
                households = doc["households"]
                before = dict(households)
                for member, entry in wanted[row["key"]].items():
                    if entry is None:
                        households.pop(member, None)
                    else:
                        households[member] = entry
                if households != before:
                    changed.append(doc)
                if len(households) >= 2:
                    groups[row["key"]] = households
            retry = self._write(changed)
            for index_id, households in groups.items():
                if index_id not in retry:
                    self._ensure_task(index_id, households)
            wanted = {index_id: wanted[index_id] for index_id in retry}
        raise RuntimeError(f"duplicate indexes {sorted(wanted)} kept changing")

    def _create_new(self, wanted: dict[str, dict[str, dict | None]]) -> dict:
        """Most identity numbers are seen for the first time: create their index documents
        without reading first; returns what is left (documents that exist: a 409)."""
        fresh = {index_id: members for index_id, members in wanted.items()
                 if all(entry is not None for entry in members.values())}
        if not fresh:
            return wanted
        created = set(fresh) - self._write([_index_doc(index_id, members)
                                            for index_id, members in sorted(fresh.items())])
        for index_id in sorted(created):
            if len(fresh[index_id]) >= 2:  # two households new in one page
                self._ensure_task(index_id, fresh[index_id])
        return {index_id: members for index_id, members in wanted.items()
                if index_id not in created}

    def _write(self, docs: list[dict]) -> set[str]:
        """Write index documents; returns the ids not written: a 409, or no row that says it
        was (rows are matched by id: pouchdb-server reorders them under concurrent writes).
        Any other error raises."""
        results = self.central_db.bulk_docs(docs) if docs else []
        failed = [r for r in results if r.get("error") and r["error"] != "conflict"]
        if failed:
            raise RuntimeError(f"duplicate indexes not written: {failed}")
        written = {r.get("id") for r in results if r.get("rev") and not r.get("error")}
        return {doc["_id"] for doc in docs} - written

    def _ensure_task(self, index_id: str, households: dict) -> None:
        kind = INDEXES[index_id.split(":", 1)[0]][1]
        listed = [households[member] for member in sorted(households)]
        villages = sorted({h["village_code"] for h in listed})
        wrote = [False]

        def listing(task: dict | None) -> dict | None:
            wrote[0] = False
            if task is not None and (task.get("state") != "open" or task["households"] == listed):
                return None  # decided already, or already says this
            wrote[0] = True
            task = task or {"_id": task_id_for(index_id), "type": "review_task",
                            "schema_version": 1, "kind": kind, "state": "open",
                            "created_at": utc_now(), "index_id": index_id}
            task.update(households=listed, villages=villages,
                        subject_ids=sorted({h["household_id"] for h in listed}),
                        village_code=villages[0] if len(villages) == 1 else None,
                        cross_village=len(villages) > 1)
            return task
        task = self.review_db.update(task_id_for(index_id), listing, attempts=MAX_ATTEMPTS)
        if wrote[0]:
            log.info("%s: %d households (%d villages) to review", task["_id"], len(listed),
                     len(villages))

    def merge_index(self, leaves: list[dict]) -> dict:
        """A duplicate index a cluster left in conflict (two villages' pages created it at
        once, 201 + 202): the union of its leaves' households, recomputed against the central
        view (a member whose entry no longer lists this hash leaves the group), and the review
        task of the group opened if it now holds two households."""
        index_id = leaves[0]["_id"]
        members: dict[str, dict] = {}
        for leaf in sorted(leaves, key=lambda doc: doc.get("_rev", "")):
            members.update(leaf.get("households") or {})
        keys = {member: "hh:" + member.replace("/", ":", 1) for member in members}
        rows = self.central_db.all_docs(keys=sorted(keys.values()), include_docs=True)["rows"]
        entries = {row["key"]: row.get("doc") for row in rows}
        prefix, _, digest = index_id.partition(":")
        for member, key in keys.items():
            entry = entries.get(key)
            if entry is None:  # indexes are written before the entry: keep it
                continue
            listed = digest in (entry.get("id_hashes") or {}) if prefix == "idn" \
                else entry.get("near_key") == digest
            if entry.get("deleted") or not listed:
                del members[member]
        if len(members) >= 2:
            self._ensure_task(index_id, members)
        return {**max(leaves, key=lambda doc: revision_order(doc.get("_rev", ""))),
                "households": members}


def _index_doc(index_id: str, households: dict) -> dict:
    """A new index document: the households of one group, by `<village>/<household id>`."""
    return {"_id": index_id, "type": "central_duplicate_index", "schema_version": 1,
            "households": households}


def _moves(village: str, household_id: str, old: dict | None,
           new: dict | None) -> list[tuple[str, str, dict | None]]:
    """(index id, member, entry or None to leave) where a household's listing in an index
    changes; a listing that stays the same costs nothing."""
    member = f"{village}/{household_id}"

    def listings(entry: dict | None) -> dict[str, dict]:
        if not entry or entry.get("deleted"):
            return {}
        found = {f"idn:{digest}": {"village_code": village, "household_id": household_id,
                                   "id_masked": masked}
                 for digest, masked in (entry.get("id_hashes") or {}).items()}
        if entry.get("near_key"):
            found[f"nd:{entry['near_key']}"] = {"village_code": village,
                                                "household_id": household_id,
                                                "head_name": (entry.get("head") or {}).get("name")}
        return found

    before, after = listings(old), listings(new)
    return [(index_id, member, after.get(index_id)) for index_id in sorted(set(before) | set(after))
            if before.get(index_id) != after.get(index_id)]
