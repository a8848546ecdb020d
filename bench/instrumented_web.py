"""`fieldsync web`, instrumented for `python -m bench gateway_push --profile / --without PARTS`.

Usage: python -m bench.instrumented_web [--profile REPORT_PATH] [--without PART,...]

--profile: every few milliseconds a sampler looks at the stack of each thread that is serving a
`/sync/` request and counts where it is: the innermost fieldsync function (where the time goes,
including the library calls it waits on) and every fieldsync function on the stack (inclusive).
The report is rewritten every second, so it is complete whenever the process is stopped.

--without: switches parts of the gateway off, to price them (an experiment, never a
configuration): `audit` (no audit entries), `guard` (no written-once lookup), `account-read`
(each account read once per process instead of once per request), `validation` (no schema
validation of device documents).

Never take timings of record from an instrumented run.
"""
from __future__ import annotations

import collections
import os
import sys
import threading
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
OWN = tuple(PROJECT + d + os.sep for d in ("models", "sync", "mobile_api", "server"))
INTERVAL_S = 0.005


def _name(code) -> str:
    path = code.co_filename
    short = path[len(PROJECT):] if path.startswith(PROJECT) else path.rsplit("site-packages/", 1)[-1]
    return f"{short}:{code.co_name}"


class Sampler:
    def __init__(self, report_path: str):
        self.report_path = report_path
        self.samples = 0            # thread-samples of busy request threads
        self.ticks = 0
        self.innermost = collections.Counter()
        self.inclusive = collections.Counter()
        self.leaf = collections.Counter()

    def run(self) -> None:
        me = threading.get_ident()
        last_report = time.monotonic()
        while True:
            time.sleep(INTERVAL_S)
            self.ticks += 1
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                codes = []
                while frame is not None:
                    codes.append(frame.f_code)
                    frame = frame.f_back
                if not any(c.co_filename.endswith("mobile_api/sync_routes.py") for c in codes):
                    continue
                self.samples += 1
                self.leaf[_name(codes[0])] += 1
                own = [c for c in codes if c.co_filename.startswith(OWN)]
                if own:
                    self.innermost[_name(own[0])] += 1
                    for name in {_name(c) for c in own}:
                        self.inclusive[name] += 1
            if time.monotonic() - last_report > 1.0:
                self.write()
                last_report = time.monotonic()

    def write(self) -> None:
        lines = [f"wall-clock stack samples of threads serving /sync/ requests, every "
                 f"{INTERVAL_S * 1000:.0f} ms: {self.samples} thread-samples in {self.ticks} ticks",
                 "", "## innermost fieldsync function (self time, incl. the library calls it waits on)"]
        total = max(self.samples, 1)
        lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in self.innermost.most_common(30)]
        lines += ["", "## inclusive (fieldsync function anywhere on the stack)"]
        lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in self.inclusive.most_common(40)]
        lines += ["", "## innermost frame of any code"]
        lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in self.leaf.most_common(30)]
        tmp = self.report_path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        os.replace(tmp, self.report_path)


PARTS = ("audit", "guard", "account-read", "validation")


def switch_off(parts: set[str]) -> None:
    """Monkeypatch the named parts of the gateway away (in this process only)."""
    unknown = parts - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; known: {', '.join(PARTS)}")
    if "audit" in parts:
        from sync.gateway.audit import AuditTrail
        AuditTrail.record_writes = lambda self, batch: None
    if "guard" in parts:
        from sync.gateway.forwarding import SyncGateway
        SyncGateway._guard_written_once = lambda self, req, batch: None
    if "account-read" in parts:
        from sync.directory.store import Directory
        read, cache = Directory.account, {}

        def account_once(self, username):
            if username not in cache:
                cache[username] = read(self, username)
            return dict(cache[username]) if cache[username] else None
        Directory.account = account_once
    if "validation" in parts:
        import models.registry
        models.registry.validation_problems = lambda doc, doc_type: []


def main() -> None:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m bench.instrumented_web")
    parser.add_argument("--profile", metavar="REPORT_PATH")
    parser.add_argument("--without", default="", metavar="PART,...")
    args = parser.parse_args()
    switch_off({part for part in args.without.split(",") if part})
    if args.profile:
        sampler = Sampler(args.profile)
        threading.Thread(target=sampler.run, name="bench-sampler", daemon=True).start()
    from server.cli import main as fieldsync
    fieldsync(["web"])


if __name__ == "__main__":
    main()
