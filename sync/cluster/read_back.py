"""Reading a write back, for the writes whose answer must be honest on a cluster.

A 201 or 202 is no exclusive claim on a CouchDB cluster: a concurrent write of the same id may
be accepted as well and leave the document in conflict. Where someone is told "done" (an admin
creating an account, a login claiming a device id, a cadre uploading a photo), the writer reads
the document's live leaves back and, when a concurrent write stands beside its own and the
deterministic merge would keep the other, withdraws its own leaf and says so. The other writer
may not see ours yet at once, so a write seen alone is read once more after SETTLE_S.
"""
from __future__ import annotations

import time

from sync.couch.client import Conflict, Database, NotFound

SETTLE_S = 0.3  # a write seen alone is read back again after this


def live_leaves(db: Database, doc_id: str) -> list[dict]:
    """Every live leaf revision of a document (more than one: it is in conflict)."""
    try:
        rows = db.get(doc_id, open_revs="all")
    except NotFound:  # a read that does not see the write yet (a cluster's lag)
        return []
    return [row["ok"] for row in rows
            if isinstance(row.get("ok"), dict) and not row["ok"].get("_deleted")]


def read_back(db: Database, doc: dict, settle_s: float = SETTLE_S) -> list[dict]:
    """The live leaves of a document we just wrote (`doc` has its `_id` and new `_rev`): read
    at once, and when that shows ours alone, again after `settle_s`."""
    leaves = live_leaves(db, doc["_id"])
    if len(leaves) < 2 and settle_s > 0:
        time.sleep(settle_s)
        leaves = live_leaves(db, doc["_id"])
    return leaves or [doc]


def withdraw(db: Database, doc_id: str, rev: str) -> None:
    """Delete our own losing leaf of a conflicted document; only ever called while the leaf
    that is kept is live, so the document itself stays."""
    try:
        db.delete(doc_id, rev)
    except (Conflict, NotFound):  # gone already: the sweeper resolved it the same way
        pass
