"""Who owns what when workers' clocks disagree: membership decided on the reader's own
monotonic clock (sync/cluster/membership.py), never by comparing two machines' wall clocks."""
from __future__ import annotations

import pytest

from sync.cluster import membership
from sync.cluster.membership import Membership, rendezvous_owner

KEYS = [f"village:4412261012{n:02d}" for n in range(60)]


class Clocks:
    """One true time line; each worker's wall clock is that plus its skew."""

    def __init__(self):
        self.mono, self.skew = 1000.0, 0.0

    def time(self) -> float:
        return 1_700_000_000.0 + self.mono + self.skew

    def monotonic(self) -> float:
        return self.mono


class StateDb:
    """The heartbeats as the state database holds them (what `heartbeats()` reads)."""

    def __init__(self):
        self.beats: dict[str, dict] = {}

    def docs_with_prefix(self, prefix: str):
        return [dict(doc) for doc in self.beats.values()]


class Worker:
    """A worker as the membership sees it: a heartbeat stamped with its own (skewed) clock."""

    def __init__(self, clocks: Clocks, db: StateDb, worker_id: str, skew: float):
        self.clocks, self.db, self.worker_id, self.skew = clocks, db, worker_id, skew
        with self.on_my_clock():
            self.started_at = clocks.time()
            self.view = Membership(db, worker_id, stale_s=60, handover_s=20, refresh_s=5)

    def on_my_clock(self):
        clocks, skew = self.clocks, self.skew

        class Using:
            def __enter__(self):
                clocks.skew = skew

            def __exit__(self, *exc):
                clocks.skew = 0.0
        return Using()

    def beat(self) -> None:
        with self.on_my_clock():
            self.db.beats[self.worker_id] = {"worker_id": self.worker_id, "beat_at": self.clocks.time(),
                                             "started_at": self.started_at}

    def owned(self) -> set[str]:
        with self.on_my_clock():
            return {key for key in KEYS if self.view.owns(key)}


@pytest.fixture
def clocks(monkeypatch):
    found = Clocks()
    monkeypatch.setattr(membership, "time", found)
    return found


def _run(clocks: Clocks, workers: list[Worker], seconds: float, beating: list[Worker]):
    """Advance one second at a time; heartbeats every 10 s; yield what each one owns."""
    for tick in range(int(seconds)):
        clocks.mono += 1.0
        if tick % 10 == 0:
            for worker in beating:
                worker.beat()
        yield {worker.worker_id: worker.owned() for worker in workers}


def test_a_reader_whose_clock_is_two_minutes_ahead_still_sees_the_others_alive(clocks):
    db = StateDb()
    old = Worker(clocks, db, "w-old", skew=0.0)
    old.beat()
    clocks.mono += 100
    ahead = Worker(clocks, db, "w-ahead", skew=120.0)  # beyond stale_s: all beats look stale
    overlaps = []
    for owned in _run(clocks, [old, ahead], 120, beating=[old, ahead]):
        overlaps.append(len(owned["w-old"] & owned["w-ahead"]))
        assert owned["w-old"] | owned["w-ahead"] <= set(KEYS)
    assert max(overlaps) == 0  # never both on one key (it took every key at once before)
    final = {key: rendezvous_owner(key, ["w-ahead", "w-old"]) for key in KEYS}
    assert owned["w-ahead"] == {k for k, w in final.items() if w == "w-ahead"}


def test_a_joiner_takes_its_share_only_after_the_others_let_go(clocks):
    for skew in (-45.0, 0.0, 45.0):  # the joiner's clock behind, right, ahead
        db = StateDb()
        old = Worker(clocks, db, "w-old", skew=0.0)
        old.beat()
        clocks.mono += 100
        joiner = Worker(clocks, db, "w-new", skew=skew)
        joiner.beat()
        both = [owned for owned in _run(clocks, [old, joiner], 60, beating=[old, joiner])]
        assert all(not (owned["w-old"] & owned["w-new"]) for owned in both), skew
        assert both[-1]["w-new"] and both[-1]["w-old"] | both[-1]["w-new"] == set(KEYS)
        # the gap of drop-before-take: nobody's for at most a refresh and a beat when the
        # clocks agree, at most the handover when the joiner's clock is behind
        gaps = [owned for owned in both if owned["w-old"] | owned["w-new"] != set(KEYS)]
        assert len(gaps) <= (15 if skew == 0 else 20), skew


def test_a_dead_workers_share_passes_on_whatever_the_clocks(clocks):
    db = StateDb()
    dead = Worker(clocks, db, "w-dead", skew=-300.0)  # its beats look five minutes old
    live = Worker(clocks, db, "w-live", skew=0.0)
    dead.beat()
    live.beat()
    clocks.mono += 30
    views = list(_run(clocks, [live], 90, beating=[live]))  # w-dead beats no more
    assert views[-1]["w-live"] == set(KEYS)
    # and while it did beat, its wall-clock age (300 s) did not make it dead at once
    db2 = StateDb()
    behind = Worker(clocks, db2, "w-behind", skew=-300.0)
    reader = Worker(clocks, db2, "w-reader", skew=0.0)
    for owned in _run(clocks, [behind, reader], 80, beating=[behind, reader]):
        assert not (owned["w-behind"] & owned["w-reader"])
    assert owned["w-behind"] and owned["w-reader"]


def test_a_worker_still_starting_up_is_given_no_share(clocks):
    db = StateDb()
    old = Worker(clocks, db, "w-old", skew=0.0)
    old.beat()
    clocks.mono += 100


    def beat_starting():  # what Worker.heartbeat writes during its start-up checks
        db.beats["w-starting"] = {"worker_id": "w-starting", "beat_at": clocks.time(),
                                  "started_at": None, "starting": True}
    for tick in range(120):  # two minutes of start-up checks
        clocks.mono += 1.0
        if tick % 10 == 0:
            old.beat()
            beat_starting()
        assert old.owned() == set(KEYS), tick

