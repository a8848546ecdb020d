"""Budgets for requests a web process holds open: per process and per account, counted.

A held request (a device's `_changes` longpoll, an official's alert stream) costs a socket and a
little memory, so the limits are budgets sized in thousands, not walls sized by threads; the
per-account share keeps one runaway phone or browser from taking the process's budget. Past a
budget the caller answers 503 with Retry-After; refusals are logged (once per burst) and counted
for `/api/v1/monitoring`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger("fieldsync.budgets")
LOG_EVERY_S = 10.0  # a flood of refusals is logged once per this, with the count


class OverBudget(Exception):
    """A held request refused: `code` names the budget (process or account), `limit` its size."""

    def __init__(self, code: str, limit: int, retry_after: int):
        super().__init__(code)
        self.code, self.limit, self.retry_after = code, limit, retry_after


class HeldBudget:
    """At most `total` held requests per process and `per_account` per account."""

    def __init__(self, kind: str, total: int | None, per_account: int, retry_after: int = 10,
                 wait_s: float = 0.0):
        """`total` None: a share per account only (another limit bounds the process).
        `wait_s`: a request past its account's share waits up to this long for one of the
        account's requests to end before it is refused (a burst queues; a hog still cannot
        hold more than its share)."""
        self.kind, self.total, self.per_account, self.retry_after = kind, total, per_account, retry_after
        self.wait_s = wait_s
        self._held: Counter = Counter()
        self._count = 0
        self._waiting = 0
        self.peak = 0
        self.refused: Counter = Counter()  # code -> refusals since start
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)  # an account's request ended
        self._logged_at: dict[str, float] = {}
        self._unlogged: Counter = Counter()

    def take(self, account: str) -> None:
        """Count one more held request of `account`, or raise OverBudget."""
        deadline = time.monotonic() + self.wait_s
        with self._lock:
            while True:
                if self.total is not None and self._count >= self.total:
                    code, limit = f"too_many_{self.kind}", self.total
                    break
                if self._held[account] < self.per_account:
                    self._held[account] += 1
                    self._count += 1
                    self.peak = max(self.peak, self._count)
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    code, limit = f"too_many_{self.kind}_account", self.per_account
                    break
                self._waiting += 1
                try:
                    self._turn.wait(remaining)
                finally:
                    self._waiting -= 1
            self.refused[code] += 1
            self._log_refusal(code, limit, account)
        raise OverBudget(code, limit, self.retry_after)

    def give_back(self, account: str) -> None:
        """One held request of `account` ended."""
        with self._lock:
            self._count -= 1
            self._held[account] -= 1
            if self._held[account] <= 0:
                del self._held[account]
            if self._waiting:  # few: only requests past their account's share wait
                self._turn.notify_all()

    @contextmanager
    def held(self, account: str) -> Iterator[None]:
        """take() for the duration of a block."""
        self.take(account)
        try:
            yield
        finally:
            self.give_back(account)

    def _log_refusal(self, code: str, limit: int, account: str) -> None:
        now = time.monotonic()
        self._unlogged[code] += 1
        if now - self._logged_at.get(code, -LOG_EVERY_S) >= LOG_EVERY_S:
            log.warning("held %s refused (%s, limit %s, account %s): %s refusal(s) since the last "
                        "such line", self.kind, code, limit, account, self._unlogged[code])
            self._logged_at[code] = now
            self._unlogged[code] = 0

    def figures(self) -> dict:
        """For /api/v1/monitoring: held now, peak, the budgets and the refusals so far."""
        with self._lock:
            return {"held": self._count, "peak": self.peak, "budget": self.total,
                    "per_account": self.per_account, "accounts": len(self._held),
                    "waiting_for_share": self._waiting,
                    "refused": dict(self.refused)}
