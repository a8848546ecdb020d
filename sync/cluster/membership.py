"""Work ownership without exclusive writes: rendezvous hashing over the live workers.

A create answered 201 proves nothing on a cluster (a second writer of the same id may be told
202 and both revisions stored), so no worker claims work by winning a write. Instead every
worker registers with its heartbeat (sync/feeds/heartbeat.py: `started_at`, `beat_at`) and each
piece of work (a village's feed, an alert's escalation, a delivery) belongs to the live member
whose hash of (member, key) is highest. Every worker computes the same owner from the same
heartbeats, on its own clock, without asking anyone.

Handover: a worker that joins counts as a member only `handover_s` after it started (before
that the others keep its share and it takes none), so by the moment it takes over every member
has long read its heartbeat and stops at the same moment; a worker that stops cleanly removes
its heartbeat and its share moves at the others' next refresh; one that died keeps its share
until its heartbeat is `stale_s` old. Two workers may both work on one key only while their
views of the members disagree (a heartbeat read late, clocks apart): that is the handover
window, and everything done twice in it carries the same deterministic id or idempotency key.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time

from sync.couch.client import CouchError, Database
from sync.feeds.heartbeat import heartbeats

log = logging.getLogger("fieldsync.membership")


def rendezvous_owner(key: str, members: list[str]) -> str | None:
    """The member with the highest hash of (member, key): stable when others join or leave."""
    if not members:
        return None
    return max(members, key=lambda member: hashlib.sha256(
        f"{member}\0{key}".encode()).digest())


def active_members(beats: list[dict], now: float, stale_s: float, handover_s: float
                   ) -> list[str]:
    """Workers whose heartbeat is fresh and whose handover is over (all fresh ones when none
    is over yet: a cluster of workers that all just started)."""
    live = [b for b in beats if now - float(b.get("beat_at") or 0) < stale_s
            and not b.get("leaving")]
    settled = [b for b in live if now - float(b.get("started_at") or 0) >= handover_s]
    return sorted(b["worker_id"] for b in (settled or live) if b.get("worker_id"))


class Membership:
    """This worker's view of the live workers, refreshed every `refresh_s`."""

    def __init__(self, state_db: Database, worker_id: str, stale_s: float = 60.0,
                 handover_s: float = 20.0, refresh_s: float = 5.0):
        self.db, self.worker_id = state_db, worker_id
        self.stale_s, self.handover_s, self.refresh_s = stale_s, handover_s, refresh_s
        self._beats: list[dict] = []
        self._read_at = -float("inf")
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read the heartbeats again now."""
        try:
            beats = heartbeats(self.db)
        except CouchError as exc:  # keep the last view: the split stays as it was
            log.warning("heartbeats not read (%s): keeping the last view of the workers", exc)
            return
        with self._lock:
            self._beats, self._read_at = beats, time.monotonic()

    def members(self, now: float | None = None) -> list[str]:
        """The active members (this worker alone when nobody, not even itself, is seen yet)."""
        if time.monotonic() - self._read_at > self.refresh_s:
            self.refresh()
        with self._lock:
            beats = list(self._beats)
        found = active_members(beats, time.time() if now is None else now, self.stale_s,
                               self.handover_s)
        if not found and not any(b.get("worker_id") == self.worker_id for b in beats):
            return [self.worker_id]
        return found

    def owns(self, key: str) -> bool:
        """Whether this worker should do the work named `key` now."""
        return rendezvous_owner(key, self.members()) == self.worker_id
