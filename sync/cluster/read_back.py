"""Reading a write back, for the writes whose answer must be honest on a cluster.

A 201 or 202 is no exclusive claim on a CouchDB cluster: a concurrent write of the same id may
be accepted as well and leave the document in conflict. Where someone is told "done" (an admin
creating an account, a login claiming a device id, a cadre uploading a photo), the writer reads
the document's live leaves back and, when a concurrent write stands beside its own and the
deterministic merge would keep the other, withdraws its own leaf and says so. The other writer
may not see ours yet at once, so on a cluster a write seen alone is read once more after
SETTLE_S (a single node, where a 409 is the refusal, pays nothing: `settle_s`).
"""
from __future__ import annotations

import time

from sync.couch.client import Conflict, CouchError, Database, NotFound, Unavailable

SETTLE_S = 0.3  # on a cluster, a write seen alone is read back again after this
_CLUSTERED: dict[str, bool] = {}  # server URL -> more than one node (asked once per process)


def settle_s(db: Database) -> float:
    """How long to wait before reading a write back a second time: SETTLE_S where the server
    is a cluster of more than one node (`GET /_membership`), 0 on a single node or
    pouchdb-server (no `_membership`); a server that will not say counts as a cluster."""
    url = db.server.url
    if url not in _CLUSTERED:
        try:
            membership = db.server.json("GET", "_membership")
            _CLUSTERED[url] = max(len(membership.get("cluster_nodes") or []),
                                  len(membership.get("all_nodes") or [])) > 1
        except NotFound:
            _CLUSTERED[url] = False
        except Unavailable:  # not now: wait this time, ask again next time
            return SETTLE_S
        except CouchError:  # not allowed to ask (an account without the right)
            _CLUSTERED[url] = True
    return SETTLE_S if _CLUSTERED[url] else 0.0


def live_leaves(db: Database, doc_id: str) -> list[dict]:
    """Every live leaf revision of a document (more than one: it is in conflict)."""
    try:
        rows = db.get(doc_id, open_revs="all")
    except NotFound:  # a read that does not see the write yet (a cluster's lag)
        return []
    return [row["ok"] for row in rows
            if isinstance(row.get("ok"), dict) and not row["ok"].get("_deleted")]


def read_back(db: Database, doc: dict) -> list[dict]:
    """The live leaves of a document we just wrote (`doc` has its `_id` and new `_rev`): read
    at once, and when that shows ours alone, on a cluster again after SETTLE_S."""
    leaves = live_leaves(db, doc["_id"])
    wait = settle_s(db) if len(leaves) < 2 else 0.0
    if wait:
        time.sleep(wait)
        leaves = live_leaves(db, doc["_id"])
    return leaves or [doc]


def withdraw(db: Database, doc_id: str, rev: str) -> None:
    """Delete our own losing leaf of a conflicted document; only ever called while the leaf
    that is kept is live, so the document itself stays."""
    try:
        db.delete(doc_id, rev)
    except (Conflict, NotFound):  # gone already: the sweeper resolved it the same way
        pass
