"""The conflict sweeper of the server databases: conflicts resolved like households are.

A cluster that accepts two writes of one id (201 + 202) leaves the document in conflict, and
CouchDB's winner may be either revision. The worker looks for conflicted documents in every
server database (a `conflicts` view in `_design/server_conflicts`, installed on first use) and
resolves each one: every live leaf is read (`open_revs=all`), the merge of the document's type
(sync/cluster/merges.py; the central view and duplicate indexes recompute theirs) gives one
body, the losing leaves are archived in the review database
(`server_conflict:<database>:<doc id>:<losing rev>`, the full body) and only then deleted, and
the merged body is written on top of the winner. Deterministic merges and archive ids make two
workers resolving one document at once harmless: both write the same content.
"""
from __future__ import annotations

import logging
from typing import Callable

from sync.clock import utc_now
from sync.cluster import merges
from sync.cluster.directory_merges import directory_merges
from sync.couch.client import Conflict, CouchServer, Database, NotFound
from sync.couch.names import DatabaseNames
from sync.couch.design import ensure_design_doc

log = logging.getLogger("fieldsync.server_conflicts")
Merge = Callable[[list[dict]], dict]
DDOC = {"_id": "_design/server_conflicts", "language": "javascript",
        "views": {"conflicts": {"map": "function (doc) { if (doc._conflicts &&"
                                       " doc._conflicts.length) { emit(doc.type || null, null); } }"}}}
MAX_ATTEMPTS = 5
ARCHIVE_PREFIX = "server_conflict:"


def default_merges(chain=None) -> dict[str, Merge]:
    """The merge of every server document type that has one of its own (others keep CouchDB's
    winner, their losers archived)."""
    return {"alert": lambda leaves: merges.merge_alert(leaves, chain),
            "delivery": merges.merge_delivery,
            "review_task": merges.merge_review_task,
            "checkpoint": merges.merge_latest("updated_at"),
            "worker_heartbeat": merges.merge_latest("beat_at"),
            "alert_case_event": merges.merge_original,
            "dead_letter": merges.merge_original,
            "server_identity": merges.merge_smallest("uuid"),
            "photo_job": merges.merge_photo_job,
            "photo_record": merges.merge_smallest("processed_at"),
            **directory_merges()}


class ServerConflicts:
    """Finds and resolves conflicted documents in the server databases."""

    def __init__(self, couch: CouchServer, names: DatabaseNames,
                 type_merges: dict[str, Merge] | None = None):
        self.couch, self.names = couch, names
        self.merges = dict(type_merges or default_merges())

    def databases(self) -> list[str]:
        """The server databases a cluster can leave conflicts in (the audit trail is left out:
        its records are written once per request, a conflict there loses no accepted data,
        and a view over it would cost index work on every device write)."""
        n = self.names
        return [n.alerts, n.central, n.review, n.state, n.photos, n.directory]

    def conflicted_ids(self, db: Database, limit: int = 500) -> list[str]:
        """Ids of conflicted documents of one database (installs the view on first use)."""
        try:
            rows = db.view("server_conflicts", "conflicts", limit=limit)["rows"]
        except NotFound:  # a fresh database: install the view (a lost race counts as done)
            ensure_design_doc(db, DDOC)
            rows = db.view("server_conflicts", "conflicts", limit=limit)["rows"]
        return [row["id"] for row in rows]

    def sweep(self, databases: list[str] | None = None) -> int:
        """Resolve every conflicted document of the given (default: all) server databases;
        returns how many were resolved."""
        resolved = 0
        for name in databases or self.databases():
            db = self.couch.database(name)
            try:
                ids = self.conflicted_ids(db)
            except NotFound:  # the database does not exist (yet)
                continue
            resolved += sum(self.resolve(db, doc_id) for doc_id in ids)
        return resolved

    def resolve(self, db: Database, doc_id: str) -> bool:
        """Merge one document's live leaves into one; False when it had no conflict (left)."""
        for _ in range(MAX_ATTEMPTS):
            leaves = [row["ok"] for row in db.get(doc_id, open_revs="all")
                      if isinstance(row.get("ok"), dict) and not row["ok"].get("_deleted")]
            if len(leaves) < 2:
                return False
            winner = merges.winner(leaves)
            merge = self.merges.get(str(winner.get("type")), merges.winner)
            merged = merge([dict(leaf) for leaf in leaves])
            losers = [leaf for leaf in leaves if leaf["_rev"] != winner["_rev"]]
            self._archive(db, doc_id, losers, winner)
            try:
                if _body(merged) != _body(winner):
                    stubs = {"_attachments": winner["_attachments"]} \
                        if "_attachments" in winner else {}
                    db.put({**_body(merged), **stubs, "_id": doc_id, "_rev": winner["_rev"]})
                self._delete(db, doc_id, losers)
            except Conflict:  # written meanwhile: read the leaves again
                continue
            log.info("%s/%s: merged %d revisions (%s)", db.name, doc_id, len(leaves),
                     winner.get("type"))
            return True
        log.warning("%s/%s kept changing while its conflict was resolved", db.name, doc_id)
        return False

    def _archive(self, db: Database, doc_id: str, losers: list[dict], winner: dict) -> None:
        kind = db.name[len(self.names.prefix):]
        docs = [{"_id": f"{ARCHIVE_PREFIX}{kind}:{doc_id}:{loser['_rev']}",
                 "type": "server_conflict_archive", "schema_version": 1, "database": db.name,
                 "doc_id": doc_id, "doc_type": winner.get("type"), "losing_rev": loser["_rev"],
                 "winning_rev": winner["_rev"], "losing_body": loser, "archived_at": utc_now()}
                for loser in losers]
        results = self.couch.database(self.names.review).bulk_docs(docs)
        failed = [r for r in results if r.get("error") and r["error"] != "conflict"]
        if failed:  # never delete a loser whose archive is not stored
            raise RuntimeError(f"archives of {doc_id} not written: {failed}")

    @staticmethod
    def _delete(db: Database, doc_id: str, losers: list[dict]) -> None:
        answer = db.bulk_docs([{"_id": doc_id, "_rev": leaf["_rev"], "_deleted": True}
                               for leaf in losers])
        failed = [r for r in answer if r.get("error") and r["error"] != "conflict"]
        if failed:
            raise RuntimeError(f"losing revisions of {doc_id} not deleted: {failed}")


def _body(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}
