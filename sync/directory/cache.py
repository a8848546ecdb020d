"""Account documents kept in memory by a web process, dropped the moment they change.

Every request is authenticated against its account (a disabled account or a revoked token must
fail on its next request), but reading the account from CouchDB on every request of a
replication doubled the database's work (docs/performance.md). So each web process keeps the
accounts it has read and follows the directory database's changes feed: a change to an account
evicts it. Changes made through this process evict at once (Directory notifies its listeners);
changes made elsewhere (the CLI, another web process) evict as soon as the feed delivers them,
within milliseconds. While the feed is not running, nothing is cached.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from models.accounts import account_doc_id
from sync.couch.client import CouchError, Database, NotFound
from sync.directory.store import ACCOUNT_LISTENERS

log = logging.getLogger("fieldsync.account_cache")
PREFIX = "account:"


class AccountCache:
    """A read-through cache of account documents with change-feed eviction."""

    def __init__(self, db: Database, max_age_s: float = 300.0, max_entries: int = 20_000):
        self.db, self.max_age_s, self.max_entries = db, max_age_s, max_entries
        # bounded: unknown usernames are cached too (as None), and anyone can send those
        self._docs: OrderedDict[str, tuple[dict | None, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._armed = threading.Event()   # set while the feed follows from a known sequence
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        ACCOUNT_LISTENERS.add(self.evict)

    def get(self, username: str) -> dict | None:
        """The account document (None if there is none), from memory when it is safe."""
        self._start()
        now = time.monotonic()
        if self._armed.is_set():
            with self._lock:
                cached = self._docs.get(username)
            if cached is not None and now - cached[1] < self.max_age_s:
                return cached[0]
        doc = self.db.get_or_none(account_doc_id(username))
        if self._armed.is_set():
            with self._lock:
                self._docs[username] = (doc, now)
                self._docs.move_to_end(username)
                while len(self._docs) > self.max_entries:
                    self._docs.popitem(last=False)
        return doc

    def evict(self, username: str) -> None:
        """Forget one account (it changed)."""
        with self._lock:
            self._docs.pop(username, None)

    def stop(self) -> None:
        """Stop following the feed (tests)."""
        self._stopped.set()

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._follow, daemon=True,
                                                    name="account-cache-feed")
                    self._thread.start()

    def _follow(self) -> None:
        since, feed = None, self.db.with_own_connection()
        while not self._stopped.is_set():
            try:
                if since is None:
                    since = self.db.changes(since="now", limit=1).last_seq
                    self._armed.set()
                page = feed.changes(since=since, longpoll=True, timeout_ms=25_000)
                for change in page.results:
                    if change["id"].startswith(PREFIX):
                        self.evict(change["id"][len(PREFIX):])
                since = page.last_seq
            except NotFound:
                self._armed.clear()
                return  # the directory database is gone (a test tearing down): nothing to follow
            except CouchError as exc:
                # without the feed a cached account could go stale: stop caching until it is back
                self._armed.clear()
                with self._lock:
                    self._docs.clear()
                since = None
                log.warning("account feed interrupted (%s); caching paused", exc)
                self._stopped.wait(1.0)
