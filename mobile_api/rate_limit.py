"""Sliding-window rate limits, kept in the memory of one web process.

Good enough against a script hammering one endpoint; with several web processes behind a load
balancer each process counts on its own, so the effective limit is multiplied by their number.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class SlidingWindow:
    """At most `limit` hits per key in any `window_s` seconds."""

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
