"""Sliding-window rate limits: in one process's memory, or shared through CouchDB.

`SlidingWindow` counts in the memory of one process (fine for one process, or a test).
`SharedWindow` keeps each key's recent hits in one document of the state database, written
rev-checked (a 409 re-reads and counts again), so several web processes behind one address give
the same answers: the public API's limits use it. Keys are stored hashed (an IP address or a
phone number is personal data); a key's document holds at most `limit` stamps, and a refused
hit writes nothing.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict, deque

from sync.couch.client import Database


class SlidingWindow:
    """At most `limit` hits per key in any `window_s` seconds (this process only)."""

    def __init__(self, limit: int, window_s: float):
        self.limit, self.window_s = limit, window_s
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> int | None:
        """Count a hit; None if allowed, else the seconds to wait before the next one."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, int(self.window_s - (now - hits[0])) + 1)
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without bound
                for stale in [k for k, v in self._hits.items() if not v]:
                    del self._hits[stale]
            return None


class SharedWindow:
    """At most `limit` hits per key in any `window_s` seconds, counted in CouchDB for every
    process (wall-clock stamps: processes share no monotonic clock)."""

    def __init__(self, db: Database, name: str, limit: int, window_s: float):
        self.db, self.name, self.limit, self.window_s = db, name, limit, window_s

    def doc_id(self, key: str) -> str:
        digest = hashlib.sha256(f"{self.name}\0{key}".encode()).hexdigest()[:32]
        return f"rate_limit:{self.name}:{digest}"

    def hit(self, key: str, now: float | None = None) -> int | None:
        """Count a hit; None if allowed, else the seconds to wait before the next one."""
        now = time.time() if now is None else now
        verdict: dict = {}

        def count(doc: dict | None) -> dict | None:
            hits = [t for t in (doc or {}).get("hits", []) if now - t < self.window_s]
            if len(hits) >= self.limit:
                verdict["wait"] = max(1, int(self.window_s - (now - min(hits))) + 1)
                return None  # refused: nothing to write
            verdict.pop("wait", None)
            hits.append(now)
            return {"type": "rate_limit", "schema_version": 1, "window": self.name,
                    "hits": sorted(hits)[-self.limit:]}
        self.db.update(self.doc_id(key), count)
        return verdict.get("wait")
