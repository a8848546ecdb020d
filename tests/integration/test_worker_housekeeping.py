"""The worker's housekeeping: lockout counters purged on a schedule; a starting worker beats
before its start-up checks and joins the work split only after them."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from server.worker import Worker
from sync.cluster.membership import Membership
from sync.couch.client import Database
from sync.directory import lockout
from sync.directory.lockout import SOURCE_MEMORY_S, LoginThrottle, account_doc_id, source_doc_id

DAY_S = 24 * 3600


def counters(services) -> set[str]:
    return {doc["_id"] for doc in services.state_db.docs_with_prefix("lockout:")}


def test_the_worker_purges_lockout_counters_that_no_longer_count(services):
    now = time.time()
    long_ago = LoginThrottle(services.state_db, clock=lambda: now - SOURCE_MEMORY_S - 3600)
    recent = LoginThrottle(services.state_db)
    for throttle, username in ((long_ago, "gone.user"), (recent, "recent.user")):
        throttle.failed(throttle.reserve(username, "198.51.100.7"))
    # a check in flight on a counter that has never failed: its mark must survive a purge
    recent.reserve("flying.user", "198.51.100.8")
    worker = Worker(services, worker_id="housekeeper")
    worker.heartbeat()
    job = {job.name: job for job in worker.jobs()}["lockout_purge"]
    assert job.interval_s == services.settings.lockout_purge_interval_s == 3600.0

    assert job.func() == 2
    assert counters(services) == {source_doc_id("recent.user", "198.51.100.7"),
                                  account_doc_id("recent.user"),
                                  source_doc_id("flying.user", "198.51.100.8")}
    assert job.func() == 0  # nothing more to do
    # a day later the recent ones go too, and the flying one once its mark is stale
    later = LoginThrottle(services.state_db, clock=lambda: now + SOURCE_MEMORY_S + 60)
    assert later.purge() == 3 and counters(services) == set()


def test_the_purge_deletes_a_batch_at_a_time(services, monkeypatch):
    monkeypatch.setattr(lockout, "PURGE_BATCH", 3)
    stale = LoginThrottle(services.state_db, clock=lambda: time.time() - 2 * DAY_S)
    for i in range(4):  # 4 sources of one account: 4 source counters and the account's
        stale.failed(stale.reserve("gone.user", f"198.51.100.{i}"))
    sizes = []
    real = Database.bulk_docs
    monkeypatch.setattr(Database, "bulk_docs",
                        lambda db, docs, **kw: sizes.append(len(docs)) or real(db, docs, **kw))
    purged = [LoginThrottle(services.state_db).purge() for _ in range(2)]  # a page edge may wait a run
    assert sum(purged) == 5 and counters(services) == set()
    assert sizes and max(sizes) <= 3


def test_only_one_worker_of_a_cluster_purges(services):
    first, second = Worker(services, worker_id="w-a"), Worker(services, worker_id="w-b")
    for worker in (first, second):
        worker.heartbeat()
    for worker in (first, second):
        worker.membership.refresh()
    owners = [w.worker_id for w in (first, second) if w.membership.owns("job:lockout_purge")]
    assert len(owners) == 1
    idle = second if owners == ["w-a"] else first
    stale = LoginThrottle(services.state_db, clock=lambda: time.time() - 2 * DAY_S)
    stale.failed(stale.reserve("gone.user", "198.51.100.7"))
    assert idle.purge_lockouts() == 0 and len(counters(services)) == 2


def beat_of(services, worker_id: str) -> dict | None:
    return services.state_db.get_or_none(f"heartbeat:{worker_id}")


def wait_for(condition, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_starting_worker_beats_before_its_checks_and_takes_no_share_until_they_end(
        services, client, monkeypatch):
    services.settings = replace(services.settings, heartbeat_interval_s=0.2)
    checking, release = threading.Event(), threading.Event()

    def slow_checks() -> int:  # thousands of villages' design documents
        checking.set()
        release.wait(30)
        return 0
    monkeypatch.setattr(services.reconciliation, "ensure_village_designs", slow_checks)
    peer = Worker(services, worker_id="peer")
    peer.started_at = time.time() - 3600  # an old member of the cluster
    peer.membership = Membership(services.state_db, "peer", handover_s=0.4, refresh_s=0.1,
                                 started_at=peer.started_at)
    peer.heartbeat()
    starter = Worker(services, worker_id="starter")
    thread = threading.Thread(target=starter.run)
    thread.start()
    try:
        assert checking.wait(20)
        assert wait_for(lambda: beat_of(services, "starter") is not None)
        first = beat_of(services, "starter")
        assert first["starting"] is True and first["started_at"] is None
        assert client.get("/healthz").status_code == 200
        # it keeps beating while the checks run, and its peer hands it nothing meanwhile
        assert wait_for(lambda: beat_of(services, "starter")["beat_at"] > first["beat_at"])
        peer.heartbeat()
        peer.membership.refresh()
        assert peer.membership.members() == ["peer"]
        assert not starter.ready.is_set()
        release.set()
        assert wait_for(lambda: beat_of(services, "starter")["starting"] is False)
        ready = beat_of(services, "starter")
        assert ready["started_at"] >= first["beat_at"]  # a newcomer from the end of its checks
    finally:
        release.set()
        starter.stop()
        thread.join(timeout=20)
    assert not thread.is_alive() and beat_of(services, "starter") is None


def test_a_worker_stopped_during_its_checks_starts_no_jobs(services, monkeypatch):
    checking = threading.Event()
    starter = Worker(services, worker_id="starter")

    def checks_then_stop() -> int:
        checking.set()
        starter.stop()
        return 0
    monkeypatch.setattr(services.reconciliation, "ensure_village_designs", checks_then_stop)
    monkeypatch.setattr("server.worker.start_scheduler", lambda jobs: pytest.fail("jobs started"))
    starter.run()
    assert checking.is_set() and beat_of(services, "starter") is None
