"""Work ownership without exclusive writes: rendezvous hashing over the live workers.

A create answered 201 proves nothing on a cluster (a second writer of the same id may be told
202 and both revisions stored), so no worker claims work by winning a write. Instead every
worker registers with its heartbeat (sync/feeds/heartbeat.py: `started_at`, `beat_at`) and each
piece of work (a village's feed, an alert's escalation, a delivery, a photo) belongs to the live
member whose hash of (member, key) is highest. Every worker computes the same owner from the
same heartbeats without asking anyone.

Whose clock: `beat_at` and `started_at` are the writer's wall clock, which may be minutes off
the reader's. So a reader never compares them with its own clock (beyond a first hint): a
heartbeat is live while the reader has seen it *change* within `stale_s` of the reader's own
monotonic clock, and a member's age is `beat_at - started_at` (both the writer's clock, so
skew-free) plus the reader's monotonic time since it saw that beat. At first sight a heartbeat's
wall-clock age is the only hint: younger than `stale_s` is trusted (so a killed worker's share
passes on as soon as its beat is stale), older than `max_skew_s` is dead, and in between (dead,
or the reader's clock is ahead) it gets `grace_s` to show a new beat. docs/operations.md,
"Guarantees on a single node and on a cluster".

Handover, drop before take: a joining worker counts as a member only once it is `handover_s`
old. The others release its share when they *may* be past that moment (its age measured from
the earliest moment its latest beat can have been written), the joiner takes it when it surely
is (its own age, from its own clock): the share is nobody's for at most a refresh, never two
workers'. A worker that stops cleanly deletes its heartbeat (its share moves at the others' next
refresh); one that died keeps its share until the others have seen no beat for `stale_s`. Two
workers work on one key only while their views disagree otherwise: a heartbeat read late, a
worker that paused for longer than `stale_s` and resumes (that is the handover window), and
everything done twice in it carries the same deterministic id or idempotency key.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from sync.couch.client import CouchError, Database
from sync.feeds.heartbeat import heartbeats

log = logging.getLogger("fieldsync.membership")
MAX_SKEW_S = 600.0  # a heartbeat whose wall-clock age is beyond this at first sight is dead


def rendezvous_owner(key: str, members: list[str]) -> str | None:
    """The member with the highest hash of (member, key): stable when others join or leave."""
    if not members:
        return None
    return max(members, key=lambda member: hashlib.sha256(
        f"{member}\0{key}".encode()).digest())


@dataclass(frozen=True)
class Sighting:
    """One worker's latest heartbeat as this reader saw it, on the reader's monotonic clock:
    the beat was written between `earliest` and `latest`."""
    beat_at: float
    age_at_beat: float  # beat_at - started_at: the writer's own clock, so skew-free
    earliest: float
    latest: float
    leaving: bool = False
    starting: bool = False  # alive, but its start-up checks run: no share of the work yet


def observe(seen: dict[str, Sighting], beats: list[dict], wall_now: float, mono_now: float,
            read_before: float, stale_s: float, grace_s: float = 0.0,
            max_skew_s: float = MAX_SKEW_S) -> dict[str, Sighting]:
    """The sightings after reading `beats` at `mono_now` (the previous read at `read_before`)."""
    found = {}
    for beat in beats:
        worker = beat.get("worker_id")
        if not worker:
            continue
        beat_at = float(beat.get("beat_at") or 0)
        started = beat.get("started_at")
        age_at_beat = max(0.0, beat_at - float(beat_at if started is None else started))
        flags = {"leaving": bool(beat.get("leaving")), "starting": bool(beat.get("starting"))}
        old = seen.get(worker)
        if old is not None and old.beat_at == beat_at:
            found[worker] = Sighting(beat_at, age_at_beat, old.earliest, old.latest, **flags)
            continue
        if old is not None:  # a new beat since the last read: written in between
            earliest, latest = max(read_before, old.latest), mono_now
        else:
            hint = wall_now - beat_at
            if hint < 0:  # the writer's clock is ahead: written just now, as far as we know
                earliest = latest = mono_now
            elif hint < stale_s:
                earliest = latest = mono_now - hint
            elif hint < max_skew_s:  # dead, or our clock is ahead: `grace_s` to beat again
                earliest = latest = mono_now - stale_s + min(grace_s, stale_s)
            else:
                earliest = latest = -float("inf")
        found[worker] = Sighting(beat_at, age_at_beat, earliest, latest, **flags)
    return found


def settled(seen: dict[str, Sighting], mono_now: float, stale_s: float, handover_s: float,
            me: str | None = None, my_age: float | None = None) -> list[str]:
    """The members: live heartbeats whose handover is over (all live ones when none is over
    yet: workers that all just started; never one still `starting`). Others' age is the most
    it can be, `my_age` exact."""
    live = {w: s for w, s in seen.items()
            if mono_now - s.latest < stale_s and not s.leaving and not s.starting}

    def age(worker: str, sighting: Sighting) -> float:
        if worker == me and my_age is not None:
            return my_age
        return sighting.age_at_beat + (mono_now - sighting.earliest)
    done = [w for w, s in live.items() if age(w, s) >= handover_s]
    return sorted(done or live)


def active_members(beats: list[dict], now: float, stale_s: float, handover_s: float
                   ) -> list[str]:
    """The members from one read of the heartbeats at wall time `now` (clocks taken as
    agreeing: the first-sight rules of `observe`)."""
    return settled(observe({}, beats, now, now, now, stale_s), now, stale_s, handover_s)


class Membership:
    """This worker's view of the live workers, refreshed every `refresh_s`."""

    def __init__(self, state_db: Database, worker_id: str, stale_s: float = 60.0,
                 handover_s: float = 20.0, refresh_s: float = 5.0,
                 started_at: float | None = None):
        self.db, self.worker_id = state_db, worker_id
        self.stale_s, self.handover_s, self.refresh_s = stale_s, handover_s, refresh_s
        self.grace_s = min(stale_s, 4 * refresh_s)  # a live worker beats within it
        self._started = time.monotonic() - (0.0 if started_at is None
                                            else max(0.0, time.time() - started_at))
        self._seen: dict[str, Sighting] = {}
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
            mono = time.monotonic()
            self._seen = observe(self._seen, beats, time.time(), mono, self._read_at,
                                 self.stale_s, self.grace_s)
            self._read_at = mono

    def members(self) -> list[str]:
        """The active members (this worker alone when nobody, not even itself, is seen yet)."""
        if time.monotonic() - self._read_at > self.refresh_s:
            self.refresh()
        with self._lock:
            seen = dict(self._seen)
        mono = time.monotonic()
        found = settled(seen, mono, self.stale_s, self.handover_s, self.worker_id,
                        mono - self._started)
        if not found and self.worker_id not in seen:
            return [self.worker_id]
        return found

    def owns(self, key: str) -> bool:
        """Whether this worker should do the work named `key` now."""
        return rendezvous_owner(key, self.members()) == self.worker_id
