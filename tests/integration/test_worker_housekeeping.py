"""The worker's housekeeping: lockout counters purged on a schedule."""
from __future__ import annotations

import time

from server.worker import Worker
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
