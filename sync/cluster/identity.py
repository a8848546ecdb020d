"""The installation's uuid (what `/sync/` answers, so PouchDB's replication checkpoints stay
put), agreed by every process without any write being an exclusive claim.

Two processes starting at once on a cluster can both have their create of `server_identity`
accepted (201 and 202), so "whoever wrote it" decides nothing. Instead:
- the value each process proposes is derived from CouchDB's own server uuid and the database
  prefix when the server has one (CouchDB 3.x; a cluster's nodes share it): every proposal is
  the same, so two accepted creates store the same body;
- whatever is stored, the uuid is the smallest `uuid` among the document's live leaves (the
  merge the worker's conflict sweeper applies too: merges.merge_smallest), read back after the
  write;
- a process keeps re-reading it every `recheck_s` until it has seen a single leaf `settle_s`
  after its first read (a sibling stored on fewer nodes shows within that), then never again.
So two processes answer different uuids only within `settle_s` of a simultaneous first start on
a server without a uuid of its own, and agree for good after that.
"""
from __future__ import annotations

import threading
import time
import uuid

from sync.cluster.merges import merge_smallest
from sync.couch.client import Conflict, Database, NotFound

DOC_ID = "server_identity"
SETTLE_S = 60.0
RECHECK_S = 10.0


def proposal(server_uuid: str | None, prefix: str) -> str:
    """The uuid this process proposes: the same for every process of one installation when
    the CouchDB server has a uuid, random otherwise."""
    if server_uuid:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"fieldsync:{server_uuid}:{prefix}").hex
    return uuid.uuid4().hex


class ServerIdentity:
    """Reads (and on first start writes) the installation's uuid."""

    def __init__(self, state_db: Database, propose, settle_s: float = SETTLE_S,
                 recheck_s: float = RECHECK_S, clock=time.monotonic):
        self.db, self.propose, self.clock = state_db, propose, clock
        self.settle_s, self.recheck_s = settle_s, recheck_s
        self._value: str | None = None
        self._first_read: float | None = None
        self._checked_at = -float("inf")
        self._settled = False
        self._lock = threading.Lock()

    def uuid(self) -> str:
        """The installation's uuid."""
        with self._lock:
            now = self.clock()
            if self._settled or (self._value and now - self._checked_at < self.recheck_s):
                return self._value
            leaves = self._leaves()
            if not leaves:
                doc = {"_id": DOC_ID, "type": "server_identity", "schema_version": 1,
                       "uuid": self.propose()}
                try:
                    self.db.put(doc)
                except Conflict:  # written meanwhile: read what is there
                    pass
                leaves = self._leaves() or [doc]  # a cluster may not show our write yet
            self._value = merge_smallest("uuid")(leaves)["uuid"]
            self._first_read = now if self._first_read is None else self._first_read
            self._settled = len(leaves) == 1 and now - self._first_read >= self.settle_s
            self._checked_at = now
            return self._value

    def _leaves(self) -> list[dict]:
        try:
            rows = self.db.get(DOC_ID, open_revs="all")
        except NotFound:
            return []
        return [row["ok"] for row in rows if isinstance(row.get("ok"), dict)
                and not row["ok"].get("_deleted") and row["ok"].get("uuid")]
