"""Issue 5: from a mediation request's acceptance at the gateway to the webhook receiver.

Real parts only: the embedded pouchdb-server, 200 provisioned villages, `fieldsync web` (the
gateway, which raises the alert and sends it at once) and `fieldsync worker` (retries, the sweep)
as their own processes, a webhook receiver (http.server) in this process, and a background load
of device pushes (`_bulk_docs` of verification visits through the gateway, as PouchDB sends them)
running the whole time.

Measured, all against the same server clock (one machine):
- alert latency: webhook receipt time minus the alert's `received_at` (the gateway's acceptance);
- the floor: a bare `_changes` longpoll listener on each target village database, seeing the same
  writes, minus the same `received_at`;
- bypass latency: a request written straight into a village database (past fieldsync: it leaves
  no audit record) until its webhook arrives. pouchdb-server has no `_db_updates`, so the
  worker's sweep finds it on its next full pass over every village: the worker here runs with
  FIELDSYNC_FULL_PASS_S=30 (the default is 1800; 200 villages cost ~0.25 CPU s a pass).
Targets: p99 <= 2 x floor p99, p99 <= 1 s, bypass p99 <= 60 s.
"""
from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.harness import clean_up, log
from models.doc_ids import alert_id
from models.examples import example
from models.provisioning import parse_json
from server.bootstrap import build_services
from server.config import Settings
from server.embedded_couchdb import ADMIN_USER, EmbeddedCouchDB, free_port
from sync.couch.client import CouchServer
from sync.directory.provisioning import apply_plan, ensure_server_databases, plan_provisioning

NAME = "alert_latency"
TITLE = "mediation alert: gateway acceptance -> signed webhook received (vs a bare _changes floor)"
TOWN, COUNTY = "441226101000", "441226000000"
VILLAGES = [f"441226101{n:03d}" for n in range(301, 501)]  # 200 villages
PASSWORD = "bench-pass-2026"
SECRET = "bench-webhook-secret"
# background load: `load_threads` devices each pushing `_bulk_docs` of 20 visits at
# `load_docs_per_s` documents a second (about 2.5 x the pilot's busiest hour, docs/performance.md)
BYPASS_FULL_PASS_S = 30.0
FULL = {"alerts": 200, "bypass": 20, "targets": 10, "pace_s": 0.25, "load_threads": 4,
        "load_docs_per_s": 50.0}
QUICK = {"alerts": 40, "bypass": 5, "targets": 5, "pace_s": 0.25, "load_threads": 4,
         "load_docs_per_s": 50.0}


def _cadre(village: str) -> str:
    return f"bench.c{village[-3:]}"


def _provisioning(load_villages: list[str], targets: list[str]) -> str:
    jurisdictions = [
        {"code": "441200000000", "name": "肇庆市", "level": "city"},
        {"code": COUNTY, "name": "德庆县", "level": "county", "parent": "441200000000"},
        {"code": TOWN, "name": "新圩镇", "level": "town", "parent": COUNTY},
    ] + [{"code": v, "name": f"测试村{v[-3:]}", "level": "village", "parent": TOWN}
         for v in VILLAGES]
    accounts = [{"username": _cadre(v), "display_name": v[-3:], "role": "cadre",
                 "jurisdiction": v, "password": PASSWORD}
                for v in sorted(set(load_villages) | set(targets))]
    accounts.append({"username": "duty.town", "display_name": "值班", "role": "town_official",
                     "jurisdiction": TOWN, "password": PASSWORD})
    return json.dumps({"jurisdictions": jurisdictions, "accounts": accounts}, ensure_ascii=False)


class Sink:
    """The webhook receiver: the time each alert's first signed POST arrived."""

    def __init__(self):
        self.first: dict[str, float] = {}
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                arrived = time.time()
                alert = json.loads(body)["alert"]["_id"]
                with sink.lock:
                    sink.first.setdefault(alert, arrived)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, ids: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(i in self.first for i in ids):
                    return
            time.sleep(0.05)


class Listener(threading.Thread):
    """A bare `_changes` longpoll listener on one village database (the floor)."""

    def __init__(self, url: str, database: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.db = CouchServer(url).database(database)
        self.stop, self.seen = stop, {}

    def run(self) -> None:
        since = str(self.db.info()["update_seq"])
        while not self.stop.is_set():
            try:
                page = self.db.changes(since, longpoll=True, timeout_ms=5_000)
            except Exception:  # noqa: BLE001 - the server stops at the end of the run
                if self.stop.is_set():
                    return
                raise
            now = time.time()
            since = page.last_seq
            for change in page.results:
                self.seen.setdefault(change["id"], now)


def _gateway(base: str, village: str) -> "CouchServer":
    client = CouchServer(f"{base}/sync", _cadre(village), PASSWORD)
    client.session.headers["X-Device-Id"] = f"bench-{village}"
    client.session.headers["X-App-Version"] = "1.4.0"
    return client


def _visit(village: str) -> dict:
    doc = example("verification_visit")
    doc.update(_id=f"visit:{uuid.uuid4()}", village_code=village, photos=[],
               cadre=_cadre(village))
    return doc


def _request(village: str) -> dict:
    doc = example("mediation_request")
    doc.update(_id=f"mediation:{uuid.uuid4()}", village_code=village)
    doc["source"]["cadre"] = _cadre(village)
    return doc


def _load(base: str, villages: list[str], stop: threading.Event, counter: list[int],
          docs_per_s: float) -> None:
    rng = random.Random()
    next_push = time.monotonic()
    while not stop.is_set():
        next_push += 20 / docs_per_s
        stop.wait(max(0.0, next_push - time.monotonic()))
        village = rng.choice(villages)
        try:
            _gateway(base, village).database(village).bulk_docs(
                [_visit(village) for _ in range(20)])
            counter[0] += 20
        except Exception as exc:  # noqa: BLE001 - the load keeps going; errors are counted
            if stop.is_set():
                return
            counter[1] += 1
            log(f"background push failed: {exc}")
            time.sleep(0.5)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))]


def _start(argv: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    out = open(log_path, "wb")
    return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def run(options) -> dict:
    """Run the benchmark (`options.quick` or a bool); returns the result dictionary."""
    quick = options if isinstance(options, bool) else options.quick
    plan = QUICK if quick else FULL
    tmp = Path(tempfile.mkdtemp(prefix="fieldsync-alert-bench-"))
    embedded = EmbeddedCouchDB(tmp / "data")
    procs: list[subprocess.Popen] = []
    stop = threading.Event()
    keep = True
    try:
        embedded.start()
        sink = Sink()
        port = free_port()
        settings = Settings(couchdb_url=embedded.url, couchdb_user=ADMIN_USER,
                            couchdb_password=embedded.password, db_prefix="bench_",
                            data_dir=tmp / "var", http_port=port,
                            secret_key=secrets.token_hex(32), id_hash_key=secrets.token_hex(32),
                            webhook_url=sink.url,
                            webhook_secret=SECRET, full_pass_s=BYPASS_FULL_PASS_S)
        services = build_services(settings)
        ensure_server_databases(services.couch, services.names)
        rng = random.Random(5)
        targets = rng.sample(VILLAGES, plan["targets"])
        load_villages = rng.sample([v for v in VILLAGES if v not in targets], 20)
        parsed = parse_json(_provisioning(load_villages, targets))
        provisioning = plan_provisioning(parsed, services.directory)
        assert not provisioning.problems, provisioning.problems
        apply_plan(provisioning, services.couch, services.names)
        services.alerts.router.save_roster(TOWN, ["duty.town"], None, "bench")
        services.alerts.store.ensure_design()
        log(f"provisioned {len(VILLAGES)} villages")

        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
        env.update(settings.child_env())
        exe = str(Path(sys.executable).parent / "fieldsync")
        procs.append(_start([exe, "web"], env, tmp / "web.log"))
        procs.append(_start([exe, "worker"], env, tmp / "worker.log"))
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # answering (503 until the worker's first heartbeat is fine)
            except OSError:
                time.sleep(0.2)

        listeners = [Listener(embedded.url.replace("://", f"://{ADMIN_USER}:{embedded.password}@"),
                              services.names.village(v), stop) for v in targets]
        for listener in listeners:
            listener.start()
        pushed = [0, 0]
        loaders = [threading.Thread(target=_load, args=(base, load_villages, stop, pushed,
                                                        plan["load_docs_per_s"]),
                                    daemon=True) for _ in range(plan["load_threads"])]
        load_started = time.monotonic()
        for loader in loaders:
            loader.start()
        time.sleep(2.0)  # the load is running before the first measured request

        requests = []
        for i in range(plan["alerts"]):
            village = targets[i % len(targets)]
            doc = _request(village)
            answer = _gateway(base, village).database(village).bulk_docs([doc])
            assert answer and not answer[0].get("error"), answer
            requests.append(doc["_id"])
            time.sleep(plan["pace_s"])
        ids = [alert_id(r) for r in requests]
        sink.wait(ids, 60)
        latencies, floors = [], []
        alerts_db = services.alerts.store.db
        for request_id, aid in zip(requests, ids):
            accepted = datetime.fromisoformat(alerts_db.get(aid)["received_at"]).timestamp()
            latencies.append((sink.first[aid] - accepted) * 1000)
            seen = next(ls.seen[request_id] for ls in listeners if request_id in ls.seen)
            floors.append((seen - accepted) * 1000)

        bypass = []
        admin = services.couch
        for _ in range(plan["bypass"]):
            village = rng.choice(VILLAGES)
            doc = _request(village)
            written = time.time()
            admin.database(services.names.village(village)).put(doc)
            bypass.append((alert_id(doc["_id"]), written))
            time.sleep(0.5)
        sink.wait([aid for aid, _ in bypass], BYPASS_FULL_PASS_S + 120)
        bypass_s = [sink.first[aid] - written for aid, written in bypass]
        stop.set()
        load_s = time.monotonic() - load_started
        for loader in loaders:
            loader.join(timeout=30)
    except BaseException:
        keep = True
        raise
    else:
        keep = not isinstance(options, bool) and options.keep
    finally:
        stop.set()
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        embedded.stop()
        clean_up(tmp, keep, "web.log, worker.log, data")

    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    floor_p50, floor_p99 = _percentile(floors, 0.5), _percentile(floors, 0.99)
    ratio = p99 / floor_p99 if floor_p99 > 0 else None
    bypass_p99 = _percentile(bypass_s, 0.99)
    met = bool(ratio is not None and ratio <= 2.0 and p99 <= 1000 and bypass_p99 <= 60)
    result = {
        "benchmark": NAME, "quick": quick, "villages": len(VILLAGES), "alerts": len(latencies),
        "background_docs_pushed": pushed[0],
        "background_push_errors": pushed[1],
        "background_docs_per_s": round(pushed[0] / load_s, 1),
        "p50_ms": round(p50, 1), "p99_ms": round(p99, 1),
        "max_ms": round(max(latencies), 1), "floor_p50_ms": round(floor_p50, 1),
        "floor_p99_ms": round(floor_p99, 1), "ratio": round(ratio, 2) if ratio else None,
        "bypass_count": len(bypass_s), "bypass_p50_s": round(_percentile(bypass_s, 0.5), 2),
        "bypass_p99_s": round(bypass_p99, 2), "worker_full_pass_s": BYPASS_FULL_PASS_S,
        "targets": {"ratio_max": 2.0, "p99_ms_max": 1000, "bypass_p99_s_max": 60}, "met": met,
        "summary": [f"alert p50 {p50:.0f} ms, p99 {p99:.0f} ms; floor p99 {floor_p99:.0f} ms; "
                    f"ratio {ratio or float('nan'):.2f} (target <= 2)",
                    f"bypass p99 {bypass_p99:.1f} s (target <= 60 s; worker full pass every "
                    f"{BYPASS_FULL_PASS_S:.0f} s); met: {met}"],
    }
    return result


if __name__ == "__main__":
    from bench.harness import Options, write_result
    quick_run = "--quick" in sys.argv
    print(write_result(NAME, run(quick_run), Options(quick=quick_run)))
