"""No-loss chaos test: five PouchDB devices over two villages edit households offline and sync at
random moments while the gateway and the worker are killed with SIGKILL and restarted.

Reproduce a run with FIELDSYNC_CHAOS_SEED=<the printed seed>. At the end every device and the
server hold the same winning revisions; every field's surviving value is the one with the latest
HLC stamp among those written to it; every other value a device wrote was overwritten by an edit
made on top of it or is in the conflict archive; a device whose sync was cut off syncs again
until it succeeds (counted); every mediation request has exactly one alert, raised by the
running worker (the test never runs the sweep itself).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import Device
from models import hlc
from models.examples import example
from server.embedded_couchdb import free_port
from support.signing import signed


@pytest.fixture
def settings(settings, cluster_couch):
    """Every test here runs on a single node and through the cluster proxy (a CouchDB cluster's
    behaviour: tests/support/cluster_proxy.py)."""
    return cluster_couch.settings(settings)


VILLAGES = {"441226101201": ["chen.zq", "chen.two", "chen.three"],
            "441226101202": ["li.xy", "li.two"]}
FIELDS = ("address", "notes", "income_per_capita_fen", "phones")
ROUNDS = 5
EXE = str(Path(sys.executable).parent / "fieldsync")


class Part:
    """`fieldsync web` or `fieldsync worker` as a child process we can SIGKILL and restart."""

    def __init__(self, command: str, env: dict, log: Path):
        self.command, self.env, self.log = command, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([EXE, self.command], env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 90  # a restart under a loaded machine can take a while
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/sync/", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError("the web process did not come back")


class Cadre:
    """One device and what it wrote: (doc id, field, value, revision that carried it)."""

    def __init__(self, device: Device, node: str):
        self.device, self.node, self.clock = device, node, None
        self.writes: list[tuple[str, str, object, str, str, str]] = []

    def edit(self, doc_id: str, rng: random.Random, serial: int) -> None:
        doc = self.device.one({"op": "get", "id": doc_id})
        field = rng.choice(FIELDS)
        value: object = {"address": f"{self.node} 第{serial}号",
                         "notes": f"{self.node} note {serial}",
                         "income_per_capita_fen": rng.randrange(100_000, 2_000_000),
                         "phones": [f"139{rng.randrange(10_000_000, 99_999_999)}"]}[field]
        self.clock = hlc.tick(int(time.time() * 1000), self.clock, self.node)
        doc[field] = value
        doc.setdefault("field_stamps", {})[field] = self.clock
        doc.pop("_conflicts", None)
        parent = doc["_rev"]
        stored = self.device.one({"op": "put", "doc": doc})
        assert stored.get("ok"), stored
        self.writes.append((doc_id, field, value, stored["rev"], parent, self.clock))


@pytest.mark.e2e
def test_no_value_is_lost_while_parts_are_killed(provisioned, cli_env, tmp_path):
    seed = int(os.environ.get("FIELDSYNC_CHAOS_SEED") or random.randrange(1, 10 ** 6))
    print(f"chaos seed: {seed} (rerun with FIELDSYNC_CHAOS_SEED={seed})")
    rng = random.Random(seed)
    for village, cadres in VILLAGES.items():
        for username in cadres:
            if provisioned.directory.account(username) is None:
                provisioned.directory.add_account(
                    {"username": username, "display_name": username, "role": "cadre",
                     "jurisdiction": village, "phone": None, "disabled": False}, "device-pass-1")
            else:
                provisioned.directory.reset_password(username, "device-pass-1")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**cli_env, "FIELDSYNC_HTTP_PORT": str(port), "FIELDSYNC_ALERT_SWEEP_INTERVAL_S": "1",
           # a SIGKILLed worker's villages pass to its restarted successor within 5 s
           "FIELDSYNC_HEARTBEAT_INTERVAL_S": "1", "FIELDSYNC_HEARTBEAT_STALE_S": "5"}
    web, worker = Part("web", env, tmp_path / "web.log"), Part("worker", env, tmp_path / "worker.log")
    web.start()
    worker.start()
    _wait_up(base)
    cadres: dict[str, list[Cadre]] = {}
    for village, usernames in VILLAGES.items():
        cadres[village] = [Cadre(Device(tmp_path / f"{u}-dev", f"{base}/sync/{village}", u,
                                        "device-pass-1", f"dev-{u}"), f"dev-{u}")
                           for u in usernames]
    households: dict[str, list[str]] = {}
    requests_made: list[str] = []
    try:
        for village, group in cadres.items():
            ids = []
            for n in range(3):
                doc = example("household")
                doc.update(_id=f"household:{rng.randrange(16 ** 8):08x}-0000-4000-8000-{n:012d}",
                           village_code=village)
                group[0].device.one({"op": "put", "doc": doc})
                ids.append(doc["_id"])
            households[village] = ids
            assert group[0].device.one({"op": "push"})["ok"]
            for cadre in group[1:]:
                assert cadre.device.one({"op": "pull"})["ok"]
        serial = retries = 0
        for _ in range(ROUNDS):
            for village, group in cadres.items():
                for cadre in group:  # offline edits, often of the same households
                    for _ in range(rng.randrange(1, 3)):
                        serial += 1
                        cadre.edit(rng.choice(households[village]), rng, serial)
                    if rng.random() < 0.3:
                        request = example("mediation_request")
                        request.update(_id=f"mediation:{rng.randrange(16 ** 8):08x}-0000-4000-"
                                           f"8000-{serial:012d}", village_code=village)
                        request = signed(request, cadre.device.username,
                                         device_id=cadre.device.device_id)
                        cadre.device.one({"op": "put", "doc": request})
                        requests_made.append(request["_id"])
            syncing = [c for group in cadres.values() for c in group if rng.random() < 0.7]
            cut_off: list[Cadre] = []
            threads = [threading.Thread(target=_sync_through_a_crash, args=(c, cut_off))
                       for c in syncing]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.05, 0.6))
            victim = rng.choice([web, worker])
            victim.kill()  # mid-sync
            for thread in threads:
                thread.join(timeout=120)
            victim.start()
            _wait_up(base)
            retries += _sync_again_until_done(cut_off, seed)
        # calm: everyone syncs until nothing moves, the worker reconciles
        for _ in range(4):
            for group in cadres.values():
                for cadre in group:
                    cadre.device.run({"op": "push"}, {"op": "pull"})
            for _ in range(20):
                if provisioned.reconciliation.run() == 0:
                    break
        _wait_for_the_workers_alerts(provisioned, requests_made, seed)
        # our passes raced the running worker's (as two workers do during a handover on a
        # cluster): what they both wrote, such as one feedback twice, the worker resolves
        _wait_for_no_conflicts(provisioned, cadres)
    finally:
        web.kill()
        worker.kill()
    print(f"chaos seed {seed}: {retries} device syncs cut off and retried")
    _assert_converged(provisioned, cadres, seed)
    _assert_latest_stamp_survives(provisioned, cadres, seed)
    _assert_nothing_lost(provisioned, cadres, seed)
    _assert_one_alert_each(provisioned, requests_made, seed)


def _sync_through_a_crash(cadre: Cadre, cut_off: list) -> None:
    """Push then pull; the gateway may be killed under it, which can end the node process with
    a connection reset, or a replication with an error. Like an app on a phone, such a device
    syncs again once the service is back (`_sync_again_until_done`)."""
    if not _synced(cadre.device):
        cut_off.append(cadre)


def _synced(device: Device) -> bool:
    try:
        results = device.run({"op": "push"}, {"op": "pull"})
    except Exception:  # noqa: BLE001  any way a device run can end when its server dies
        return False
    return all(result.get("ok") for result in results)


def _sync_again_until_done(cut_off: list, seed: int, attempts: int = 10) -> int:
    """Sync every cut-off device until it succeeds; returns how many were retried."""
    for cadre in cut_off:
        for _ in range(attempts):
            if _synced(cadre.device):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"seed {seed}: {cadre.node} never synced again")
    return len(cut_off)


def _wait_for_the_workers_alerts(services, requests_made, seed, timeout_s: float = 90) -> None:
    """Wait (bounded) until the running worker has raised an alert for every request."""
    alerts = services.couch.database(services.names.alerts)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        raised = {doc.get("request_id") for doc in alerts.docs_with_prefix("alert:")}
        if set(requests_made) <= raised:
            return
        time.sleep(0.5)
    missing = set(requests_made) - raised
    raise AssertionError(f"seed {seed}: the worker raised no alert for {sorted(missing)}")


def _wait_for_no_conflicts(services, cadres, timeout_s: float = 60) -> None:
    """Wait (bounded) until no village lists a conflicted document; `_assert_converged` then
    says what is left, if anything."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(services.couch.database(services.names.village(village))
                   .view("fieldsync", "conflicts")["rows"] for village in cadres):
            return
        time.sleep(0.5)


def _server_rows(services, village: str) -> list[list[str]]:
    db = services.couch.database(services.names.village(village))
    return [[row["id"], row["value"]["rev"]] for row in db.all_docs()["rows"]
            if not row["id"].startswith("_design/")]


def _assert_converged(services, cadres, seed) -> None:
    for village, group in cadres.items():
        db = services.couch.database(services.names.village(village))
        conflicted = db.view("fieldsync", "conflicts")["rows"]
        assert conflicted == [], f"seed {seed}: conflicts left: {conflicted}"
        server = _server_rows(services, village)
        for cadre in group:
            cadre.device.one({"op": "pull"})
            local = cadre.device.one({"op": "all_docs"})["rows"]
            assert local == server, f"seed {seed}: {cadre.node} differs from the server"


def _assert_latest_stamp_survives(services, cadres, seed) -> None:
    """For every field a device wrote, the server keeps the value written with the latest HLC
    stamp (the merge rule), and that stamp."""
    latest: dict[tuple[str, str], tuple[str, object]] = {}
    for group in cadres.values():
        for cadre in group:
            for doc_id, field, value, _, _, stamp in cadre.writes:
                if (doc_id, field) not in latest or stamp > latest[doc_id, field][0]:
                    latest[doc_id, field] = (stamp, value)
    for village in cadres:
        db = services.couch.database(services.names.village(village))
        for (doc_id, field), (stamp, value) in latest.items():
            if not doc_id or db.get_or_none(doc_id) is None:
                continue
            winner = db.get(doc_id)
            if winner.get("village_code") != village:
                continue
            assert (winner.get(field), winner["field_stamps"].get(field)) == (value, stamp), \
                f"seed {seed}: {doc_id} {field} is {winner.get(field)!r}, the latest write was {value!r}"


def _assert_nothing_lost(services, cadres, seed) -> None:
    """Each written value won, or was overwritten by an edit made on top of it (the winner's
    history, or a later device edit whose own fate is accounted for), or is archived."""
    review = services.couch.database(services.names.review)
    archive = list(review.docs_with_prefix("conflict:"))
    writes = [w for group in cadres.values() for c in group for w in c.writes]
    children: dict[str, list[str]] = {}
    for _, _, _, rev, parent, _ in writes:
        children.setdefault(parent, []).append(rev)
    for village, group in cadres.items():
        db = services.couch.database(services.names.village(village))
        for cadre in group:
            for doc_id, field, value, rev, _, _ in cadre.writes:
                winner = db.get(doc_id, revs="true")
                start, ids = winner["_revisions"]["start"], winner["_revisions"]["ids"]
                ancestry = {f"{start - i}-{rev_id}" for i, rev_id in enumerate(ids)}
                archived_revs = {a.get("losing_rev") for a in archive if a.get("doc_id") == doc_id}
                later = _descendants(rev, children)
                if winner.get(field) == value or ancestry & later or archived_revs & later:
                    continue  # it won, an edit was made on top of it, or its branch is archived
                kept = [a for a in archive if a.get("doc_id") == doc_id
                        and a.get("field") == field and a.get("losing_value") == value]
                assert kept, f"seed {seed}: {cadre.node}'s {field}={value!r} ({rev}) was lost"


def _descendants(rev: str, children: dict[str, list[str]]) -> set[str]:
    """`rev` and every device revision written on top of it."""
    found, todo = set(), [rev]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def _assert_one_alert_each(services, requests_made, seed) -> None:
    alerts = [doc for doc in services.couch.database(services.names.alerts)
              .docs_with_prefix("alert:") if doc.get("type") == "alert"]
    by_request = {}
    for alert in alerts:
        by_request.setdefault(alert["request_id"], []).append(alert["_id"])
    assert sorted(by_request) == sorted(requests_made), f"seed {seed}: alerts missing or extra"
    assert all(len(ids) == 1 for ids in by_request.values()), f"seed {seed}: duplicate alerts"
