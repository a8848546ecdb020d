"""Issue 17: 60,000 accounts (the collaborative-office figure): provisioning time, the web
process's account-cache memory and login latency at that size (docs/scale.md).

Real parts only: the embedded pouchdb-server, the real provisioning code, `fieldsync web` as its
own process. Three measurements:

1. **Provisioning rate**: `sample` accounts (cadres of 1,500 villages) provisioned by the real
   plan_provisioning + apply_plan (scrypt hashing on every core), timed with progress output; the
   time for 60,000 is extrapolated from the measured rate when the run provisions fewer (scrypt
   at n=2^14 costs ~50 ms of one core per password: 60,000 are ~50 core-minutes).
2. **At size**: the directory filled to `accounts` (60,000; `--quick` 10,000) and, in the same
   run on the same server, to the floor (1,000): the same account documents as provisioning
   writes, but their password hashes are real scrypt hashes of a pool of 100 passwords reused
   (hashing each one is measurement 1's job, not this one's). Per size: `fieldsync web` RSS at
   start and after the logins, the median and p90 of `POST /api/v1/login` of distinct accounts
   (one scrypt check each) and of a token-authenticated request (`GET /api/v1/devices`), the
   first one after the login and a second one.
3. **The account cache's memory**: sync/directory/cache.py's AccountCache (what every web
   process keeps) filled by get() of `cache_fill` distinct accounts, measured with tracemalloc
   in this process; its bound (max_entries) is reported beside it.
"""
from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import requests

from bench.harness import (PROJECT_ROOT, Options, clean_up, log, machine, now_iso, status_kb,
                           terminate)
from bench.scale_villages import embedded_server, village_codes
from models.accounts import account_doc_id, hash_password
from models.provisioning import parse_json
from server.bootstrap import build_services
from server.config import Settings
from server.embedded_couchdb import ADMIN_USER, EmbeddedCouchDB, free_port
from sync.clock import utc_now
from sync.directory.cache import AccountCache
from sync.directory.provisioning import apply_plan, ensure_server_databases, plan_provisioning

NAME = "scale_accounts"
TITLE = "60,000 accounts: provisioning time, account-cache memory, login latency"
TARGET_ACCOUNTS = 60_000
FULL = {"accounts": 60_000, "floor": 1_000, "sample": 1_000, "logins": 20, "cache_fill": 20_000}
QUICK = {"accounts": 10_000, "floor": 1_000, "sample": 300, "logins": 10, "cache_fill": 2_000}
VILLAGES = 1_500
POOL = 100  # distinct passwords (and real scrypt hashes) the at-size accounts share


def username(n: int) -> str:
    return f"cadre.{n:05d}"


def password(n: int) -> str:
    return f"bench-pass-{n % POOL:03d}"


def _settings(embedded: EmbeddedCouchDB, prefix: str, tmp: Path) -> Settings:
    return Settings(couchdb_url=embedded.url, couchdb_user=ADMIN_USER,
                    couchdb_password=embedded.password, db_prefix=prefix, data_dir=tmp / "var",
                    http_port=free_port(), secret_key=secrets.token_hex(32),
                    id_hash_key=secrets.token_hex(32))


def _jurisdictions(services) -> list[str]:
    rows, codes = village_codes(VILLAGES)
    plan = plan_provisioning(parse_json(json.dumps({"jurisdictions": rows})), services.directory)
    services.directory.db.bulk_docs(plan.jurisdiction_docs)  # accounts need no village databases
    return codes


def provisioning_rate(embedded: EmbeddedCouchDB, tmp: Path, sample: int) -> dict:
    """`sample` accounts through the real provisioning (plan: scrypt on every core; apply)."""
    services = build_services(_settings(embedded, "sap_", tmp))
    ensure_server_databases(services.couch, services.names)
    codes = _jurisdictions(services)
    accounts = [{"username": username(n), "display_name": f"村干部{n}", "role": "cadre",
                 "jurisdiction": codes[n % len(codes)], "password": password(n) + str(n)}
                for n in range(sample)]
    started, cpu0 = time.monotonic(), time.process_time()

    def progress(done: int, total: int, label: str) -> None:
        if done % 500 == 0 or done == total:
            elapsed = time.monotonic() - started
            log(f"  {label}: {done}/{total} ({done / max(elapsed, 1e-9):.1f}/s)")
    plan = plan_provisioning(parse_json(json.dumps({"accounts": accounts})), services.directory,
                             progress)
    planned = time.monotonic()
    if plan.problems:
        raise SystemExit(f"provisioning refused: {[p.describe('en') for p in plan.problems]}")
    apply_plan(plan, services.couch, services.names, progress)
    seconds = time.monotonic() - started
    rate = sample / seconds
    return {"accounts": sample, "seconds": round(seconds, 1),
            "plan_s": round(planned - started, 1), "apply_s": round(time.monotonic() - planned, 1),
            "accounts_per_s": round(rate, 2),
            "cpu_s_per_account": round((time.process_time() - cpu0) / sample, 4),
            "threads": os.cpu_count(),
            "extrapolated_s_for_60000": round(TARGET_ACCOUNTS / rate),
            "load_average": os.getloadavg()}


def fill_directory(services, codes: list[str], count: int) -> None:
    """`count` account documents as provisioning writes them (hashes from a pool)."""
    pool = [hash_password(password(n)) for n in range(POOL)]
    now = utc_now()
    batch: list[dict] = []
    for n in range(count):
        batch.append({"_id": account_doc_id(username(n)), "type": "account", "schema_version": 1,
                      "username": username(n), "display_name": f"村干部{n}", "role": "cadre",
                      "jurisdiction": codes[n % len(codes)], "phone": None, "disabled": False,
                      "password_hash": pool[n % POOL], "token_generation": 0,
                      "created_at": now, "updated_at": now})
        if len(batch) == 1000 or n == count - 1:
            for row in services.directory.db.bulk_docs(batch):
                if "error" in row:
                    raise SystemExit(f"account not written: {row}")
            batch = []
            if (n + 1) % 10_000 == 0 or n == count - 1:
                log(f"  accounts written: {n + 1}/{count}")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def web_rss_mb(pid: int) -> dict:
    """RSS of `fieldsync web`: gunicorn's master and its gevent worker(s), which serve."""
    workers = _children(pid)
    return {"master": round((status_kb(pid, "VmRSS") or 0) / 1024, 1),
            "workers": round(sum(status_kb(child, "VmRSS") or 0 for child in workers) / 1024, 1),
            "worker_processes": len(workers)}


def _stats(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1), "n": len(ordered)}


def at_size(embedded: EmbeddedCouchDB, tmp: Path, count: int, logins: int) -> dict:
    settings = _settings(embedded, f"sa{count}_", tmp)
    services = build_services(settings)
    ensure_server_databases(services.couch, services.names)
    fill_directory(services, _jurisdictions(services), count)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env.update(settings.child_env())
    web_log = tmp / f"web-{count}.log"
    with open(web_log, "wb") as out:
        web = subprocess.Popen([str(Path(sys.executable).parent / "fieldsync"), "web"], env=env,
                               cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    base = f"http://127.0.0.1:{settings.http_port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if web.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"fieldsync web did not start: {web_log.read_text()[-2000:]}")
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        rss_start = web_rss_mb(web.pid)
        login_s, cold_s, warm_s = [], [], []
        step = max(1, count // logins)
        for k in range(logins):
            n = k * step + k % step  # distinct accounts spread over the directory
            began = time.monotonic()
            answer = requests.post(f"{base}/api/v1/login", timeout=60, json={
                "username": username(n), "password": password(n), "device_id": f"bench-{n}"})
            login_s.append(time.monotonic() - began)
            if answer.status_code != 200:
                raise SystemExit(f"login refused: {answer.status_code} {answer.text[:300]}")
            auth = (username(n), answer.json()["token"])
            for into in (cold_s, warm_s):
                began = time.monotonic()
                got = requests.get(f"{base}/api/v1/devices", auth=auth, timeout=60)
                into.append(time.monotonic() - began)
                if got.status_code != 200:
                    raise SystemExit(f"token refused: {got.status_code} {got.text[:300]}")
        return {"accounts": count, "web_rss_mb": {"start": rss_start,
                                                  "after_logins": web_rss_mb(web.pid)},
                "login": _stats(login_s), "token_request_first": _stats(cold_s),
                "token_request_again": _stats(warm_s)}
    finally:
        terminate(web)


def cache_memory(embedded: EmbeddedCouchDB, tmp: Path, count: int, fill: int) -> dict:
    """The AccountCache of a web process filled with `fill` distinct accounts (tracemalloc)."""
    services = build_services(_settings(embedded, f"sa{count}_", tmp))
    cache = AccountCache(services.directory.db)
    fill = min(fill, count)
    cache.get(username(0))  # starts the feed that arms the cache
    deadline = time.monotonic() + 30
    while not cache._armed.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    started = time.monotonic()
    for n in range(fill):
        cache.get(username(n))
        if (n + 1) % 5000 == 0:
            log(f"  cache: {n + 1}/{fill}")
    seconds = time.monotonic() - started
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    held = len(cache._docs)
    cache.stop()
    return {"filled": fill, "held": held, "max_entries": cache.max_entries,
            "bytes": grown, "bytes_per_account": round(grown / max(held, 1)),
            "mb_at_max_entries": round(grown / max(held, 1) * cache.max_entries / 2**20, 1),
            "fill_s": round(seconds, 1)}


def run(options: Options) -> dict:
    sizes = QUICK if options.quick else FULL
    count = options.docs or sizes["accounts"]
    tmp, embedded = embedded_server("accounts")
    ok = False
    try:
        log(f"provisioning {sizes['sample']} accounts with the real provisioning "
            f"({os.cpu_count()} hashing threads)")
        rate = provisioning_rate(embedded, tmp, sizes["sample"])
        log(f"  {rate['accounts_per_s']} accounts/s: 60,000 would take "
            f"{rate['extrapolated_s_for_60000']} s here")
        runs = {}
        for label, accounts in (("floor", sizes["floor"]), ("size", count)):
            log(f"{label}: a directory of {accounts} accounts, `fieldsync web`, "
                f"{sizes['logins']} logins")
            runs[label] = at_size(embedded, tmp, accounts, sizes["logins"])
        log(f"account cache: {min(sizes['cache_fill'], count)} accounts")
        cache = cache_memory(embedded, tmp, count, sizes["cache_fill"])
        ok = True
    finally:
        embedded.stop()
        clean_up(tmp, options.keep or not ok, "server data and web logs")
    floor, size = runs["floor"], runs["size"]
    ratios = {"accounts": round(count / sizes["floor"], 1),
              "login_median": round(size["login"]["median_ms"] / floor["login"]["median_ms"], 2),
              "token_request_first": round(size["token_request_first"]["median_ms"]
                                           / floor["token_request_first"]["median_ms"], 2),
              "token_request_again": round(size["token_request_again"]["median_ms"]
                                           / floor["token_request_again"]["median_ms"], 2),
              "web_worker_rss_after_logins": round(
                  size["web_rss_mb"]["after_logins"]["workers"]
                  / floor["web_rss_mb"]["after_logins"]["workers"], 2)}
    summary = [
        f"provisioning (real, {rate['threads']} threads): {rate['accounts']} accounts in "
        f"{rate['seconds']} s = {rate['accounts_per_s']}/s ({rate['cpu_s_per_account'] * 1000:.0f}"
        f" ms CPU each); 60,000 extrapolated: {rate['extrapolated_s_for_60000']} s "
        f"(load average {rate['load_average'][0]:.1f})",
        f"login {count} vs {sizes['floor']} accounts: median {size['login']['median_ms']} ms vs "
        f"{floor['login']['median_ms']} ms ({ratios['login_median']}x)",
        f"token request, first/again: {size['token_request_first']['median_ms']}/"
        f"{size['token_request_again']['median_ms']} ms vs {floor['token_request_first']['median_ms']}"
        f"/{floor['token_request_again']['median_ms']} ms ({ratios['token_request_first']}x/"
        f"{ratios['token_request_again']}x)",
        f"web worker RSS after logins: {size['web_rss_mb']['after_logins']['workers']} MB vs "
        f"{floor['web_rss_mb']['after_logins']['workers']} MB "
        f"({ratios['web_worker_rss_after_logins']}x; gunicorn master "
        f"{size['web_rss_mb']['after_logins']['master']} MB)",
        f"account cache: {cache['bytes_per_account']} B per account; {cache['held']} held = "
        f"{round(cache['bytes'] / 2**20, 1)} MB; at its bound of {cache['max_entries']}: "
        f"{cache['mb_at_max_entries']} MB",
    ]
    return {"name": NAME, "title": TITLE, "measured_at": now_iso(), "machine": machine(),
            "load_average_at_end": os.getloadavg(), "sizes": sizes | {"accounts": count},
            "provisioning": rate, "runs": runs, "account_cache": cache, "ratios": ratios,
            "summary": summary}
