"""Exactly once: racing workers, the gateway racing the sweep, and a worker killed with SIGKILL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.alerting import SECRET, VILLAGE, bypass_write, mediation_request, run_until_idle

from models.doc_ids import alert_id
from server.bootstrap import build_services
from server.worker import Worker


@pytest.fixture
def settings(settings, cluster_couch):
    """Every test here runs on a single node and through the cluster proxy (a CouchDB cluster's
    behaviour: tests/support/cluster_proxy.py)."""
    return cluster_couch.settings(settings)


def _race(*workers_and_now) -> None:
    barrier = threading.Barrier(len(workers_and_now))
    errors = []

    def run(worker, now):
        barrier.wait()
        try:
            run_until_idle(worker, now)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run, args=pair) for pair in workers_and_now]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads), errors


def test_two_workers_raise_escalate_and_deliver_each_thing_once(quiet, webhook):
    requests = [mediation_request() for _ in range(8)]
    for request in requests:
        bypass_write(quiet, request)
    # two workers = two independent sets of services on the same CouchDB
    other = build_services(quiet.settings)
    one, two = Worker(quiet, worker_id="w1"), Worker(other, worker_id="w2")
    one.heartbeat()  # both registered before the work: no handover during the test
    two.heartbeat()
    _race((one, None), (two, None))
    later = datetime.now(UTC) + timedelta(minutes=6)
    _race((one, later), (two, later))

    alerts = [quiet.alerts.store.get(alert_id(r["_id"])) for r in requests]
    assert all(alerts) and len(list(quiet.alerts.store.active())) == len(requests)
    for alert in alerts:
        assert sorted(alert["steps"]) == ["0", "1"]
        deliveries = quiet.alerts.store.deliveries_of(alert["_id"])
        assert sorted((d["channel"], d["recipient"], d["step"]) for d in deliveries) == sorted(
            [("inbox", "huang.jh", 0), ("webhook", "huang.jh", 0)] +
            [(c, who, 1) for c in ("inbox", "webhook") for who in ("zhou.tl", "wu.cd")])
        assert all(d["state"] == "delivered" for d in deliveries)
    # one record per request and per delivery: nothing left in conflict (a cluster's 201 + 202
    # merged by the workers' sweeper)
    db = quiet.alerts.store.db
    stored = db.all_docs(include_docs=True, conflicts=True)["rows"]
    assert [row["id"] for row in stored if row["doc"].get("_conflicts")] == []
    keys = webhook.keys()
    duplicate_sends = len(keys) - len(set(keys))
    print(f"webhook sends: {len(keys)}, keys: {len(set(keys))}, duplicate sends: "
          f"{duplicate_sends}")
    assert len(set(keys)) == len(requests) * 3  # every webhook sent
    assert duplicate_sends == 0  # and once: outside a handover every delivery has one owner
    other.alerts.close()


def test_the_gateway_and_the_sweep_converge_on_one_alert(alerting, make_device, webhook):
    phone = make_device("chen.zq", VILLAGE)
    request = mediation_request()
    phone.one({"op": "put", "doc": request})
    assert phone.one({"op": "push"})["denied"] == []
    webhook.wait_for(1)
    before = alerting.alerts.store.deliveries_of(alert_id(request["_id"]))
    run_until_idle(Worker(alerting, worker_id="w1"))
    alert = alerting.alerts.store.get(alert_id(request["_id"]))
    assert alert["detected_by"] == "gateway"
    after = alerting.alerts.store.deliveries_of(alert["_id"])
    assert sorted(d["_id"] for d in after) == sorted(d["_id"] for d in before)
    assert len(webhook.keys()) == 1


def _start_worker(env: dict) -> subprocess.Popen:
    exe = str(Path(sys.executable).parent / "fieldsync")
    return subprocess.Popen([exe, "worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_a_worker_killed_mid_way_neither_misses_nor_repeats(quiet, webhook, cli_env):
    webhook.delay_s = 0.2
    env = {**cli_env, "FIELDSYNC_WEBHOOK_URL": webhook.url, "FIELDSYNC_WEBHOOK_SECRET": SECRET,
           "FIELDSYNC_ALERT_INLINE_DISPATCH": "false", "FIELDSYNC_DELIVERY_LEASE_S": "2",
           "FIELDSYNC_ALERT_SWEEP_INTERVAL_S": "0.5", "FIELDSYNC_DELIVERY_INTERVAL_S": "0.3",
           "FIELDSYNC_ESCALATION_INTERVAL_S": "60",
           # the killed worker's share passes to the next one when its heartbeat is 3 s old
           "FIELDSYNC_HEARTBEAT_INTERVAL_S": "0.5", "FIELDSYNC_HEARTBEAT_STALE_S": "3"}
    requests = [mediation_request() for _ in range(10)]
    for request in requests:
        bypass_write(quiet, request)
    first = _start_worker(env)
    try:
        with webhook.changed:
            assert webhook.changed.wait_for(lambda: len(webhook.posts) >= 3, 60)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        seen_at_kill = len(set(webhook.keys()))
        assert seen_at_kill < len(requests)
        second = _start_worker(env)
        try:
            webhook.wait_for(len(requests), timeout=90)
            deadline = time.monotonic() + 60  # and the outbox knows (a resend may be due)
            while time.monotonic() < deadline and any(
                    d["state"] != "delivered" for d in quiet.alerts.store.db.docs_with_prefix(
                        "delivery:")):
                time.sleep(0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    expected = set()
    for request in requests:
        alert = quiet.alerts.store.get(alert_id(request["_id"]))
        assert alert is not None
        hooks = [d for d in quiet.alerts.store.deliveries_of(alert["_id"])
                 if d["channel"] == "webhook"]
        assert len(hooks) == 1 and hooks[0]["state"] == "delivered"
        expected.add(hooks[0]["idempotency_key"])
    keys = webhook.keys()
    assert set(keys) == expected  # none missed, none invented
    # at most the one POST in flight at the kill is repeated, under the same key
    assert len(keys) - len(set(keys)) <= 1


def _handover_windows(events: list[tuple[str, float]], handover_s: float, interval_s: float
                      ) -> list[tuple[float, float]]:
    """When the workers' views may disagree: from a join until the joiner's handover is over and
    everyone has read two more beats; from a leave until everyone has read two more beats."""
    return [(at, at + (handover_s if kind == "join" else 0.0) + 2 * interval_s)
            for kind, at in events]


@pytest.mark.cluster_proxy(changes_lag_s=0.3)
def test_deliveries_flowing_while_a_worker_joins_and_another_leaves(quiet, webhook, cluster_couch):
    """Measured: sends per idempotency key while deliveries flow and the membership changes
    twice (w2 joins, then w1 leaves cleanly). The figure goes in docs/alerts.md."""
    from support.alerting import configure
    from sync.feeds.heartbeat import leave
    interval = 0.5
    # requests are written past the gateway: a full pass every second sees them (the gateway's
    # audit records would name their villages at once)
    configure(quiet, heartbeat_interval_s=interval, heartbeat_stale_s=3.0, full_pass_s=1.0)
    webhook.delay_s = 0.05  # a send takes a while: some are in flight when ownership moves
    other = build_services(quiet.settings)
    one, two = Worker(quiet, worker_id="w1"), Worker(other, worker_id="w2")
    stops = {"w1": threading.Event(), "w2": threading.Event()}
    errors: list[Exception] = []

    def work(worker: Worker) -> None:
        try:
            while not stops[worker.worker_id].is_set():
                worker.run_once()  # its heartbeat, its share of the alert duties, merges
                stops[worker.worker_id].wait(0.1)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    requests, events = [], []
    threads = {"w1": threading.Thread(target=work, args=(one,))}
    threads["w1"].start()
    started = time.monotonic()
    for n in range(32):  # a request every 0.25 s for 8 s
        if n == 8:  # at 2 s the second worker joins
            events.append(("join", time.monotonic()))
            threads["w2"] = threading.Thread(target=work, args=(two,))
            threads["w2"].start()
        if n == 20:  # at 5 s the first leaves as a stopping worker does
            stops["w1"].set()
            threads["w1"].join(30)
            leave(quiet.state_db, "w1")
            events.append(("leave", time.monotonic()))
        request = mediation_request(village=("441226101201", "441226101202")[n % 2])
        bypass_write(quiet, request)
        requests.append(request)
        time.sleep(max(0.0, started + (n + 1) * 0.25 - time.monotonic()))
    webhook.wait_for(len(requests), timeout=60)
    time.sleep(2 * interval)  # any late repeat has arrived
    stops["w2"].set()
    threads["w2"].join(30)
    assert not errors, errors
    windows = _handover_windows(events, one.membership.handover_s, interval)
    sends: dict[str, list[float]] = {}
    for post in webhook.accepted():
        sends.setdefault(post["headers"]["X-Fieldsync-Delivery"], []).append(post["at"])
    inside = outside = 0
    for times in sends.values():
        for repeat in sorted(times)[1:]:
            if any(start <= repeat <= end for start, end in windows):
                inside += 1
            else:
                outside += 1
    print(f"handover [{cluster_couch.name}]: {len(requests)} requests, "
          f"{sum(map(len, sends.values()))} webhook sends, {len(sends)} keys; duplicate sends "
          f"inside a handover window: {inside}, outside: {outside}; windows "
          f"{[(round(a - started, 2), round(b - started, 2)) for a, b in windows]} s")
    assert len(sends) == len(requests)  # every alert delivered
    assert outside == 0  # a repeat only ever inside a handover, under the same key
    # and one record per request and per delivery (what a cluster doubled is merged)
    run_until_idle(two)
    stored = quiet.alerts.store.db.all_docs(include_docs=True, conflicts=True)["rows"]
    assert [row["id"] for row in stored if row["doc"].get("_conflicts")] == []
    assert len([r for r in stored if r["id"].startswith("alert:")]) == len(requests)
    other.alerts.close()
