"""Resolving conflicted documents in a village database, the same way whichever worker does it.

A household's live leaf revisions are merged field by field (models/household_merge.py) and the
merged body is written as a new revision on top of CouchDB's winning leaf; a written-once
document (visit, mediation request, case event) keeps its original, the lowest revision. Every
losing value is first archived in the review database under a deterministic id
(`conflict:<doc id>:<losing rev>[:<field>]`, with both revisions' full bodies and who wrote them
when, from the audit trail), disagreements open review tasks, and only then are the losing leaves
deleted so every device converges on one revision. Two workers racing: one gets a 409 on the
merged write, re-reads and finds nothing left to merge; archive ids make re-archiving a no-op.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from models.doc_ids import conflict_archive_id, review_task_id, type_of_id
from models.household_merge import META_KEYS, MergeResult, merge_households, revision_order
from sync.gateway.audit import AuditTrail
from sync.reconcile.disagreement_feedback import disagreement_feedback
from sync.couch.client import Conflict, CouchError, CouchServer, Database, NotFound
from sync.couch.design import CONFLICTS_VIEW
from sync.clock import utc_now
from sync.couch.names import DatabaseNames

log = logging.getLogger("fieldsync.conflicts")
MAX_ATTEMPTS = 5


@dataclass
class Resolution:
    """What resolving one document did."""
    doc_id: str
    winner_rev: str
    deleted_revs: list[str] = field(default_factory=list)
    archive_ids: list[str] = field(default_factory=list)
    review_task_ids: list[str] = field(default_factory=list)
    wrote_merge: bool = False


def revision_ancestry(leaf: dict) -> list[str]:
    """The revision ids of a leaf and its ancestors, newest first, from its `_revisions`."""
    history = leaf.get("_revisions") or {}
    start = history.get("start", 0)
    return [f"{start - offset}-{rev_id}" for offset, rev_id in enumerate(history.get("ids", []))]


def common_ancestor(leaves: list[dict]) -> str | None:
    """The latest revision every leaf descends from, or None when their histories do not meet."""
    shared = set(revision_ancestry(leaves[0]))
    for leaf in leaves[1:]:
        shared &= set(revision_ancestry(leaf))
    return max(shared, key=revision_order) if shared else None


def body(doc: dict) -> dict:
    """A revision without CouchDB's bookkeeping members."""
    return {k: v for k, v in doc.items() if k not in ("_revisions", "_conflicts")}


def _original_first(doc: dict) -> tuple:
    """A written-once document keeps what was written once: the lowest generation, then the
    lowest revision id."""
    return revision_order(doc["_rev"])


def _resolved_first(doc: dict) -> tuple:
    """Feedback the server wrote twice (two workers merging one household on a cluster, each
    with its own `created_at`): a leaf that says it was resolved is kept over one that does
    not, then the original."""
    return (doc.get("resolved_at") is None, *revision_order(doc["_rev"]))


# which leaf of a conflicted document is kept, by type (households are merged instead)
KEPT_FIRST: dict[str, Callable[[dict], tuple]] = {"feedback": _resolved_first}


def _data(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in META_KEYS or k == "field_stamps"}


class ConflictResolver:
    """Finds and resolves conflicted documents of village databases."""

    def __init__(self, couch: CouchServer, names: DatabaseNames):
        self.couch, self.names = couch, names

    @property
    def review_db(self) -> Database:
        return self.couch.database(self.names.review)

    def conflicted_ids(self, village: str) -> list[str]:
        """The ids of every conflicted document of a village (the design doc's conflicts view)."""
        ddoc, view = CONFLICTS_VIEW.split("/")
        rows = self.couch.database(self.names.village(village)).view(ddoc, view)["rows"]
        return [row["id"] for row in rows]

    def sweep(self, village: str) -> list[Resolution]:
        """Resolve every conflicted document of a village."""
        found = (self.resolve(village, doc_id) for doc_id in self.conflicted_ids(village))
        return [resolution for resolution in found if resolution is not None]

    def resolve(self, village: str, doc_id: str) -> Resolution | None:
        """Resolve one document's conflicts; None when it has none (any more)."""
        db = self.couch.database(self.names.village(village))
        for _ in range(MAX_ATTEMPTS):
            leaves = [row["ok"] for row in db.get(doc_id, open_revs="all", revs=True)
                      if isinstance(row.get("ok"), dict) and not row["ok"].get("_deleted")]
            if len(leaves) < 2:
                return None
            try:
                kind = type_of_id(doc_id) or leaves[0].get("type")
                if kind == "household":
                    return self._resolve_household(db, village, doc_id, leaves)
                return self._resolve_by_keeping(db, village, doc_id, leaves,
                                                KEPT_FIRST.get(kind, _original_first))
            except Conflict:
                log.info("%s of village %s changed while resolving; reading again", doc_id,
                         village)
        raise RuntimeError(f"could not resolve {doc_id} of village {village}: kept changing")

    # --- households ---------------------------------------------------------------------------
    def _ancestor(self, db: Database, leaves: list[dict]) -> dict | None:
        rev = common_ancestor(leaves)
        if rev is None:
            return None
        try:
            return db.get(leaves[0]["_id"], rev=rev)
        except (NotFound, CouchError):  # compacted away: every difference is a disagreement
            return None

    def _resolve_household(self, db: Database, village: str, doc_id: str,
                           leaves: list[dict]) -> Resolution:
        result = merge_households(leaves, self._ancestor(db, leaves))
        by_rev = {leaf["_rev"]: body(leaf) for leaf in leaves}
        authors = self._authors(doc_id, list(by_rev))
        now = utc_now()
        tasks = self._disagreement_tasks(village, doc_id, result, authors, now)
        archives = self._field_archives(village, doc_id, result, by_rev, authors, tasks, now)
        losers = [rev for rev in by_rev if rev != result.base_rev]
        archives += [self._revision_archive(village, doc_id, by_rev[rev], by_rev[result.base_rev],
                                            authors, now, merged=True) for rev in losers]
        self._write_new(self.review_db, archives + list(tasks.values()))
        # the phone whose value lost is told, in the village database it replicates
        self._write_new(db, [disagreement_feedback(village, doc_id, path, loser, result.winners[path],
                                                   authors.get(loser.rev), tasks[path]["_id"], now)
                             for path, field_losers in sorted(result.losers_by_field.items())
                             if path in tasks for loser in field_losers])
        resolution = Resolution(doc_id, result.base_rev, losers, [a["_id"] for a in archives],
                                sorted(task["_id"] for task in tasks.values()))
        base = by_rev[result.base_rev]
        if _data(result.merged) != _data(base):
            merged = {**result.merged, "_id": doc_id, "_rev": result.base_rev}
            resolution.winner_rev = db.put(merged)  # a 409 means: read again
            resolution.wrote_merge = True
        self._delete(db, doc_id, losers)
        log.info("merged %d revisions of %s (village %s): %d values archived, %d to review",
                 len(leaves), doc_id, village, len(archives), len(tasks))
        return resolution

    def _disagreement_tasks(self, village: str, doc_id: str, result: MergeResult,
                            authors: dict, now: str) -> dict[str, dict]:
        tasks = {}
        for path, candidates in sorted(result.disagreements.items()):
            winner = result.winners[path]
            task_id = review_task_id("household_disagreement",
                                     f"{doc_id}:{path}:{winner.stamp or winner.rev}")
            tasks[path] = {
                "_id": task_id, "type": "review_task", "schema_version": 1,
                "kind": "household_disagreement", "subject_ids": [doc_id],
                "village_code": village, "state": "open", "created_at": now, "field": path,
                "winner": {"rev": winner.rev, "stamp": winner.stamp},
                "candidates": [{"rev": c.rev, "value": c.value, "stamp": c.stamp,
                                "author": authors.get(c.rev)} for c in candidates]}
        return tasks

    def _field_archives(self, village: str, doc_id: str, result: MergeResult,
                        by_rev: dict, authors: dict, tasks: dict, now: str) -> list[dict]:
        archives = []
        for path, losers in sorted(result.losers_by_field.items()):
            winner = result.winners[path]
            for loser in losers:
                archives.append({
                    "_id": conflict_archive_id(doc_id, loser.rev, path),
                    "type": "conflict_archive", "schema_version": 1, "village_code": village,
                    "doc_id": doc_id, "losing_rev": loser.rev, "field": path,
                    "losing_value": loser.value, "losing_present": loser.present,
                    "losing_stamp": loser.stamp, "winning_rev": winner.rev,
                    "winning_value": winner.value, "winning_stamp": winner.stamp,
                    "losing_author": authors.get(loser.rev),
                    "winning_author": authors.get(winner.rev),
                    "losing_body": by_rev[loser.rev], "winning_body": by_rev[winner.rev],
                    "review_task_id": tasks[path]["_id"] if path in tasks else None,
                    "archived_at": now})
        return archives

    # --- every other document: one leaf is kept ---------------------------------------------
    def _resolve_by_keeping(self, db: Database, village: str, doc_id: str, leaves: list[dict],
                            kept_first: Callable[[dict], tuple]) -> Resolution:
        ordered = sorted((body(leaf) for leaf in leaves), key=kept_first)
        kept, losers = ordered[0], ordered[1:]
        authors = self._authors(doc_id, [d["_rev"] for d in ordered])
        now = utc_now()
        archives = [self._revision_archive(village, doc_id, loser, kept, authors, now)
                    for loser in losers]
        self._write_new(self.review_db, archives)
        self._delete(db, doc_id, [loser["_rev"] for loser in losers])
        log.info("kept revision %s of %s (village %s), archived %d", kept["_rev"], doc_id,
                 village, len(losers))
        return Resolution(doc_id, kept["_rev"], [d["_rev"] for d in losers],
                          [a["_id"] for a in archives])

    # --- shared ----------------------------------------------------------------------------------
    @staticmethod
    def _revision_archive(village: str, doc_id: str, losing: dict, winning: dict,
                          authors: dict, now: str, merged: bool = False) -> dict:
        return {"_id": conflict_archive_id(doc_id, losing["_rev"]), "type": "conflict_archive",
                "schema_version": 1, "village_code": village, "doc_id": doc_id,
                "losing_rev": losing["_rev"], "field": None, "winning_rev": winning["_rev"],
                "resolution": "merged" if merged else "original_kept",
                "losing_author": authors.get(losing["_rev"]),
                "winning_author": authors.get(winning["_rev"]),
                "losing_body": losing, "winning_body": winning, "archived_at": now}

    def _authors(self, doc_id: str, revs: list[str]) -> dict[str, dict]:
        """Who wrote each revision and when the server received it (the audit trail)."""
        found = AuditTrail(self.couch.database(self.names.audit)).receipts(doc_id, revs)
        unknown = {"username": None, "received_at": None, "device_id": None}
        return {rev: found.get(rev, unknown) for rev in revs}

    @staticmethod
    def _write_new(db: Database, docs: list[dict]) -> None:
        if not docs:
            return
        failed = [r for r in db.bulk_docs(docs) if r.get("error") and r["error"] != "conflict"]
        if failed:  # never delete a loser whose archive is not stored
            raise RuntimeError(f"archive documents not written to {db.name}: {failed}")

    @staticmethod
    def _delete(db: Database, doc_id: str, revs: list[str]) -> None:
        if not revs:
            return
        answer = db.bulk_docs([{"_id": doc_id, "_rev": rev, "_deleted": True} for rev in revs])
        failed = [r for r in answer if r.get("error") and r["error"] != "conflict"]
        if failed:
            raise RuntimeError(f"losing revisions of {doc_id} not deleted: {failed}")


class ConflictTransition:
    """The village feed's reaction that resolves conflicted documents as their changes pass."""
    name = "conflicts"
    # what devices write, and the feedback the server writes into a village database (two
    # workers merging one household on a cluster can each write it)
    TYPES = frozenset({"household", "verification_visit", "mediation_request", "case_event",
                       "feedback"})

    def __init__(self, resolver: ConflictResolver):
        self.resolver = resolver

    def filter(self, change: dict) -> bool:
        """Conflicted documents: the feed reads documents with `conflicts=true`, so a document
        without `_conflicts` has none. Any document but a design document is resolved (an
        unknown type keeps its original); without the document at hand, every change of a
        type that can conflict is looked at."""
        doc_id = change.get("id", "")
        if change.get("deleted") or doc_id.startswith("_design/"):
            return False
        doc = change.get("doc")
        if isinstance(doc, dict):
            return bool(doc.get("_conflicts"))
        return type_of_id(doc_id) in self.TYPES

    def on_match(self, change: dict, village: str) -> None:
        """Resolve the document's conflicts, if it has any."""
        self.resolver.resolve(village, change["id"])
