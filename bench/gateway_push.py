"""Issue 4: a PouchDB device pushing ~1 KB documents through the sync gateway vs straight to CouchDB.

Real parts only: the embedded pouchdb-server in a temporary directory, the hierarchy and
accounts provisioned by the real provisioning code, the gateway as its own process
(`fieldsync web`, so its memory can be read from /proc), and a real PouchDB device
(bench/push_device.js) that writes the documents locally first and then replicates; only the
replication is timed. Each push goes to a fresh village database; direct and gateway pushes
alternate (D G, then G D, ...) and the medians are compared.

Targets (issue 4): gateway time <= 1.5 x direct time; gateway RSS <= 200 MB during the push.
"""
from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bench.harness import (PROJECT_ROOT, RESULTS_DIR, Options, RssSampler, cpu_seconds, log,
                           clean_up, machine, median, now_iso, status_kb,
                           terminate, worker_pid)
from models.examples import example
from models.provisioning import parse_json
from models.registry import ACCEPT, classify_device_document
from server.bootstrap import build_services
from server.config import Settings
from server.embedded_couchdb import ADMIN_USER, EmbeddedCouchDB, free_port
from sync.couch.client import split_credentials
from sync.directory.provisioning import apply_plan, ensure_server_databases, plan_provisioning

NAME = "gateway_push"
TITLE = "PouchDB push of ~1 KB documents: through the sync gateway vs straight to CouchDB"

RATIO_MAX = 1.5
RSS_MB_MAX = 200.0
FULL = {"docs": 10_000, "rounds": 2, "warmup_docs": 300}
QUICK = {"docs": 2_000, "rounds": 1, "warmup_docs": 100}
BATCH_SIZE = 100       # PouchDB's default batch_size, the same for both sides
BATCHES_LIMIT = 10     # PouchDB's default batches_limit
DOC_BYTES = 1000       # target size of a document's JSON body (before _rev/_revisions)
PASSWORD = "bench-pass-2026"
TOWN = "441226101000"  # 新圩镇 of the example hierarchy; bench villages are 4412261013NN
PUSH_JS = Path(__file__).resolve().parent / "push_device.js"
EXTERNAL_ENV = "FIELDSYNC_BENCH_COUCHDB_URL"  # set: measure against that CouchDB 3.x instead


def visit_template() -> dict:
    """A valid verification visit without photos, padded so its JSON is about DOC_BYTES."""
    doc = example("verification_visit")
    del doc["_id"]
    doc["photos"] = []
    doc["cadre"] = "bench.c00"
    base = doc["notes"]
    size = len(json.dumps({**doc, "_id": f"visit:{uuid.uuid4()}", "sequence_no": 9999},
                          ensure_ascii=False, separators=(",", ":")).encode())
    pad = max(0, DOC_BYTES - size)
    doc["notes"] = base + ("x" * pad)  # ASCII padding: one byte per character
    return doc


def check_template(template: dict, village: str) -> None:
    """The documents must be ones the gateway accepts (else we would time refusals)."""
    doc = {**template, "_id": f"visit:{uuid.uuid4()}", "village_code": village, "sequence_no": 1}
    verdict = classify_device_document(doc, village)
    if verdict.action != ACCEPT:
        raise SystemExit(f"the benchmark document is not accepted: {verdict}")


def provisioning_file(villages: list[str]) -> str:
    """The hierarchy down to the bench villages, one cadre per village, as a JSON file."""
    jurisdictions = [
        {"code": "441200000000", "name": "肇庆市", "level": "city"},
        {"code": "441226000000", "name": "德庆县", "level": "county", "parent": "441200000000"},
        {"code": TOWN, "name": "新圩镇", "level": "town", "parent": "441226000000"},
    ] + [{"code": code, "name": f"测试村{code[-2:]}", "level": "village", "parent": TOWN}
         for code in villages]
    accounts = [{"username": cadre_of(code), "display_name": f"测试{code[-2:]}", "role": "cadre",
                 "jurisdiction": code, "password": PASSWORD} for code in villages]
    return json.dumps({"jurisdictions": jurisdictions, "accounts": accounts}, ensure_ascii=False)


def cadre_of(village: str) -> str:
    return f"bench.c{village[-2:]}"


class Setup:
    """The embedded server, the provisioned villages and the gateway process."""

    def __init__(self, tmp: Path, villages: list[str], profile_path: Path | None = None,
                 without: tuple[str, ...] = ()):
        self.tmp, self.profile_path, self.without = tmp, profile_path, without
        self.external = os.environ.get(EXTERNAL_ENV)  # an admin URL of a real CouchDB 3.x
        self.embedded = None if self.external else EmbeddedCouchDB(tmp / "data")
        self.villages = villages
        self.web: subprocess.Popen | None = None
        self.web_log = tmp / "web.log"

    def start(self) -> None:
        if self.embedded is not None:
            log(f"starting the embedded pouchdb-server (data in {self.embedded.dir})")
            self.embedded.start()
            url, user, password = self.embedded.url, ADMIN_USER, self.embedded.password
            prefix = "bench_"
        else:
            url, user, password = split_credentials(self.external)
            prefix = f"bench{uuid.uuid4().hex[:6]}_"  # dropped again in stop()
            log(f"using the CouchDB server at {url} ({EXTERNAL_ENV}), databases {prefix}*")
        self.couch_url, self.couch_user, self.couch_password = url, user, password
        port = free_port()
        self.settings = Settings(couchdb_url=url, couchdb_user=user, couchdb_password=password,
                                 db_prefix=prefix, data_dir=self.tmp / "var", http_port=port,
                                 secret_key=secrets.token_hex(32), id_hash_key=secrets.token_hex(32))
        self.services = build_services(self.settings)
        ensure_server_databases(self.services.couch, self.services.names)
        parsed = parse_json(provisioning_file(self.villages))
        plan = plan_provisioning(parsed, self.services.directory)
        if plan.problems:
            raise SystemExit(f"provisioning refused: {[p.describe('en') for p in plan.problems]}")
        apply_plan(plan, self.services.couch, self.services.names)
        log(f"provisioned {len(self.villages)} villages with one cadre each")
        self.gateway_url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
        env.update(self.settings.child_env())
        with open(self.web_log, "wb") as out:
            self.web = subprocess.Popen(self.web_argv(), env=env, cwd=PROJECT_ROOT,
                                        stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.web.poll() is not None:
                raise SystemExit(f"fieldsync web exited: see {self.web_log}:\n"
                                 + self.web_log.read_text()[-2000:])
            try:
                if requests.get(f"{self.gateway_url}/sync/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"fieldsync web did not answer within 60 s; see {self.web_log}")
            time.sleep(0.2)
        log(f"gateway `fieldsync web` (pid {self.web.pid}) answering at {self.gateway_url}")

    def web_argv(self) -> list[str]:
        """`fieldsync web` of this virtualenv (instrumented for --profile and --without)."""
        if self.profile_path or self.without:
            return [sys.executable, "-m", "bench.instrumented_web", "--without",
                    ",".join(self.without)] + (["--profile", str(self.profile_path)]
                                               if self.profile_path else [])
        return [str(Path(sys.executable).parent / "fieldsync"), "web"]

    @property
    def serving_pid(self) -> int:
        """The process that serves the gateway: gunicorn's worker, not its master."""
        return worker_pid(self.web.pid) or self.web.pid

    @property
    def couch_pid(self) -> int | None:
        """The embedded server's process (None for an external CouchDB)."""
        return self.embedded.child.process.pid if self.embedded else None

    def server_kind(self) -> str:
        if self.embedded is None:
            return f"external: {self.services.couch.info().get('version', '?')}"
        return "embedded pouchdb-server"

    def stop(self) -> None:
        if self.web is not None:
            terminate(self.web)
        if self.embedded is not None:
            self.embedded.stop()
        elif hasattr(self, "services"):
            for name in self.services.couch.all_dbs():
                if name.startswith(self.settings.db_prefix):
                    self.services.couch.database(name).delete_database()

    def visit_count(self, village: str) -> int:
        db = self.services.couch.database(self.services.names.village(village))
        rows = db.all_docs(startkey="visit:", endkey="visit:\ufff0")["rows"]
        return len(rows)

    def audit_count(self) -> int:
        return self.services.couch.database(self.services.names.audit).info()["doc_count"]


def push(setup: Setup, kind: str, village: str, ids: list[str], template: dict,
         device_dir: Path) -> dict:
    """One timed push of `ids` to a fresh village database, direct or through the gateway."""
    if kind == "direct":
        remote = f"{setup.couch_url}/{setup.services.names.village(village)}"
        username, password = setup.couch_user, setup.couch_password
    else:
        remote = f"{setup.gateway_url}/sync/{village}"
        username, password = cadre_of(village), PASSWORD
    script = {"dir": str(device_dir), "remote": remote, "username": username,
              "password": password, "device_id": f"bench-{kind}-{village}",
              "template": {**template, "cadre": cadre_of(village)}, "ids": ids,
              "village_code": village, "batch_size": BATCH_SIZE, "batches_limit": BATCHES_LIMIT}
    pids = {"gateway": setup.serving_pid}
    if setup.couch_pid:
        pids["couchdb"] = setup.couch_pid
    before = {name: status_kb(pid, "VmRSS") for name, pid in pids.items()}
    cpu_before = {name: cpu_seconds(pid) or 0.0 for name, pid in pids.items()}
    device_cpu_before = _children_cpu()
    with RssSampler(pids) as sampler:
        done = subprocess.run(["node", str(PUSH_JS)], input=json.dumps(script),
                              capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)
    cpu = {name: round((cpu_seconds(pid) or 0.0) - cpu_before[name], 2)
           for name, pid in pids.items()}
    cpu["device"] = round(_children_cpu() - device_cpu_before, 2)  # includes its local writes
    out = json.loads(done.stdout or "{}")
    if done.returncode != 0 or "fatal" in out or not out.get("ok"):
        raise SystemExit(f"{kind} push failed: {out} {done.stderr[-2000:]}")
    landed = setup.visit_count(village)
    if out["docs_written"] != len(ids) or out["denied_count"] or landed != len(ids):
        raise SystemExit(f"{kind} push incomplete: wrote {out['docs_written']}, denied "
                         f"{out['denied_count']}, stored {landed} of {len(ids)}: {out['denied']}")
    shutil.rmtree(device_dir, ignore_errors=True)
    return {"kind": kind, "village": village, "docs": len(ids),
            "seconds": round(out["seconds"], 3),
            "docs_per_s": round(len(ids) / out["seconds"], 1),
            "device_load_seconds": round(out["load_seconds"], 3),
            "requests": out["requests"],
            "gateway_rss_mb": {"before": round((before["gateway"] or 0) / 1024, 1),
                               "peak_sampled": sampler.peak_mb("gateway"),
                               "hwm": round((status_kb(pids["gateway"], "VmHWM") or 0) / 1024, 1)},
            "couchdb_rss_mb": {"before": round((before["couchdb"] or 0) / 1024, 1),
                               "peak_sampled": sampler.peak_mb("couchdb")} if "couchdb" in pids
                              else None,
            "cpu_s": cpu, "rss_samples": sampler.samples}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(options: Options) -> dict:
    plan = dict(QUICK if options.quick else FULL)
    if options.docs:
        plan["docs"] = options.docs
    if options.rounds:
        plan["rounds"] = options.rounds
    docs, rounds = plan["docs"], plan["rounds"]
    # one fresh village per push: 2 warm-up pushes + 2 per round
    villages = [f"{TOWN[:9]}3{n:02d}" for n in range(1, 3 + 2 * rounds)]
    template = visit_template()
    for village in villages[:1]:
        check_template(template, village)
    doc_bytes = len(json.dumps({**template, "_id": f"visit:{uuid.uuid4()}",
                                "village_code": villages[0], "sequence_no": 9999},
                               ensure_ascii=False, separators=(",", ":")).encode())
    tmp = Path(tempfile.mkdtemp(prefix="fieldsync-bench-"))
    profile_path = RESULTS_DIR / f"{NAME}.profile.txt" if options.profile else None
    setup = Setup(tmp, villages, profile_path, tuple(options.without))
    runs, warmups = [], []
    load_before = os.getloadavg()
    if load_before[0] > 1.0:
        log(f"note: load average {load_before[0]:.1f} before the run: other work on this machine "
            "distorts the figures")
    try:
        setup.start()
        server_kind = setup.server_kind()
        free = iter(villages)
        log(f"warm-up: {plan['warmup_docs']} documents each way")
        ids = [f"visit:{uuid.uuid4()}" for _ in range(plan["warmup_docs"])]
        for kind in ("direct", "gateway"):
            warmups.append(push(setup, kind, next(free), ids, template, tmp / f"warm-{kind}"))
        for number in range(1, rounds + 1):
            order = ("direct", "gateway") if number % 2 else ("gateway", "direct")
            ids = [f"visit:{uuid.uuid4()}" for _ in range(docs)]  # the same documents both ways
            for kind in order:
                log(f"round {number}/{rounds}: {kind} push of {docs} documents ...")
                result = push(setup, kind, next(free), ids, template,
                              tmp / f"device-{number}-{kind}")
                result["round"] = number
                runs.append(result)
                log(f"  {kind}: {result['seconds']:.2f} s, {result['docs_per_s']:.0f} docs/s, "
                    f"gateway RSS peak {result['gateway_rss_mb']['peak_sampled']} MB")
        audit_entries = setup.audit_count()
    finally:
        setup.stop()
        clean_up(tmp, options.keep)

    direct = [r["seconds"] for r in runs if r["kind"] == "direct"]
    gateway = [r["seconds"] for r in runs if r["kind"] == "gateway"]
    direct_s, gateway_s = median(direct), median(gateway)
    ratio = gateway_s / direct_s
    gateway_runs = [r for r in runs + warmups if r["kind"] == "gateway"]
    rss_mb = max(max(r["gateway_rss_mb"]["peak_sampled"], r["gateway_rss_mb"]["hwm"])
                 for r in gateway_runs)
    met = {"ratio": ratio <= RATIO_MAX, "rss": rss_mb <= RSS_MB_MAX}
    summary = [f"EXPERIMENT ({note}): not a figure of record" for note in
               ([f"switched off: {', '.join(options.without)}"] if options.without else [])
               + (["profiled"] if options.profile else [])]
    summary += [
        f"{docs} documents of {doc_bytes} bytes, batch_size {BATCH_SIZE}, {rounds} round(s) each way",
        f"direct:  median {direct_s:.2f} s ({docs / direct_s:.0f} docs/s)  runs {direct}",
        f"gateway: median {gateway_s:.2f} s ({docs / gateway_s:.0f} docs/s)  runs {gateway}",
        f"ratio gateway/direct: {ratio:.2f}  (target <= {RATIO_MAX}: "
        f"{'met' if met['ratio'] else 'MISSED'})",
        f"gateway peak RSS: {rss_mb:.1f} MB  (target <= {RSS_MB_MAX:.0f} MB: "
        f"{'met' if met['rss'] else 'MISSED'})",
    ]
    return {
        "benchmark": NAME, "title": TITLE, "date": now_iso(), "quick": options.quick,
        "machine": {**machine(), "load_avg_1m_before": round(load_before[0], 2),
                    "load_avg_1m_after": round(os.getloadavg()[0], 2)},
        "parameters": {"couchdb": server_kind, "without": list(options.without),
                       "profiled": options.profile, "docs": docs, "doc_bytes": doc_bytes,
                       "doc_type": "verification_visit",
                       "batch_size": BATCH_SIZE, "batches_limit": BATCHES_LIMIT,
                       "rounds_each_way": rounds, "warmup_docs": plan["warmup_docs"],
                       "order": [r["kind"] for r in runs],
                       "gateway_http_threads": setup.settings.http_threads,
                       "rss_sample_interval_s": 0.1},
        "direct_s": round(direct_s, 3), "gateway_s": round(gateway_s, 3),
        "ratio": round(ratio, 3), "rss_mb": rss_mb,
        "direct_docs_per_s": round(docs / direct_s, 1),
        "gateway_docs_per_s": round(docs / gateway_s, 1),
        "targets": {"ratio_max": RATIO_MAX, "rss_mb_max": RSS_MB_MAX},
        "met": met["ratio"] and met["rss"], "met_detail": met,
        "audit_entries_written": audit_entries,
        "runs": runs, "warmups": warmups, "summary": summary,
    }
