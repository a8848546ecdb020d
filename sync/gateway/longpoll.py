"""Held `_changes` longpolls without one upstream connection per device.

A device's longpoll waits on the process's own knowledge that its village changed: one watcher
per village with waiting devices holds a single upstream `_changes` longpoll (a greenlet under
the gevent web server), and the gateway's own writes wake the village at once (`after_write`).
A woken device answers from a normal, non-held `_changes` read from its own `since`, so upstream
connections grow with active villages, not with devices (docs/api.md, "Live sync").

Those reads are shared: devices asking the same at the same moment wait on one read, and a read
that found nothing new is remembered until the village's next change, so the forty phones of a
village that re-poll one by one after a wake cost one upstream read, not forty (the remembered
answer is only handed to a request that saw the same change count: any change the gateway wrote
or the watcher saw since makes the next request read again).

The watchers' upstream longpolls go over a connection pool of their own, as large as the held
budget (no more villages can have waiters): held for up to `poll_s` each, they would otherwise
take the shared pool's connections from every other request, which then opens and closes a
connection per request.

Every waiter's principal is checked again every `recheck_s` by one sweeper (the account cache
makes it a dictionary lookup): a disabled account's or revoked token's held requests end within
seconds, not at the end of their wait.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from sync.couch.client import CouchServer, NotFound, Timeout
from sync.couch.names import DatabaseNames
from sync.directory.access import AccessDenied, Principal

log = logging.getLogger("fieldsync.gateway.longpoll")


class Waiter:
    """One held request: which village it waits on, for whom, and whether it was ended."""
    __slots__ = ("watch", "principal", "ended")

    def __init__(self, watch: "VillageWatch", principal: Principal | None):
        self.watch, self.principal = watch, principal
        self.ended: AccessDenied | None = None

    def generation(self) -> int:
        """The village's change count now: read it before reading `_changes`."""
        return self.watch.generation

    def wait(self, seen: int, timeout_s: float) -> str:
        """Until the village changed after `seen`, the request was ended, or the time is up:
        "changed", "ended" or "timeout"."""
        deadline = time.monotonic() + timeout_s
        cond = self.watch.cond
        with cond:
            while True:
                if self.ended is not None:
                    return "ended"
                if self.watch.generation != seen:
                    return "changed"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "timeout"
                cond.wait(remaining)


class VillageWatch:
    """The waiters of one village and the change count their watcher keeps."""

    QUIET_KEPT = 256  # answers with nothing new remembered per village (one per `since` asked)

    def __init__(self, village: str):
        self.village = village
        # never the same count twice in one process, even for a village watched anew
        self.generation = next(_epochs) << 32
        self.cond = threading.Condition()
        self.waiters: set[Waiter] = set()
        self.upstream = False  # whether its watcher holds an upstream longpoll right now
        self.quiet: dict[tuple, tuple[int, object]] = {}  # read -> (change count, empty answer)

    def bump(self) -> None:
        with self.cond:
            self.generation += 1
            self.quiet.clear()
            self.cond.notify_all()

    def remember_quiet(self, key: tuple, seen: int, answer: object) -> None:
        """`answer` (nothing new) was read after change count `seen`: good until the next change."""
        if seen != self.generation:
            return
        if len(self.quiet) >= self.QUIET_KEPT:
            self.quiet.clear()
        self.quiet[key] = (seen, answer)

    def known_quiet(self, key: tuple, seen: int) -> object | None:
        known = self.quiet.get(key)
        if known is not None and known[0] == seen == self.generation:
            return known[1]
        return None


_epochs = itertools.count(1)


class _Flight:
    """One upstream read that several waiters share."""
    __slots__ = ("done", "result", "error")

    def __init__(self):
        self.done = threading.Event()
        self.result: object = None
        self.error: BaseException | None = None


class ChangeWatch:
    """Watchers per village, started by the first waiter and gone after the last."""

    def __init__(self, couch: CouchServer, names: DatabaseNames,
                 recheck: Callable[[Principal], None] | None = None,
                 poll_s: float = 25.0, recheck_s: float = 2.0, max_villages: int = 5000):
        self.couch, self.names, self.recheck = couch, names, recheck
        self.feeds = couch.with_own_pool(max_villages)
        self.poll_s, self.recheck_s = poll_s, recheck_s
        self._watches: dict[str, VillageWatch] = {}
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None
        self._flights: dict[tuple, _Flight] = {}
        self.shared_reads = 0
        self.quiet_answers = 0
        self.wakes_from_writes = 0
        self.wakes_from_upstream = 0

    # --- waiting ----------------------------------------------------------------------------
    @contextmanager
    def waiting(self, village: str, principal: Principal | None) -> Iterator[Waiter]:
        """Register a waiter for `village` for the duration of a block."""
        with self._lock:
            watch = self._watches.get(village)
            if watch is None:
                watch = self._watches[village] = VillageWatch(village)
                threading.Thread(target=self._follow, args=(watch,), daemon=True,
                                 name=f"watch-{village}").start()
            waiter = Waiter(watch, principal)
            watch.waiters.add(waiter)
            if self.recheck is not None and (self._sweeper is None or not self._sweeper.is_alive()):
                self._sweeper = threading.Thread(target=self._sweep, daemon=True,
                                                 name="longpoll-recheck")
                self._sweeper.start()
        try:
            yield waiter
        finally:
            with self._lock:
                watch.waiters.discard(waiter)

    def read(self, waiter: Waiter, seen: int, key: tuple, read: Callable[[], object],
             is_quiet: Callable[[object], bool]) -> object:
        """The answer of `read()` for a waiter that saw change count `seen`: one upstream read
        for every waiter of the village asking the same `key` at the same moment, and none at
        all while an answer with nothing new (`is_quiet`) read since `seen` is remembered."""
        watch = waiter.watch
        known = watch.known_quiet(key, seen)
        if known is not None:
            self.quiet_answers += 1
            return known
        answer = self.shared_read((watch.village, seen) + key, read)
        if is_quiet(answer):
            watch.remember_quiet(key, seen, answer)
        return answer

    def shared_read(self, key: tuple, read: Callable[[], object]) -> object:
        """`read()` once for every waiter asking the same `key` at the same moment. The key
        carries the village's change count the asker saw: a read that started before a change
        is never handed to someone who already knows of that change."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
            else:
                self.shared_reads += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.result
        try:
            flight.result = read()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
        return flight.result

    def notify(self, village: str) -> None:
        """The gateway wrote to `village`: wake its waiters now."""
        watch = self._watches.get(village)
        if watch is not None:
            self.wakes_from_writes += 1
            watch.bump()

    def after_write(self, batch) -> None:
        """After-write hook of the gateway (first in line: waking devices is cheap)."""
        if batch.written:
            self.notify(batch.request.village)

    # --- the watcher of one village -------------------------------------------------------------
    def _idle(self, watch: VillageWatch) -> bool:
        """Under the lock: forget a village nobody waits on (its watcher then stops)."""
        with self._lock:
            if watch.waiters:
                return False
            self._watches.pop(watch.village, None)
            return True

    def _follow(self, watch: VillageWatch) -> None:
        path = self.couch.database(self.names.village(watch.village)).path + "/_changes"
        since = None
        while not self._idle(watch):
            try:
                if since is None:
                    since = self._now(path)
                    watch.bump()  # waiters that read before `since` was fixed read once more
                    continue
                watch.upstream = True
                try:
                    page = self.feeds.json("GET", path, idempotent=False, timeout=(
                        5.0, self.poll_s + 5.0), params={"feed": "longpoll", "since": since,
                                                         "timeout": int(self.poll_s * 1000)})
                except Timeout:  # a server that ignores `timeout` (pouchdb-server): no change
                    continue
                finally:
                    watch.upstream = False
            except NotFound:  # no such database: the waiters' own reads say so
                time.sleep(self.poll_s)
                continue
            except Exception as exc:  # noqa: BLE001 - a watcher must outlive any hiccup
                log.warning("watcher of village %s failed: %r", watch.village, exc)
                time.sleep(2.0)
                continue
            since = str(page.get("last_seq", since))
            if page.get("results"):
                self.wakes_from_upstream += 1
                watch.bump()

    def _now(self, path: str) -> str:
        """The village database's current sequence (opaque; a valid `since` on CouchDB 3.x)."""
        return str(self.couch.json("GET", path.rsplit("/", 1)[0])["update_seq"])

    # --- ending the held requests of disabled accounts --------------------------------------
    def _sweep(self) -> None:
        while True:
            time.sleep(self.recheck_s)
            with self._lock:
                waiters = [w for watch in self._watches.values() for w in watch.waiters]
            if not waiters:
                with self._lock:
                    if not any(watch.waiters for watch in self._watches.values()):
                        self._sweeper = None
                        return
                continue
            for waiter in waiters:
                if waiter.principal is None or waiter.ended is not None:
                    continue
                try:
                    self.recheck(waiter.principal)
                except AccessDenied as exc:
                    waiter.ended = exc
                    with waiter.watch.cond:
                        waiter.watch.cond.notify_all()
                except Exception as exc:  # noqa: BLE001 - CouchDB away: check again next time
                    log.warning("recheck of %s failed: %r", waiter.principal.username, exc)
                    break

    def figures(self) -> dict:
        """For /api/v1/monitoring: villages watched, upstream longpolls open, wake counts."""
        with self._lock:
            watches = list(self._watches.values())
        return {"villages_watched": len(watches),
                "upstream_longpolls": sum(1 for w in watches if w.upstream),
                "waiting": sum(len(w.waiters) for w in watches),
                "wakes_from_writes": self.wakes_from_writes, "shared_reads": self.shared_reads,
                "quiet_answers": self.quiet_answers,
                "wakes_from_upstream": self.wakes_from_upstream}
