"""Issue 13: many held connections at once on one web process (gunicorn, gevent workers).

Real parts: the embedded pouchdb-server, the hierarchy provisioned by the real provisioning
code (one town, V villages, one cadre per village, officials of the town), `fieldsync web` as
its own process, and a load client under gevent (bench/concurrency_load.py) that holds device
`_changes` longpolls spread over the villages (re-polling from their last_seq, as PouchDB's live
pull does), officials' alert streams and half-open connections, then writes to each village in
turn and times how long each of its held longpolls takes to answer, and pushes mediation
requests from several devices with nothing held and again under the load (both times from a
fresh process of their own, bench/concurrency_push.py, never on the loop that holds the
sockets). /healthz is probed throughout by a small process of its own (bench/healthz_probe.py:
one blocking connection, no other work), first alone for the floor; the web worker measures its
own gevent loop's lag (server/serve.py LoopLag, read from /api/v1/monitoring before and after
the load); the web worker's RSS, its TCP connections to CouchDB, and each process's CPU and
time spent waiting for a core are sampled from /proc.

One cadre account per village holds all of that village's longpolls, so the bench raises the
per-account budgets (FIELDSYNC_MAX_HELD_PER_ACCOUNT, ..._STREAMS_PER_ACCOUNT) to what it opens;
the per-process budgets stay at their defaults.

Targets (issue 13): zero 503 within the budget; woken p99 <= 2 s; push p99 <= 2 x baseline;
/healthz p99 <= 100 ms; web RSS <= 600 MB; upstream connections <= 2 x villages with waiters.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.harness import (PROJECT_ROOT, Options, RssSampler, clean_up, cpu_seconds, log, machine,
                           now_iso, terminate, worker_pid)
from bench.gateway_push import PASSWORD, TOWN, cadre_of, provisioning_file
from models.provisioning import parse_json
from server.bootstrap import build_services
from server.config import Settings
from server.embedded_couchdb import ADMIN_USER, EmbeddedCouchDB, free_port
from sync.directory.provisioning import apply_plan, ensure_server_databases, plan_provisioning

PROBE_EVERY_S = 0.1
IDLE_PROBE_S = 6.0  # the /healthz floor: this long of probes before anything else runs
NAME = "concurrency"
TITLE = "held longpolls, alert streams and half-open connections on one web process"
# `live` of the `held` longpolls are real PouchDB live replications (bench/live_devices.js)
FULL = {"villages": 50, "held": 2000, "live": 200, "streams": 200, "half_open": 1000,
        "push_devices": 20, "pushes_each": 100, "settle_s": 20}
QUICK = {"villages": 10, "held": 300, "live": 30, "streams": 30, "half_open": 100, "push_devices": 5,
         "pushes_each": 20, "settle_s": 8}
OFFICIALS = 10


def provisioning(villages: list[str]) -> str:
    """gateway_push's hierarchy and cadres (bench.cNN), plus OFFICIALS officials of the town."""
    data = json.loads(provisioning_file(villages))
    data["accounts"] += [{"username": f"bench.o{n}", "display_name": f"镇干部{n}",
                          "role": "town_official", "jurisdiction": TOWN, "password": PASSWORD}
                         for n in range(OFFICIALS)]
    return json.dumps(data, ensure_ascii=False)


def upstream_connections(pid: int, couch_port: int) -> int:
    """Established TCP connections of `pid` to the CouchDB port (from /proc)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return 0
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and remote_port == couch_port and fields[9] in inodes:
                count += 1
    return count


def p99(values: list[float]) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1) if ordered else None


def waiting_seconds(pid: int) -> float | None:
    """Time the main thread of `pid` has spent runnable but waiting for a core
    (/proc/<pid>/schedstat, second field, ns), or None."""
    try:
        with open(f"/proc/{pid}/schedstat") as handle:
            return int(handle.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def healthz_figures(probe: dict, load_started: float, phases: dict) -> dict:
    """p99 of the probe's samples: before the load (the floor), during it, and per phase."""
    samples = probe["samples"]
    during = [ms for t, ms in samples if t >= load_started]
    figures = {"healthz_p99_ms": p99(during), "healthz_max_ms": max(during, default=None),
               "healthz_samples": len(during), "healthz_failed": probe["failed"],
               "healthz_idle_p99_ms": p99([ms for t, ms in samples if t < load_started]),
               "healthz_idle_samples": sum(1 for t, _ in samples if t < load_started)}
    figures["healthz_p99_ms_by_phase"] = {
        phase: p99([ms for t, ms in samples if start <= t <= end])
        for phase, (start, end) in phases.items()}
    return figures


def loop_lag(url: str, official: dict) -> dict | None:
    """The web worker's own loop-lag gauge (mobile_api/loop_lag.py), from /healthz (also in
    /api/v1/monitoring, which reads every stored alert: minutes after a full-size run)."""
    try:
        return requests.get(f"{url}/healthz", timeout=60).json().get("loop_lag")
    except (requests.RequestException, ValueError) as exc:
        log(f"loop lag not read: {exc}")
        return None


def lag_during(before: dict, after: dict) -> dict:
    """Loop-lag samples taken between two readings of the gauge: how many, and the bucket bound
    (ms) the p50 / p99 fall under (the gauge keeps counts per bucket, not each sample)."""
    earlier = dict((bound, count) for bound, count in before["at_most_ms"])
    counts = [("more" if bound is None else bound, count - earlier.get(bound, 0))
              for bound, count in after["at_most_ms"]]
    total = sum(count for _, count in counts)

    def under(q: float) -> int | str | None:
        seen = 0
        for bound, count in counts:
            seen += count
            if total and seen >= q * total:
                return bound
        return None
    return {"samples": total, "p50_at_most_ms": under(0.5), "p99_at_most_ms": under(0.99),
            "max_ms_since_start": after["max_ms"], "counts_at_most_ms": counts,
            "last_minute": after["last_minute"]}


def profiler(pid: int, out: Path) -> subprocess.Popen | None:
    """py-spy sampling the web worker for the whole load (--profile), if it is installed."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        log("--profile: py-spy is not installed in this virtualenv (pip install py-spy)")
        return None
    return subprocess.Popen([str(spy), "record", "--nonblocking", "-p", str(pid), "-r", "50", "-f", "raw",
                             "-o", str(out), "-d", "3600"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def write_profile(spy: subprocess.Popen, raw: Path) -> None:
    """Stop py-spy; bench/results/concurrency.profile.txt: functions by samples (own, inclusive)."""
    spy.send_signal(2)  # SIGINT: py-spy writes what it sampled
    spy.wait(timeout=60)
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines() if raw.exists() else []:
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
    lines = [f"py-spy, 50 Hz, web worker: {total} samples (busy samples only)", "", "own:"]
    lines += [f"{n:6d}  {f}" for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:40]]
    lines += ["", "inclusive:"]
    lines += [f"{n:6d}  {f}" for f, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:80]]
    (PROJECT_ROOT / "bench" / "results" / f"{NAME}.profile.txt").write_text("\n".join(lines) + "\n")


def login(url: str, username: str, device: str) -> str:
    answer = requests.post(f"{url}/api/v1/login", timeout=60, json={
        "username": username, "password": PASSWORD, "device_id": device})
    answer.raise_for_status()
    return answer.json()["token"]


def run(options: Options) -> dict:
    figures = dict(QUICK if options.quick else FULL)
    # the web process's shared CouchDB pool (FIELDSYNC_COUCHDB_CONNECTIONS); another size to price it
    figures["couchdb_connections"] = int(os.environ.get("FIELDSYNC_BENCH_COUCHDB_CONNECTIONS")
                                         or Settings.couchdb_connections)
    # the load client (2,000 phones' longpolls, 200 PouchDB replicas and 200 officials' pages in
    # node, the pushers) shares the 2 cores with the service; in the field they are elsewhere.
    # FIELDSYNC_BENCH_LOAD_NICE runs it (and its node children) at that niceness: the service's
    # figures without the generator taking a core from it. 0 (the default): equal shares.
    load_nice = int(os.environ.get("FIELDSYNC_BENCH_LOAD_NICE") or 0)
    tmp = Path(tempfile.mkdtemp(prefix="fieldsync-bench-concurrency-"))
    embedded = EmbeddedCouchDB(tmp / "data")
    web = probe = None
    try:
        embedded.start()
        villages = [f"4412261013{n:02d}" for n in range(figures["villages"])]
        port = free_port()
        settings = Settings(couchdb_url=embedded.url, couchdb_user=ADMIN_USER,
                            couchdb_password=embedded.password, db_prefix="bench_",
                            data_dir=tmp / "var", http_port=port, secret_key=secrets.token_hex(32),
                            id_hash_key=secrets.token_hex(32),
                            max_held_per_account=figures["held"], max_streams_per_account=figures["streams"],
                            couchdb_connections=figures["couchdb_connections"])
        services = build_services(settings)
        ensure_server_databases(services.couch, services.names)
        plan = plan_provisioning(parse_json(provisioning(villages)), services.directory)
        apply_plan(plan, services.couch, services.names)
        log(f"provisioned {len(villages)} villages and {OFFICIALS} officials")
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
        env.update(settings.child_env())
        web_log = tmp / "web.log"
        kind = os.environ.get("FIELDSYNC_BENCH_WEB", "gunicorn")  # or waitress: the alternative
        argv = ([sys.executable, "-m", "bench.waitress_web"] if kind == "waitress"
                else [str(Path(sys.executable).parent / "fieldsync"), "web"])
        with web_log.open("wb") as out:
            web = subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                requests.get(f"{url}/healthz", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.2)
        pid = web.pid if kind == "waitress" else worker_pid(web.pid)
        log(f"web master {web.pid}, worker {pid} at {url}")
        spec = {"url": url, **figures, "held_villages": len(villages),
                "villages": [{"code": code, "user": cadre_of(code), "device": f"phone-{code}",
                              "token": login(url, cadre_of(code), f"phone-{code}")}
                             for code in villages],
                "officials": [{"user": f"bench.o{n}", "token": login(url, f"bench.o{n}", f"web-{n}")}
                              for n in range(OFFICIALS)]}
        upstream: list[tuple[float, int]] = []  # (unix s, established connections to CouchDB)
        loads: list[float] = [os.getloadavg()[0]]
        stop = threading.Event()

        def count_upstream() -> None:
            while not stop.is_set():
                upstream.append((time.time(), upstream_connections(pid, embedded.port)))
                if len(upstream) % 10 == 0:
                    loads.append(os.getloadavg()[0])
                stop.wait(0.5)
        counter = threading.Thread(target=count_upstream, daemon=True)
        counter.start()
        spy = profiler(pid, tmp / "profile.txt") if options.profile else None
        lag_before = loop_lag(url, spec["officials"][0])
        probe = subprocess.Popen([sys.executable, "-m", "bench.healthz_probe", url, str(PROBE_EVERY_S)],
                                 cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(IDLE_PROBE_S)  # the floor: the probe alone, nothing held
        pids = {"web": pid, "couchdb": embedded.child.process.pid, "healthz_probe": probe.pid}
        cpu_before = {name: cpu_seconds(p) for name, p in pids.items()}
        waiting_before = {name: waiting_seconds(p) for name, p in pids.items()}
        load_started, started, children_before = time.time(), time.monotonic(), os.times()
        with RssSampler({"web": pid}, interval=0.5) as rss:
            load = subprocess.run([sys.executable, "-m", "bench.concurrency_load"], cwd=PROJECT_ROOT,
                                  input=json.dumps(spec), capture_output=True, text=True,
                                  timeout=3600, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                                  preexec_fn=(lambda: os.nice(load_nice)) if load_nice else None)
        after = os.times()  # the load client (and its pushers, node), reaped: in our children's times
        stop.set()
        wall = time.monotonic() - started
        cpu = {name: round(((cpu_seconds(p) or 0) - (cpu_before[name] or 0)) / wall, 2)
               for name, p in pids.items()}
        waiting = {name: round(((waiting_seconds(p) or 0) - (waiting_before[name] or 0)) / wall, 3)
                   for name, p in pids.items()}
        probe_out, _ = probe.communicate(timeout=60)
        lag_after = loop_lag(url, spec["officials"][0])
        if spy is not None:
            write_profile(spy, tmp / "profile.txt")
        cpu["load_client"] = round((after.children_user + after.children_system
                                    - children_before.children_user - children_before.children_system)
                                   / wall, 2)
        sys.stderr.write(load.stderr[-3000:])
        measured = json.loads(load.stdout)
        measured.update(healthz_figures(json.loads(probe_out), load_started, measured["phases"]))
        measured["web_loop_lag"] = (lag_during(lag_before, lag_after)
                                    if lag_before and lag_after else None)
        result = {
            "name": NAME, "title": TITLE, "measured_at": now_iso(), "machine": machine(),
            "quick": options.quick, "load": figures, "load_client_nice": load_nice, "server": (
                "waitress, 64 threads" if kind == "waitress" else
                "gunicorn + FieldsyncWorker (gevent), 1 worker") + "; embedded pouchdb-server",
            **measured,
            "held": figures["held"], "rss_mb": rss.peak_mb("web"),
            "upstream_connections": max((n for _, n in upstream), default=0),
            "upstream_connections_median": sorted(n for _, n in upstream)[len(upstream) // 2]
            if upstream else 0,
            "upstream_connections_by_phase": {
                phase: max((n for t, n in upstream if start <= t <= end), default=0)
                for phase, (start, end) in measured["phases"].items()},
            "villages_with_waiters": len(villages),
            "pouchdb_live_replications": measured["live_ready"], "cpu_cores_used": cpu,
            "waiting_for_a_core": waiting,
            "load_average_1m": {"start": loads[0], "max": max(loads), "end": os.getloadavg()[0]},
            "load_average_at_end": os.getloadavg(),
            "expected_alerts_per_stream": len(villages) + figures["push_devices"] * figures["pushes_each"],
        }
        statuses = measured["statuses"]
        result["held_503"] = statuses.get("longpoll_503", 0)
        result["pushes_not_stored"] = sum(n for status, n in statuses.items()
                                          if status.startswith("push_") and status != "push_201")
        result["met"] = bool(result["held_503"] == 0 and measured["missed_wakes"] == 0
                             and result["pushes_not_stored"] == 0
                             and measured["live_ready"] >= figures["live"]
                             and (measured["woken_p99_s"] or 99) <= 2.0
                             and measured["push_p99_ratio"] <= 2.0
                             and (measured["healthz_p99_ms"] or 1e9) <= 100
                             and result["rss_mb"] <= 600
                             and result["upstream_connections"] <= 2 * len(villages))
        result["summary"] = [
            f"held {figures['held']} longpolls over {len(villages)} villages, {figures['streams']} "
            f"streams, {figures['half_open']} half-open; 503s: {result['held_503']}"
            f"{f'; load client at nice {load_nice}' if load_nice else ''}",
            f"woken p99 {measured['woken_p99_s']} s ({measured['woken']} woken, "
            f"{measured['missed_wakes']} missed; of them {measured['live_woken']} PouchDB live "
            f"replications, p99 {measured['live_woken_p99_s']} s)",
            f"push p99 {measured['loaded_push_p99_s']} s loaded vs {measured['baseline_push_p99_s']} s "
            f"baseline: ratio {measured['push_p99_ratio']}",
            f"/healthz p99 {measured['healthz_p99_ms']} ms (nothing held: "
            f"{measured['healthz_idle_p99_ms']} ms); web RSS {result['rss_mb']} MB; upstream "
            f"connections {result['upstream_connections']} (villages with waiters {len(villages)})",
            f"alerts seen by every stream: {measured['alerts_seen_by_every_stream']} of "
            f"{result['expected_alerts_per_stream']}",
            f"/healthz p99 by phase (ms): {measured['healthz_p99_ms_by_phase']}",
            f"upstream connections, peak by phase: {result['upstream_connections_by_phase']}",
            f"web loop lag p99 <= {(measured['web_loop_lag'] or {}).get('p99_at_most_ms')} ms; "
            f"cores used {cpu}; waiting for a core (s per s) {waiting}"]
        return result
    finally:
        for process in (probe, web):
            if process is not None:
                terminate(process, timeout=20)
        embedded.stop()
        clean_up(tmp, options.keep, "concurrency bench")
