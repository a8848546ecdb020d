"""Live alert changes for the officials' page: one longpoll on the alerts database per
process, fanned out to the open streams (each stream gets a bounded queue): an alert to every
stream (each shows those of its jurisdiction), a delivery only to its recipient's streams (with
200 officials' pages open, handing each of an alert's deliveries to all of them cost more than
everything else a push does). Open streams are held requests: budgets per process and per
account (sync/budgets.py)."""
from __future__ import annotations

import logging
import queue
import threading

from sync.budgets import HeldBudget, OverBudget
from sync.couch.client import Database, NotFound

log = logging.getLogger("fieldsync.alerts.live")


class TooManyStreams(OverBudget):
    """The process, or the account, already holds its budget of open streams (`code` says which)."""


class LiveFeed:
    """Follows the alerts database's `_changes` and hands each document to the subscribers."""

    def __init__(self, db: Database, max_streams: int = 500, max_per_account: int = 8,
                 queue_size: int = 200):
        self.db, self.max_streams, self.queue_size = db, max_streams, queue_size
        self.budget = HeldBudget("streams", max_streams, max_per_account, retry_after=30)
        self._subscribers: dict[queue.Queue, str] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def subscribe(self, account: str = "") -> queue.Queue:
        """A queue that receives every changed alert or delivery document from now on; raises
        TooManyStreams past the process's or the account's budget."""
        try:
            self.budget.take(account)
        except OverBudget as exc:
            raise TooManyStreams(exc.code, exc.limit, exc.retry_after) from None
        with self._lock:
            subscriber: queue.Queue = queue.Queue(self.queue_size)
            self._subscribers[subscriber] = account
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._follow, name="alerts-live",
                                                daemon=True)
                self._thread.start()
            return subscriber

    def unsubscribe(self, subscriber: queue.Queue) -> None:
        """Stop feeding a queue."""
        with self._lock:
            account = self._subscribers.pop(subscriber, None)
        if account is not None:
            self.budget.give_back(account)

    def _follow(self) -> None:
        since, feed = None, self.db.with_own_connection()
        while True:
            with self._lock:
                if not self._subscribers:
                    self._thread = None
                    return
            try:
                if since is None:
                    since = str(self.db.info()["update_seq"])
                page = feed.changes(since, include_docs=True, longpoll=True, timeout_ms=25_000)
            except NotFound:  # the database is gone (tests, retention): nothing to follow
                with self._lock:
                    self._thread = None
                return
            except Exception as exc:  # noqa: BLE001 - a feed thread must outlive any hiccup
                log.warning("alerts feed failed: %r", exc)
                threading.Event().wait(2.0)
                continue
            since = page.last_seq
            with self._lock:
                subscribers = list(self._subscribers.items())
            for change in page.results:
                doc = change.get("doc")
                if not doc or doc.get("type") not in ("alert", "delivery"):
                    continue
                recipient = doc.get("recipient") if doc["type"] == "delivery" else None
                for subscriber, account in subscribers:
                    if recipient is not None and account != recipient:
                        continue
                    try:
                        subscriber.put_nowait(doc)
                    except queue.Full:  # a stuck client loses events, not the others
                        pass
