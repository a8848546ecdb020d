"""Reconciliation into the central view (issue 6): `python -m bench reconcile`.

Three figures, each against a floor measured on the same server in the same run:

- **ratio**: documents reconciled per second by a real `fieldsync worker` (conflicts resolved,
  central view and duplicate indexes written), over the raw `_bulk_docs` write throughput of
  the same documents into the same server. Target >= 0.5.
- **rss_mb**: the worker's peak resident memory while it reconciles. Target <= 300 MB.
- **idle_cpu_ratio**: the worker's CPU time over an idle window with the large number of
  villages, over the same with the small number (every job of the worker running, nothing to
  do). Target <= 1.5.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import (PROJECT_ROOT, Options, RssSampler, cpu_seconds, log, machine, now_iso,
                           clean_up, status_kb, terminate)
from models.examples import example
from models.identity import check_character
from models.provisioning import parse_json
from server.bootstrap import build_services
from server.config import Settings
from server.embedded_couchdb import ADMIN_USER, EmbeddedCouchDB
from sync.couch.client import split_credentials
from sync.directory.provisioning import apply_plan, ensure_server_databases, plan_provisioning
from sync.feeds.village_feed import checkpoint_id

NAME = "reconcile"
TITLE = "Reconciling village documents into the central view vs raw _bulk_docs writes"
RATIO_MIN, RSS_MB_MAX, IDLE_RATIO_MAX = 0.5, 300.0, 1.5
# idle: the worker's CPU over an idle minute; then the cost of one full pass over every village
# (which a web process start triggers, and FIELDSYNC_FULL_PASS_S schedules), amortized too
FULL = {"docs": 100_000, "villages": 200, "idle_small": 100, "idle_large": 1000, "idle_s": 60.0,
        "pass_window_s": 20.0}
QUICK = {"docs": 10_000, "villages": 20, "idle_small": 10, "idle_large": 100, "idle_s": 20.0,
         "pass_window_s": 10.0}
COUNTY = "441226000000"
VILLAGES_PER_TOWN = 50
# the mix of one village's documents, per 10: 2 households, 6 visits, 1 request, 1 case event
MIX = (("household", 2), ("verification_visit", 6), ("mediation_request", 1), ("case_event", 1))
CONFLICTED_SHARE = 50   # one household in 50 arrives with a concurrent second revision
DUPLICATE_SHARE = 100   # one household in 100 shares an identity number with another village
BATCH = 500
SURNAMES = "陈李黄梁何罗冯邓谭伍张林吴周郑"
GIVEN = ["志强", "秀英", "建华", "丽娟", "国平", "桂芳", "伟明", "海燕", "永红", "少华", "子豪",
         "嘉欣", "俊杰", "美玲", "家豪", "慧敏", "振宇", "晓琳", "文辉", "碧霞"]
EXTERNAL_ENV = "FIELDSYNC_BENCH_COUCHDB_URL"


def village_codes(count: int, offset: int = 0) -> list[str]:
    """Village codes of the bench hierarchy: towns of 50 villages under one county."""
    codes = []
    for n in range(offset, offset + count):
        town = f"{COUNTY[:6]}{101 + n // VILLAGES_PER_TOWN:03d}"
        codes.append(f"{town}{201 + n % VILLAGES_PER_TOWN:03d}")
    return codes


def provisioning_file(villages: list[str]) -> str:
    towns = sorted({code[:9] + "000" for code in villages})
    jurisdictions = [
        {"code": "441200000000", "name": "肇庆市", "level": "city"},
        {"code": COUNTY, "name": "德庆县", "level": "county", "parent": "441200000000"},
    ] + [{"code": town, "name": f"测试镇{town[6:9]}", "level": "town", "parent": COUNTY}
         for town in towns] + [
        {"code": code, "name": f"测试村{code[6:]}", "level": "village", "parent": code[:9] + "000"}
        for code in villages]
    return json.dumps({"jurisdictions": jurisdictions, "accounts": []}, ensure_ascii=False)


def _id_number(village: str, serial: int) -> str:
    """A valid identity number, unique per serial below 13,440,000 (birth date and sequence
    from a scrambled serial, so neighbouring households are not born on the same day)."""
    x = serial * 1_000_003 % 13_440_000  # 1,000,003 is prime: a bijection on the range
    born = f"19{60 + x // 336_000 % 40:02d}{1 + x // 28_000 % 12:02d}{1 + x // 1000 % 28:02d}"
    first17 = f"{village[:6]}{born}{x % 1000:03d}"
    return first17 + check_character(first17)


def _rev(doc: dict, salt: str = "") -> str:
    digest = hashlib.md5((json.dumps(doc, sort_keys=True) + salt).encode()).hexdigest()
    return f"1-{digest}"


class Corpus:
    """The documents of every village: valid device documents, as devices would send them
    (`new_edits: false` with their revisions), a few households with a concurrent revision."""

    def __init__(self, villages: list[str], docs: int):
        self.villages, self.per_village = villages, docs // len(villages)
        self.templates = {kind: example(kind) for kind, _ in MIX}
        self.households = self.requests = self.conflicted = self.duplicated = 0
        self.rng = random.Random(2026)

    def village_docs(self, index: int, village: str) -> list[dict]:
        docs: list[dict] = []
        households: list[str] = []
        requests: list[str] = []
        serial = index * 10_000
        while len(docs) < self.per_village:
            for kind, share in MIX:
                for _ in range(share):
                    if len(docs) >= self.per_village:
                        break
                    serial += 1
                    doc = self._doc(kind, village, serial, households, requests)
                    doc["_rev"] = _rev(doc)
                    docs.append(doc)
                    if kind == "household" and self.households % CONFLICTED_SHARE == 0:
                        other = json.loads(json.dumps(doc))
                        other["notes"] = "另一台设备的修改"
                        other["field_stamps"]["notes"] = "1714525300000-00000-dev-other"
                        other["_rev"] = _rev(other, "other")
                        docs.append(other)
                        self.conflicted += 1
        return docs

    def _doc(self, kind: str, village: str, serial: int, households: list, requests: list) -> dict:
        doc = json.loads(json.dumps(self.templates[kind]))
        doc["village_code"] = village
        unique = uuid.UUID(int=serial * 1_000_003 + int(village), version=4)
        doc["_id"] = f"{doc['_id'].split(':')[0]}:{unique}"
        if kind == "household":
            duplicate = self.households % DUPLICATE_SHARE == 7 and village != self.villages[0]
            target = self.households // DUPLICATE_SHARE % 40  # 40 groups across villages
            # a duplicate takes the head's number of a household of the first village
            head_id = _id_number(self.villages[0], 1 + 10 * target) \
                if duplicate else _id_number(village, serial)
            self.duplicated += duplicate
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN) + \
                self.rng.choice(GIVEN)[1]
            doc["head"] = {"name": name, "id_number": head_id}
            doc["members"][0].update(name=name, id_number=head_id)
            # serials below 3,000,000 (200 villages of 10,000): members' ranges stay apart
            doc["members"][1]["id_number"] = _id_number(village, serial + 3_000_000)
            doc["members"][2]["id_number"] = _id_number(village, serial + 6_000_000)
            households.append(doc["_id"])
            self.households += 1
        elif kind == "verification_visit":
            doc["household_id"] = households[serial % len(households)]
        elif kind == "mediation_request":
            requests.append(doc["_id"])
            self.requests += 1
        elif kind == "case_event" and requests:
            doc["request_id"] = requests[-1]
        return doc


class Server:
    """The embedded pouchdb-server (or an external CouchDB 3.x) and services per name prefix."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.external = os.environ.get(EXTERNAL_ENV)
        self.embedded = None if self.external else EmbeddedCouchDB(tmp / "data")
        self.prefixes: list[str] = []
        self.key = secrets.token_hex(32)

    def start(self) -> None:
        if self.embedded is not None:
            log(f"starting the embedded pouchdb-server (data in {self.embedded.dir})")
            self.embedded.start()
            self.url, self.user, self.password = (self.embedded.url, ADMIN_USER,
                                                  self.embedded.password)
        else:
            self.url, self.user, self.password = split_credentials(self.external)
            log(f"using the CouchDB server at {self.url} ({EXTERNAL_ENV})")

    def services(self, prefix: str, villages: list[str], full_pass_s: float = 1800.0):
        """Provision a hierarchy with these villages under a database prefix of its own."""
        prefix = f"b{uuid.uuid4().hex[:6]}_{prefix}" if self.external else prefix
        self.prefixes.append(prefix)
        settings = Settings(couchdb_url=self.url, couchdb_user=self.user,
                            couchdb_password=self.password, db_prefix=prefix,
                            data_dir=self.tmp / "var", secret_key=self.key, id_hash_key=self.key,
                            full_pass_s=full_pass_s)
        services = build_services(settings)
        ensure_server_databases(services.couch, services.names)
        plan = plan_provisioning(parse_json(provisioning_file(villages)), services.directory)
        if plan.problems:
            raise SystemExit(f"provisioning refused: {[p.describe('en') for p in plan.problems]}")
        apply_plan(plan, services.couch, services.names)
        return services

    def cpu(self) -> float:
        """CPU seconds the embedded server has used (0 for an external one)."""
        if self.embedded is None:
            return 0.0
        return cpu_seconds(self.embedded.child.process.pid) or 0.0

    def stop(self, services=None) -> None:
        if self.embedded is not None:
            self.embedded.stop()
        elif services is not None:
            for name in services.couch.all_dbs():
                if any(name.startswith(prefix) for prefix in self.prefixes):
                    services.couch.database(name).delete_database()


class WorkerProcess:
    """`fieldsync worker` of this virtualenv as a child process."""

    def __init__(self, services, log_path: Path, jobs: str | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
        env.update(services.settings.child_env())
        argv = [str(Path(sys.executable).parent / "fieldsync"), "worker"]
        if jobs:
            argv += ["--jobs", jobs]
        self.log_path = log_path
        with open(log_path, "ab") as out:
            self.process = subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid

    def check(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(f"the worker exited ({self.process.returncode}); see {self.log_path}:"
                             f"\n{self.log_path.read_text()[-2000:]}")

    def cpu(self) -> float:
        return cpu_seconds(self.pid) or 0.0

    def stop(self) -> None:
        terminate(self.process, timeout=30)


def write_raw(services, corpus: Corpus) -> tuple[float, int]:
    """The floor: every village's documents written with `_bulk_docs` (new_edits false, as a
    replicating device sends them), batches of BATCH. Returns seconds and documents."""
    elapsed, written = 0.0, 0
    for index, village in enumerate(corpus.villages):
        docs = corpus.village_docs(index, village)
        db = services.couch.database(services.names.village(village))
        for start in range(0, len(docs), BATCH):
            batch = docs[start:start + BATCH]
            began = time.perf_counter()
            answer = db.bulk_docs(batch, new_edits=False)
            elapsed += time.perf_counter() - began
            failed = [row for row in answer if isinstance(row, dict) and row.get("error")]
            if failed:
                raise SystemExit(f"raw write refused: {failed[:3]}")
            written += len(batch)
        if (index + 1) % max(1, len(corpus.villages) // 10) == 0:
            log(f"  raw writes: {index + 1}/{len(corpus.villages)} villages, {written} documents,"
                f" {written / elapsed:.0f} docs/s")
    return elapsed, written


def wait_reconciled(services, worker: WorkerProcess, villages: list[str], timeout_s: float,
                    consumers: tuple[str, ...] = ("reconcile",)) -> float:
    """Poll until the worker's checkpoints in every village have nothing after them: a
    `_changes?since=<checkpoint>&limit=1` that comes back empty (portable: sequences are
    never compared). A checkpoint is probed again only when it moved."""
    keys = {checkpoint_id(consumer, village): village for village in villages
            for consumer in consumers}
    probed: dict[str, str] = {}
    behind = set(keys)
    started = last_report = time.monotonic()
    while True:
        worker.check()
        rows = services.state_db.all_docs(keys=list(keys), include_docs=True)["rows"]
        for row in rows:
            village, since = keys[row["key"]], (row.get("doc") or {}).get("since")
            if since is None or probed.get(row["key"]) == since:
                continue
            probed[row["key"]] = since
            db = services.couch.database(services.names.village(village))
            if db.changes(since, limit=1).results:
                behind.add(row["key"])
            else:
                behind.discard(row["key"])
        if not behind:
            return time.monotonic()
        if time.monotonic() - last_report > 10:
            log(f"  {'/'.join(consumers)}: {len(keys) - len(behind)}/{len(keys)} checkpoints "
                "caught up")
            last_report = time.monotonic()
        if time.monotonic() - started > timeout_s:
            raise SystemExit(f"not reconciled within {timeout_s} s: {len(behind)} villages behind")
        time.sleep(0.25)


def central_counts(services) -> dict[str, int]:
    db = services.central_db if hasattr(services, "central_db") else \
        services.couch.database(services.names.central)
    counts = {"households": 0, "cases": 0}
    for prefix, name in (("hh:", "households"), ("case:", "cases")):
        counts[name] = len(db.all_docs(startkey=prefix, endkey=prefix + "\ufff0")["rows"])
    review = services.couch.database(services.names.review)
    counts["duplicate_tasks"] = len(review.all_docs(
        startkey="review:duplicate_id:", endkey="review:duplicate_id:\ufff0")["rows"])
    counts["conflicts_archived"] = len(review.all_docs(
        startkey="conflict:", endkey="conflict:\ufff0")["rows"])
    return counts


def reconcile_phase(server: Server, plan: dict, tmp: Path) -> dict:
    villages = village_codes(plan["villages"])
    services = server.services("rc_", villages)
    corpus = Corpus(villages, plan["docs"])
    log(f"raw _bulk_docs writes of {plan['docs']} documents into {len(villages)} villages ...")
    server_cpu = server.cpu()
    raw_s, written = write_raw(services, corpus)
    raw_server_cpu = server.cpu() - server_cpu
    log(f"  raw: {written} documents in {raw_s:.1f} s ({written / raw_s:.0f} docs/s)")
    worker = WorkerProcess(services, tmp / "worker-reconcile.log", jobs="reconcile")
    began, server_cpu = time.monotonic(), server.cpu()
    try:
        with RssSampler({"worker": worker.pid}) as sampler:
            done = wait_reconciled(services, worker, villages, timeout_s=3600)
        cpu, reconcile_server_cpu = worker.cpu(), server.cpu() - server_cpu
        hwm = (status_kb(worker.pid, "VmHWM") or 0) / 1024
    finally:
        worker.stop()
    reconcile_s = done - began
    counts = central_counts(services)
    expected = {"households": corpus.households, "cases": corpus.requests}
    if counts["households"] != corpus.households or counts["cases"] != corpus.requests:
        raise SystemExit(f"central view incomplete: {counts}, expected {expected}")
    log(f"  reconciled in {reconcile_s:.1f} s ({written / reconcile_s:.0f} docs/s); {counts}")
    return {"villages": len(villages), "docs": written, "raw_s": round(raw_s, 2),
            "raw_docs_per_s": round(written / raw_s, 1), "reconcile_s": round(reconcile_s, 2),
            "reconcile_docs_per_s": round(written / reconcile_s, 1),
            "worker_cpu_s": round(cpu, 2),
            "server_cpu_s": {"raw": round(raw_server_cpu, 2),
                             "reconcile": round(reconcile_server_cpu, 2)},
        "rss_mb": round(max(sampler.peak_mb("worker"), hwm), 1),
            "conflicted_households": corpus.conflicted, "shared_id_numbers": corpus.duplicated,
            "central_view": counts, "expected": expected}


QUIET_CPU_S = 0.15  # per 5 s: an idle worker uses about 0.02


def wait_quiet(worker: WorkerProcess, timeout_s: float = 180.0) -> float:
    """Wait until the worker used under QUIET_CPU_S of CPU in 5 s; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        before = worker.cpu()
        time.sleep(5)
        worker.check()
        if worker.cpu() - before < QUIET_CPU_S:
            return time.monotonic() - started
    log(f"  note: the worker did not settle within {timeout_s:.0f} s; measuring all the same")
    return time.monotonic() - started


def idle_phase(server: Server, villages: int, plan: dict, tmp: Path) -> dict:
    codes = village_codes(villages, offset=2000 + 1000 * len(server.prefixes))
    log(f"idle: provisioning {villages} villages ...")
    services = server.services(f"idle{villages}_", codes)
    for code in codes:  # a little history in each, read once before the idle window
        db = services.couch.database(services.names.village(code))
        docs = [dict(example("verification_visit"), _id=f"visit:{uuid.uuid4()}",
                     village_code=code) for _ in range(3)]
        db.bulk_docs(docs)
    worker = WorkerProcess(services, tmp / f"worker-idle{villages}.log")
    idle_s, pass_s = plan["idle_s"], plan["pass_window_s"]
    try:
        # idle means every village feed of the worker has caught up (reconcile and alerts)
        # and finished the rounds after its first pass (villages whose read found something
        # are read once more): its CPU over 5 s falls under QUIET_CPU_S
        wait_reconciled(services, worker, codes, timeout_s=900,
                        consumers=("reconcile", "alerts"))
        settled = wait_quiet(worker)
        before, started = worker.cpu(), time.monotonic()
        log(f"  measuring the worker's CPU over {idle_s:.0f} idle seconds ...")
        series, last = [], before
        while time.monotonic() - started < idle_s:
            time.sleep(min(5.0, idle_s - (time.monotonic() - started)))
            now = worker.cpu()
            series.append(round(now - last, 2))
            last = now
        idle_cpu, elapsed = worker.cpu() - before, time.monotonic() - started
        # a web process start makes both village feeds (reconcile, alerts) look at every village
        log(f"  a web process start: measuring a full pass over {villages} villages ...")
        before, started = worker.cpu(), time.monotonic()
        services.audit.record_web_start("bench", os.getpid())
        time.sleep(pass_s)
        pass_cpu = worker.cpu() - before - idle_cpu / elapsed * (time.monotonic() - started)
        worker.check()
    finally:
        worker.stop()
    full_pass_every_s = services.settings.full_pass_s
    per_minute = idle_cpu * 60 / elapsed
    amortized = per_minute + max(pass_cpu, 0.0) * 60 / full_pass_every_s
    log(f"  {villages} villages: {idle_cpu:.2f} CPU s over {elapsed:.0f} idle s; a full pass "
        f"{pass_cpu:.2f} CPU s")
    return {"villages": villages, "settled_after_s": round(settled, 1),
            "cpu_s": round(idle_cpu, 3), "window_s": round(elapsed, 1), "cpu_s_per_5s": series,
            "cpu_s_per_minute": round(per_minute, 3), "full_pass_cpu_s": round(pass_cpu, 3),
            "full_pass_every_s": full_pass_every_s,
            "cpu_s_per_minute_with_full_passes": round(amortized, 3)}


def run(options: Options) -> dict:
    plan = dict(QUICK if options.quick else FULL)
    if options.docs:
        plan["docs"] = options.docs
    tmp = Path(tempfile.mkdtemp(prefix="fieldsync-bench-"))
    server = Server(tmp)
    load_before = os.getloadavg()
    try:
        server.start()
        reconcile = reconcile_phase(server, plan, tmp)
        idle = [idle_phase(server, plan[size], plan, tmp)
                for size in ("idle_small", "idle_large")]
    finally:
        server.stop()
        clean_up(tmp, options.keep)
    ratio = reconcile["reconcile_docs_per_s"] / reconcile["raw_docs_per_s"]
    idle_ratio = idle[1]["cpu_s_per_minute"] / max(idle[0]["cpu_s_per_minute"], 0.001)
    amortized_ratio = (idle[1]["cpu_s_per_minute_with_full_passes"]
                       / max(idle[0]["cpu_s_per_minute_with_full_passes"], 0.001))
    met = {"ratio": ratio >= RATIO_MIN, "rss": reconcile["rss_mb"] <= RSS_MB_MAX,
           "idle": idle_ratio <= IDLE_RATIO_MAX, "idle_with_full_passes":
           amortized_ratio <= IDLE_RATIO_MAX}
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    summary = [
        f"{reconcile['docs']} documents in {reconcile['villages']} villages",
        f"raw _bulk_docs: {reconcile['raw_s']} s ({reconcile['raw_docs_per_s']:.0f} docs/s)",
        f"reconcile: {reconcile['reconcile_s']} s ({reconcile['reconcile_docs_per_s']:.0f} "
        f"docs/s), worker CPU {reconcile['worker_cpu_s']} s; server CPU "
        f"{reconcile['server_cpu_s']['raw']} s raw, {reconcile['server_cpu_s']['reconcile']} s "
        "reconciling",
        f"ratio reconcile/raw: {ratio:.2f}  (target >= {RATIO_MIN}: {verdict(met['ratio'])})",
        f"worker peak RSS: {reconcile['rss_mb']} MB  (target <= {RSS_MB_MAX:.0f}: "
        f"{verdict(met['rss'])})",
        f"idle worker CPU per minute: {idle[0]['cpu_s_per_minute']} s with "
        f"{idle[0]['villages']} villages, {idle[1]['cpu_s_per_minute']} s with "
        f"{idle[1]['villages']}",
        f"idle CPU ratio: {idle_ratio:.2f}  (target <= {IDLE_RATIO_MAX}: {verdict(met['idle'])})",
        f"a full pass over every village: {idle[0]['full_pass_cpu_s']} CPU s / "
        f"{idle[1]['full_pass_cpu_s']} CPU s; with one every {idle[0]['full_pass_every_s']:.0f} s "
        f"the ratio is {amortized_ratio:.2f} ({verdict(met['idle_with_full_passes'])})",
    ]
    return {"benchmark": NAME, "title": TITLE, "date": now_iso(), "quick": options.quick,
            "machine": {**machine(), "load_avg_1m_before": round(load_before[0], 2),
                        "load_avg_1m_after": round(os.getloadavg()[0], 2)},
            "parameters": {**plan, "batch": BATCH, "mix_per_10": dict(MIX),
                           "couchdb": "external" if server.external else "embedded pouchdb-server"},
            "ratio": round(ratio, 3), "rss_mb": reconcile["rss_mb"],
            "idle_cpu_ratio": round(idle_ratio, 3),
            "idle_cpu_ratio_with_full_passes": round(amortized_ratio, 3),
            "reconcile": reconcile, "idle": idle,
            "met": all(met.values()), "targets_met": met, "summary": summary}
