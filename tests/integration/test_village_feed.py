"""The generic village change follower: checkpoints, idle skipping, retries, dead letters."""
from __future__ import annotations

import uuid

import pytest

from sync.directory.provisioning import ensure_village_database
from sync.feeds.village_feed import VillageFeed, checkpoint_id


@pytest.fixture
def settings(settings, cluster_couch):
    """Every test here runs on a single node and through the cluster proxy (a CouchDB cluster's
    behaviour: tests/support/cluster_proxy.py)."""
    return cluster_couch.settings(settings)

VILLAGES = ("441226101201", "441226101202")


class Recorder:
    """A transition that records visit ids and fails on demand."""
    name = "recorder"

    def __init__(self, failing: set[str] | None = None):
        self.seen: list[str] = []
        self.failing = failing or set()

    def filter(self, change: dict) -> bool:
        return change["id"].startswith("visit:")

    def on_match(self, change: dict, village: str) -> None:
        if change["id"] in self.failing:
            raise RuntimeError("boom")
        self.seen.append(change["id"])


def _feed(services, transition, **options) -> VillageFeed:
    return VillageFeed(services.couch, services.names, services.directory, services.state_db,
                       "test", [transition], **options)


def _write(services, village: str, count: int, prefix: str = "visit") -> list[str]:
    db = services.couch.database(services.names.village(village))
    ids = [f"{prefix}:{uuid.uuid4()}" for _ in range(count)]
    db.bulk_docs([{"_id": i, "type": "x", "schema_version": 1} for i in ids])
    return ids


def test_follows_every_village_from_a_stored_checkpoint(provisioned):
    for village in VILLAGES:
        ensure_village_database(provisioned.couch, provisioned.names, village)
    first = _write(provisioned, VILLAGES[0], 5) + _write(provisioned, VILLAGES[1], 3)
    _write(provisioned, VILLAGES[1], 2, prefix="household")  # filtered out
    recorder = Recorder()
    feed = _feed(provisioned, recorder, batch=2)
    assert feed.sweep(max_items=4, until_idle=False) == 4  # the limit holds
    feed.sweep()
    assert sorted(recorder.seen) == sorted(first)
    assert provisioned.state_db.get(checkpoint_id("test", VILLAGES[0]))["since"]

    # a new follower (a restarted worker) resumes from the checkpoints: nothing twice
    again = Recorder()
    later = _write(provisioned, VILLAGES[0], 2)
    assert _feed(provisioned, again).sweep() == 2 + 0
    assert sorted(again.seen) == sorted(later)  # one _bulk_docs: the feed's order is the server's


def test_between_full_passes_only_villages_named_by_the_audit_feed_are_read(provisioned,
                                                                           monkeypatch,
                                                                           cluster_couch):
    for village in VILLAGES:
        ensure_village_database(provisioned.couch, provisioned.names, village)
        _write(provisioned, village, 2)
    feed = _feed(provisioned, Recorder(), full_pass_s=3600)
    feed.sweep()  # the first sweep is a full pass
    assert len(feed.transitions[0].seen) == 4
    reads, infos = [], []
    from sync.couch.client import Database
    changes, info = Database.changes, Database.info
    monkeypatch.setattr(Database, "changes", lambda self, *a, **k: reads.append(self.name)
                        or changes(self, *a, **k))
    monkeypatch.setattr(Database, "info", lambda self: infos.append(self.name) or info(self))
    cluster_couch.settle()
    assert feed.sweep() == 0
    assert reads == [provisioned.names.audit] and infos == []  # idle: one read, any number

    # what is promised for a write straight into CouchDB (no audit record): it is read by the
    # next full pass at the latest, and before it where the server names written databases
    # (`_db_updates`: CouchDB 3.x, the cluster here; pouchdb-server has none)
    direct = _write(provisioned, VILLAGES[0], 1)
    cluster_couch.settle()
    early = feed.sweep()
    assert early == (1 if feed._db_updates else 0)
    # a write through fieldsync leaves an audit record naming its village: read at once
    audited = _write(provisioned, VILLAGES[1], 1)
    provisioned.couch.database(provisioned.names.audit).create_doc(
        {"_id": f"audit:write:{VILLAGES[1]}:{uuid.uuid4().hex}", "type": "audit_entry"})
    cluster_couch.settle()
    reads.clear()
    assert feed.sweep() == 1 and feed.transitions[0].seen[-1] == audited[0]
    assert provisioned.names.village(VILLAGES[0]) not in reads
    feed.full_pass_s = 0  # the full pass is due
    reads.clear()
    assert feed.sweep() == 1 - early and direct[0] in feed.transitions[0].seen
    # an unchanged village costs one changes read from its checkpoint, no `GET /db`: the feed
    # decides "unchanged", never a comparison of `update_seq` with `last_seq`
    assert infos == [] and all(reads.count(provisioned.names.village(v)) >= 1 for v in VILLAGES)


def _unrecorded_write(services) -> tuple[VillageFeed, list[str]]:
    """A feed past its first full pass, then a write nobody named (a web process killed
    between a write and its audit record)."""
    ensure_village_database(services.couch, services.names, VILLAGES[0])
    feed = _feed(services, Recorder(), full_pass_s=3600)
    feed.sweep()
    return feed, _write(services, VILLAGES[0], 1)


@pytest.mark.cluster_proxy(changes_lag_s=0.3, db_updates=False)
def test_a_web_process_start_makes_the_next_sweep_a_full_pass(provisioned, cluster_couch):
    feed, unrecorded = _unrecorded_write(provisioned)
    cluster_couch.settle()
    assert feed.sweep() == 0
    provisioned.audit.record_web_start("host", 4242)  # what its restart writes first
    # a cluster's feed may list the record only a moment later: then the sweep after that
    # makes the full pass (this one, on a single node)
    found = feed.sweep()
    cluster_couch.settle()
    found += feed.sweep()
    assert found == 1 and feed.transitions[0].seen[-1] == unrecorded[0]
    assert feed.sweep() == 0  # one full pass, then back to what the audit feed names
    if cluster_couch.cluster:
        assert cluster_couch.proxy.counts["lagged_reads"] > 0  # the lag was there


@pytest.mark.cluster_proxy(changes_lag_s=0.3, db_updates=False)
def test_a_web_start_seen_late_is_not_skipped_by_a_full_pass(provisioned, cluster_couch):
    feed, unrecorded = _unrecorded_write(provisioned)
    provisioned.audit.record_web_start("host", 4242)
    feed.full_pass_s = 0  # a periodic full pass runs before either has reached the feeds
    feed.sweep(max_rounds=1)
    feed.full_pass_s = 3600
    cluster_couch.settle()
    feed.sweep()  # the web start is read now, and makes a full pass
    assert unrecorded[0] in feed.transitions[0].seen


def test_a_failing_change_is_retried_then_dead_lettered_without_stalling(provisioned):
    ensure_village_database(provisioned.couch, provisioned.names, VILLAGES[0])
    written = set(_write(provisioned, VILLAGES[0], 3))
    # the order of one _bulk_docs in the feed is the server's to choose: take it from the feed
    db = provisioned.couch.database(provisioned.names.village(VILLAGES[0]))
    ids = [c["id"] for c in db.changes().results if c["id"] in written]
    recorder = Recorder(failing={ids[1]})
    feed = _feed(provisioned, recorder, max_retries=3)
    feed.sweep(until_idle=False)
    assert recorder.seen == ids[:1]  # stopped before the failing change, checkpoint kept
    feed.sweep(until_idle=False)
    assert recorder.seen == ids[:1]
    feed.sweep(until_idle=False)  # third failure: dead letter, move on
    assert recorder.seen == [ids[0], ids[2]]
    letters = feed.dead_letters()
    assert [(d["doc_id"], d["transition"]) for d in letters] == [(ids[1], "recorder")]
    assert "boom" in letters[0]["error"]
    assert feed.sweep() == 0
