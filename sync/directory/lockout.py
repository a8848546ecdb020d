"""Failed password checks, counted in CouchDB so that every web process gives the same answer.

Two kinds of counter document live in the state database:
- `lockout:src:<hash of account + source>`, one per (username, source address): a source may
  make LOCK_AFTER wrong guesses; the LOCK_AFTER-th locks that (account, source) for FIRST_LOCK_S,
  and every further failure after a lock doubles it, up to MAX_LOCK_S. A success from that
  source clears it; SOURCE_MEMORY_S after its last failure it is forgotten.
- `lockout:acct:<hash of account>`: failures from every source within ACCOUNT_WINDOW_S; at
  ACCOUNT_CEILING the account's password logins are locked for ACCOUNT_LOCK_S everywhere.
A check is counted *before* the password is verified (a rev-checked write; a 409 re-reads and
tries again), as one in flight: failures plus checks in flight from one source never exceed
LOCK_AFTER, so parallel guesses cannot outrun the count. A check that turns out right only
leaves the in-flight count (honest parallel requests with the right password, as a device
syncing with its password makes, never lock anyone out); one still in flight when it is full is
told to retry in a second, not locked. An in-flight mark older than IN_FLIGHT_S (a process that
died mid-check) no longer counts. Usernames that have no account are
counted the same way, so the answers never tell whether an account exists.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Callable

from sync.couch.client import Conflict, Database

LOCK_AFTER = 5               # wrong passwords from one source before its first lock
FIRST_LOCK_S = 60            # the first lock; each further failure doubles it ...
MAX_LOCK_S = 3600            # ... up to an hour
SOURCE_MEMORY_S = 24 * 3600  # a source's failures are forgotten a day after its last one
ACCOUNT_CEILING = 100        # failures from all sources together ...
ACCOUNT_WINDOW_S = 3600      # ... within an hour lock the account's password logins ...
ACCOUNT_LOCK_S = 900         # ... for 15 minutes (device tokens keep working)
MAX_ATTEMPTS = 20
IN_FLIGHT_S = 30             # a check is never in flight longer than this
PURGE_BATCH = 500            # counters deleted per request by purge()


class Locked(Exception):
    """Password checks for this account (from this source) are paused for `retry_after` s."""

    def __init__(self, retry_after: float):
        super().__init__(retry_after)
        self.retry_after = max(1, int(retry_after + 0.999))


@dataclass
class Attempt:
    """A password check that was counted; `locks_for` is set when this one started a lock."""
    username: str
    source: str
    locks_for: float = 0.0
    mark: str = ""  # its entry among the source's checks in flight


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]


def source_doc_id(username: str, source: str) -> str:
    return f"lockout:src:{_key(username, source)}"


def account_doc_id(username: str) -> str:
    return f"lockout:acct:{_key(username)}"


def source_lock_s(failures: int) -> float:
    """How long the `failures`-th failure from one source locks it (0: not at all)."""
    if failures < LOCK_AFTER:
        return 0.0
    return float(min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (failures - LOCK_AFTER)))


class LoginThrottle:
    """Counts password checks per (account, source) and per account in the state database."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time):
        self.db, self.clock = db, clock

    def check(self, username: str, source: str) -> None:
        """Raise Locked if a password check for this account from this source must wait."""
        rows = self.db.all_docs(keys=[source_doc_id(username, source), account_doc_id(username)],
                                include_docs=True)["rows"]
        now = self.clock()
        until = max([(row.get("doc") or {}).get("locked_until", 0) for row in rows] + [0])
        if until > now:
            raise Locked(until - now)

    def reserve(self, username: str, source: str) -> Attempt:
        """Count a check before it is made; raises Locked when it may not be made."""
        attempt = Attempt(username, source[:64], mark=secrets.token_hex(8))

        def count(doc: dict, now: float) -> None:
            if doc.get("locked_until", 0) > now:
                raise Locked(doc["locked_until"] - now)
            if now - doc.get("last_failure", 0) > SOURCE_MEMORY_S:
                doc["failures"] = 0
            flying = {mark: at for mark, at in (doc.get("in_flight") or {}).items()
                      if now - at < IN_FLIGHT_S}
            if doc.get("failures", 0) + len(flying) >= max(LOCK_AFTER, doc.get("failures", 0) + 1):
                raise Locked(1)  # as many checks under way as guesses are left: retry shortly
            flying[attempt.mark] = now
            doc["in_flight"] = flying
        self._update(source_doc_id(username, source),
                     {"username": username[:64], "source": source[:64]}, count)
        return attempt

    def failed(self, attempt: Attempt) -> float:
        """Count a wrong password against the account's ceiling; the lock it started, if any."""
        def count_source(doc: dict, now: float) -> None:
            (doc.get("in_flight") or {}).pop(attempt.mark, None)
            doc["failures"] = doc.get("failures", 0) + 1
            doc["last_failure"] = now
            attempt.locks_for = source_lock_s(doc["failures"])
            if attempt.locks_for:
                doc["locked_until"] = now + attempt.locks_for
        self._update(source_doc_id(attempt.username, attempt.source), {}, count_source)
        locks_for = attempt.locks_for

        def count(doc: dict, now: float) -> None:
            nonlocal locks_for
            if now - doc.get("window_start", 0) > ACCOUNT_WINDOW_S:
                doc.update(window_start=now, failures=0)
            doc["failures"] = doc.get("failures", 0) + 1
            if doc["failures"] >= ACCOUNT_CEILING and doc.get("locked_until", 0) <= now:
                doc["locked_until"] = now + ACCOUNT_LOCK_S
                locks_for = max(locks_for, ACCOUNT_LOCK_S)
        self._update(account_doc_id(attempt.username), {"username": attempt.username[:64]}, count)
        return locks_for

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: this source starts afresh."""
        def clear(doc: dict, _now: float) -> None:
            (doc.get("in_flight") or {}).pop(attempt.mark, None)
            doc.update(failures=0, locked_until=0)
        self._update(source_doc_id(attempt.username, attempt.source), {}, clear)

    def _update(self, doc_id: str, fields: dict, change: Callable[[dict, float], None]) -> dict:
        """Read, change and write one counter with its revision; a 409 re-reads and retries."""
        for _ in range(MAX_ATTEMPTS):
            doc = self.db.get_or_none(doc_id) or {"_id": doc_id, "type": "login_failures",
                                                  "schema_version": 1, **fields}
            change(doc, self.clock())
            try:
                self.db.put(doc)
                return doc
            except Conflict:
                continue
        raise Locked(1)  # under a storm of guesses: refuse this one rather than check it

    def purge(self, now: float | None = None) -> int:
        """Delete counters that no longer lock anything, would be forgotten and have no check in
        flight; how many (the worker's `lockout_purge` job, server/worker.py). A counter written
        meanwhile answers 409 in the batch and is kept."""
        now = self.clock() if now is None else now
        deleted, batch = 0, []
        # deleted a batch at a time, so memory stays flat however many sources ever failed (one
        # a page boundary skips after a delete goes at the next run)
        for doc in self.db.docs_with_prefix("lockout:"):
            if forgotten(doc, now):
                batch.append({"_id": doc["_id"], "_rev": doc["_rev"], "_deleted": True})
            if len(batch) >= PURGE_BATCH:
                deleted += self._delete(batch)
                batch = []
        return deleted + (self._delete(batch) if batch else 0)

    def _delete(self, stubs: list[dict]) -> int:
        return sum(1 for result in self.db.bulk_docs(stubs) if not result.get("error"))


def forgotten(doc: dict, now: float) -> bool:
    """Whether a counter no longer counts for anything: unlocked, its last failure (or its
    account window) over a day old, no check still in flight."""
    last = max(doc.get("last_failure", 0), doc.get("window_start", 0))
    flying = any(now - at < IN_FLIGHT_S for at in (doc.get("in_flight") or {}).values())
    return doc.get("locked_until", 0) <= now and now - last > SOURCE_MEMORY_S and not flying
