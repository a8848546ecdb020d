"""How late a web worker's gevent loop runs: the lag gauge of /api/v1/monitoring
(`held_connections.loop_lag`, docs/operations.md).

One greenlet (started by server/serve.py in each gunicorn worker) asks to sleep INTERVAL_S and
records by how much it woke later than asked: the time every greenlet of the worker waits for
the loop (runnable greenlets ahead of it, plus the process waiting for a core). 20 wake-ups a
second cost nothing. No gevent import here: the figures are plain arithmetic, testable without
monkey-patching.
"""
from __future__ import annotations

import bisect
import collections
import time
from typing import Callable

LOOP_LAG_KEY = "fieldsync_loop_lag"  # app.extensions key; absent where no gevent worker runs


class LoopLag:
    """Counts of lags per bucket since start, the largest, and the last minute's samples."""
    INTERVAL_S = 0.05
    BUCKETS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    RECENT = 1200  # the last minute of samples

    def __init__(self):
        self.counts = [0] * (len(self.BUCKETS_MS) + 1)  # samples <= each bound; above the last
        self.max_ms = 0.0
        self.recent: collections.deque = collections.deque(maxlen=self.RECENT)

    def record(self, lag_ms: float) -> None:
        self.counts[bisect.bisect_left(self.BUCKETS_MS, lag_ms)] += 1
        self.max_ms = max(self.max_ms, lag_ms)
        self.recent.append(lag_ms)

    def run(self, sleep: Callable[[float], None]) -> None:
        """Forever: `sleep` (gevent.sleep) one interval, record the overshoot."""
        while True:
            asked = time.monotonic()
            sleep(self.INTERVAL_S)
            self.record(max(0.0, (time.monotonic() - asked - self.INTERVAL_S) * 1000))

    def figures(self) -> dict:
        recent = sorted(self.recent)

        def at(q: float) -> float | None:
            return round(recent[min(len(recent) - 1, int(q * len(recent)))], 1) if recent else None
        return {"interval_ms": self.INTERVAL_S * 1000, "samples": sum(self.counts),
                "max_ms": round(self.max_ms, 1),
                "last_minute": {"p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)},
                "at_most_ms": [[bound, count] for bound, count in   # a list: JSON keeps its order
                               zip((*self.BUCKETS_MS, None), self.counts)]}
