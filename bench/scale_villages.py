"""Issue 17: the worker's cost with many village databases (docs/scale.md).

Real parts only: the embedded pouchdb-server in a temporary directory, village databases made by
the real provisioning (sync/directory/provisioning.py, several at a time), and the worker as its
own process (its CPU and memory read from /proc and getrusage). Two sizes in the same run and on
the same server: the floor (100 villages) first, then the size of record (5,000; `--quick` 500),
each under its own database prefix. For each size, the worker process measures:

- `startup`: what `fieldsync worker` does first (server databases, design documents of every
  village: ensure_village_designs);
- `first_pass`: the first full pass of both village feeds (reconciliation, alert sweep) with no
  checkpoints stored;
- `full_pass`: a later full pass (every village read from its stored checkpoint: what the
  periodic pass every FIELDSYNC_FULL_PASS_S costs, and a restarted worker's first pass);
- `idle`: the worker's scheduled jobs running for `idle_s` with nothing written: CPU seconds per
  minute of the worker and of the database server.

Reported as ratios of the size of record against the floor (memory: RSS after the passes).
"""
from __future__ import annotations

import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.harness import (PROJECT_ROOT, Options, clean_up, cpu_seconds, log, machine, now_iso,
                           status_kb, terminate)
from models.provisioning import parse_json
from server.bootstrap import build_services
from server.config import Settings
from server.embedded_couchdb import ADMIN_USER, EmbeddedCouchDB
from sync.directory.provisioning import (ensure_server_databases, ensure_village_databases,
                                         plan_provisioning)

NAME = "scale_villages"
TITLE = "Worker idle and full-pass cost and memory with many village databases"
FULL = {"villages": 5000, "floor": 100, "idle_s": 60.0}
QUICK = {"villages": 500, "floor": 100, "idle_s": 30.0}
COUNTY = "441226000000"
PER_TOWN = 900  # village codes are <town 9 digits><001..999>
FILES_PER_DATABASE = 4.1  # pouchdb-server's open files per LevelDB database (16,521 at 4,114)


def village_codes(count: int) -> tuple[list[dict], list[str]]:
    """Jurisdiction rows down to `count` villages (900 per town) and the village codes."""
    rows = [{"code": "441200000000", "name": "肇庆市", "level": "city"},
            {"code": COUNTY, "name": "德庆县", "level": "county", "parent": "441200000000"}]
    codes = []
    for town_no in range((count + PER_TOWN - 1) // PER_TOWN):
        town = f"441226{101 + town_no:03d}000"
        rows.append({"code": town, "name": f"测试镇{town_no + 1}", "level": "town",
                     "parent": COUNTY})
        for n in range(1, min(PER_TOWN, count - town_no * PER_TOWN) + 1):
            code = town[:9] + f"{n:03d}"
            rows.append({"code": code, "name": f"测试村{code[-5:]}", "level": "village",
                         "parent": town})
            codes.append(code)
    return rows, codes


def provision(settings: Settings, count: int) -> dict:
    """The jurisdictions and `count` village databases, by the real provisioning code."""
    services = build_services(settings)
    ensure_server_databases(services.couch, services.names)
    rows, codes = village_codes(count)
    plan = plan_provisioning(parse_json(json.dumps({"jurisdictions": rows})), services.directory)
    if plan.problems:
        raise SystemExit(f"provisioning refused: {[p.describe('en') for p in plan.problems]}")
    started, cpu0 = time.monotonic(), time.process_time()
    services.directory.db.bulk_docs(plan.jurisdiction_docs)

    def progress(done: int, total: int, label: str) -> None:
        if done % 500 == 0 or done == total:
            rate = done / max(time.monotonic() - started, 1e-9)
            log(f"  {label}: {done}/{total} ({rate:.0f}/s)")
    ensure_village_databases(services.couch, services.names, codes, progress)
    seconds = time.monotonic() - started
    return {"villages": count, "seconds": round(seconds, 1),
            "villages_per_s": round(count / seconds, 1),
            "client_cpu_s": round(time.process_time() - cpu0, 1)}


def measure_worker(settings: Settings, idle_s: float, couch_pid: int | None, tmp: Path) -> dict:
    """Run the worker probe (this module's `child()`) as its own process; the server's CPU is
    read at each phase boundary the probe announces."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env.update(settings.child_env())
    err = open(tmp / f"worker-{settings.db_prefix}.log", "wb")
    probe = subprocess.Popen([sys.executable, "-m", "bench.scale_villages", "--child", str(idle_s)],
                             env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=err,
                             text=True)
    server_cpu: dict[str, float] = {}
    result: dict = {}
    try:
        assert probe.stdout is not None
        for line in probe.stdout:
            message = json.loads(line)
            if "mark" in message:
                server_cpu[message["mark"]] = cpu_seconds(couch_pid) or 0.0 if couch_pid else 0.0
                log(f"  worker: {message['mark']}")
            else:
                result = message
        if probe.wait() != 0:
            raise SystemExit(f"worker probe failed: see {err.name}")
    finally:
        terminate(probe)
        err.close()
    for phase in ("startup", "first_pass", "full_pass", "idle"):
        result[phase]["server_cpu_s"] = round(server_cpu[phase + ":end"]
                                              - server_cpu[phase + ":start"], 2)
    window = result["idle"]["wall_s"] / 60.0
    result["idle"]["worker_cpu_s_per_min"] = round(result["idle"]["cpu_s"] / window, 3)
    result["idle"]["server_cpu_s_per_min"] = round(result["idle"]["server_cpu_s"] / window, 3)
    return result


def _open_files(pid: int | None) -> int | None:
    """File descriptors a process holds (the embedded server keeps every database open)."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd")) if pid else None
    except OSError:
        return None


def _ratio(big: float, floor: float) -> float | None:
    return round(big / floor, 2) if floor else None


def embedded_server(kind: str) -> tuple[Path, EmbeddedCouchDB]:
    """A temporary directory and the embedded pouchdb-server started in it."""
    tmp = Path(tempfile.mkdtemp(prefix=f"fieldsync-scale-{kind}-"))
    embedded = EmbeddedCouchDB(tmp / "data")
    log(f"starting the embedded pouchdb-server (data in {embedded.dir})")
    embedded.start()
    return tmp, embedded


def run(options: Options) -> dict:
    sizes = QUICK if options.quick else FULL
    count = options.docs or sizes["villages"]
    needed = int((count + sizes["floor"] + 14) * FILES_PER_DATABASE) + 500
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if needed > limit:  # pouchdb-server keeps every database open: it would fail part-way
        fits = int((limit - 500) / FILES_PER_DATABASE) - sizes["floor"] - 14
        raise SystemExit(f"{count} villages need about {needed} open files in pouchdb-server "
                         f"({FILES_PER_DATABASE} per database, measured), the limit here is "
                         f"{limit}: raise `ulimit -n` or run with --docs {fits}")
    tmp, embedded = embedded_server("villages")
    runs: dict[str, dict] = {}
    ok = False
    try:
        couch_pid = embedded.child.process.pid if embedded.child else None
        for label, villages in (("floor", sizes["floor"]), ("size", count)):
            settings = Settings(couchdb_url=embedded.url, couchdb_user=ADMIN_USER,
                                couchdb_password=embedded.password, db_prefix=f"sv{villages}_",
                                data_dir=tmp / "var", secret_key=secrets.token_hex(32),
                                id_hash_key=secrets.token_hex(32))
            log(f"{label}: provisioning {villages} village databases")
            provisioned = provision(settings, villages)
            log(f"{label}: {provisioned['seconds']} s ({provisioned['villages_per_s']}/s); "
                f"measuring the worker (idle {sizes['idle_s']:.0f} s)")
            provisioned["server_open_files"] = _open_files(couch_pid)
            runs[label] = {"provisioning": provisioned,
                           "worker": measure_worker(settings, sizes["idle_s"], couch_pid, tmp),
                           "server_rss_mb": round((status_kb(couch_pid, "VmRSS") or 0) / 1024, 1)
                           if couch_pid else None}
        ok = True
    finally:
        embedded.stop()
        clean_up(tmp, options.keep or not ok, "server data and worker logs")
    floor, size = runs["floor"]["worker"], runs["size"]["worker"]
    for label, villages in (("floor", sizes["floor"]), ("size", count)):
        stored = runs[label]["worker"]["checkpoints"]
        if stored < 2 * villages:  # reconciliation and the alert sweep, one per village each
            raise SystemExit(f"{label}: the first pass stored {stored} checkpoints for "
                             f"{villages} villages: it did not read them all")
    n_floor, n_size = sizes["floor"], count
    ratios = {
        "villages": _ratio(n_size, n_floor),
        "idle_worker_cpu": _ratio(size["idle"]["worker_cpu_s_per_min"],
                                  floor["idle"]["worker_cpu_s_per_min"]),
        "idle_server_cpu": _ratio(size["idle"]["server_cpu_s_per_min"],
                                  floor["idle"]["server_cpu_s_per_min"]),
        "full_pass_wall": _ratio(size["full_pass"]["wall_s"], floor["full_pass"]["wall_s"]),
        "full_pass_worker_cpu": _ratio(size["full_pass"]["cpu_s"], floor["full_pass"]["cpu_s"]),
        "worker_rss": _ratio(size["rss_after_passes_mb"], floor["rss_after_passes_mb"]),
    }
    files = runs["size"]["provisioning"]["server_open_files"] or 0
    summary = [
        f"{n_size} vs {n_floor} villages ({ratios['villages']}x), embedded pouchdb-server",
        f"server open files after provisioning {n_floor + n_size} databases: {files} "
        f"({round(files / (n_floor + n_size), 1)} per database; limit "
        f"{resource.getrlimit(resource.RLIMIT_NOFILE)[0]})",
        f"provisioning: {runs['size']['provisioning']['villages_per_s']} village databases/s "
        f"({runs['size']['provisioning']['seconds']} s for {n_size})",
        f"idle: worker {size['idle']['worker_cpu_s_per_min']} CPU s/min "
        f"(floor {floor['idle']['worker_cpu_s_per_min']}, {ratios['idle_worker_cpu']}x); "
        f"server {size['idle']['server_cpu_s_per_min']} "
        f"(floor {floor['idle']['server_cpu_s_per_min']}, {ratios['idle_server_cpu']}x)",
        f"full pass: {size['full_pass']['wall_s']} s, worker {size['full_pass']['cpu_s']} CPU s "
        f"(floor {floor['full_pass']['wall_s']} s / {floor['full_pass']['cpu_s']} CPU s; "
        f"{ratios['full_pass_wall']}x wall, {ratios['full_pass_worker_cpu']}x CPU); "
        f"{round(size['full_pass']['wall_s'] / n_size * 1000, 1)} ms per village",
        f"startup (design check of every village): {size['startup']['wall_s']} s; first pass "
        f"{size['first_pass']['wall_s']} s",
        f"worker RSS after the passes: {size['rss_after_passes_mb']} MB "
        f"(floor {floor['rss_after_passes_mb']} MB, {ratios['worker_rss']}x)",
    ]
    return {"name": NAME, "title": TITLE, "measured_at": now_iso(), "machine": machine(),
            "load_average_at_end": os.getloadavg(), "sizes": {"floor": n_floor, "size": n_size},
            "idle_s": sizes["idle_s"], "runs": runs, "ratios": ratios, "summary": summary}


# --- the worker probe (a process of its own) ----------------------------------------------------
def _phase(name: str, work) -> dict:
    print(json.dumps({"mark": name + ":start"}), flush=True)
    wall, cpu = time.monotonic(), time.process_time()
    done = work()
    out = {"wall_s": round(time.monotonic() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
           "done": done}
    print(json.dumps({"mark": name + ":end"}), flush=True)
    return out


def child(idle_s: float) -> None:
    """Measure one worker: startup, the first and a later full pass, then `idle_s` idle."""
    from server.scheduler import start_scheduler
    from server.worker import Worker
    services = build_services(Settings.from_env())
    worker = Worker(services)
    feeds = [services.reconciliation.feed, services.alerts.sweep]

    def startup() -> int:  # what Worker.run() does before its first heartbeat
        ensure_server_databases(services.couch, services.names)
        services.alerts.store.ensure_design()
        return services.reconciliation.ensure_village_designs()

    beating = threading.Event()

    def heartbeats() -> None:  # the scheduler's heartbeat job, beside the passes as in run()
        while not beating.wait(services.settings.heartbeat_interval_s):
            worker.heartbeat()

    def full_pass() -> int:
        return worker.reconcile() + worker.sweep_alerts()

    def later_full_pass() -> int:
        for feed in feeds:
            feed.full_pass_s = 0.0  # the next round is a full pass
        try:
            return full_pass()
        finally:
            for feed in feeds:
                feed.full_pass_s = services.settings.full_pass_s

    def idle() -> int:
        scheduler = start_scheduler(worker.jobs())
        try:
            time.sleep(idle_s)
        finally:
            scheduler.shutdown(wait=True)
        return 0
    result = {"startup": _phase("startup", startup)}
    worker.heartbeat()
    beat_thread = threading.Thread(target=heartbeats, daemon=True)
    beat_thread.start()
    result["first_pass"] = _phase("first_pass", full_pass)
    # proof that the pass read every village: each consumer stored a checkpoint per village
    result["checkpoints"] = sum(1 for _ in services.state_db.docs_with_prefix("checkpoint:"))
    result["full_pass"] = _phase("full_pass", later_full_pass)
    beating.set()  # from here the scheduler's own heartbeat job beats
    result["rss_after_passes_mb"] = round((status_kb(os.getpid(), "VmRSS") or 0) / 1024, 1)
    result["idle"] = _phase("idle", idle)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["villages"] = len(services.directory.villages())
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(float(sys.argv[2]))
