"""What every benchmark shares: options, machine facts, memory sampling, results files.

A benchmark is a module with `NAME`, `TITLE` and `run(options) -> dict`; the dict it returns is
written to `bench/results/<NAME>.json` (`<NAME>.quick.json` for a --quick run and
`<NAME>.profile.json` for a --profile run, `<NAME>.without-<PART>.json` for a run with a part
switched off, `<NAME>.custom.json` with --docs/--rounds, so none of them overwrites the
committed figures) and its `summary` lines are printed.
"""
from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


@dataclass
class Options:
    """Command-line options every benchmark understands (each reads what applies to it)."""
    quick: bool = False
    docs: int | None = None        # override the benchmark's document count
    rounds: int | None = None      # override the number of measured rounds per side
    keep: bool = False             # keep the temporary directory (logs, data) for inspection
    profile: bool = False          # sample where the time goes (never report timings from it)
    without: list[str] = field(default_factory=list)  # parts switched off, to price them
    argv: list[str] = field(default_factory=list)


def log(message: str) -> None:
    """Progress on stderr, with a timestamp, flushed at once."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def command_line(argv: list[str]) -> str:
    """The command that reproduces this run, as typed from the project directory."""
    return ".venv/bin/python -m bench" + ("" if not argv else " " + shlex.join(argv))


def _version(argv: list[str]) -> str | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict:
    """Facts about the machine a result was measured on."""
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_mb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_mb = round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    package = json.loads((PROJECT_ROOT / "node_modules/pouchdb-server/package.json").read_text())
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_total_mb": mem_mb,
            "os": platform.platform(), "python": platform.python_version(),
            "node": _version(["node", "--version"]),
            "pouchdb_server": package.get("version")}


def clean_up(tmp: Path, keep: bool, what: str = "") -> None:
    """Remove a run's temporary directory, or say where it was kept (--keep, or a failure)."""
    if keep:
        log(f"kept {tmp}{' (' + what + ')' if what else ''}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def terminate(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM a child process (it stops cleanly), SIGKILL it if it does not within timeout."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def median(values: list[float]) -> float:
    return statistics.median(values)


def status_kb(pid: int, field_name: str) -> int | None:
    """A `kB` field (VmRSS, VmHWM) of /proc/<pid>/status, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (/proc/<pid>/stat), or None."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples VmRSS of some processes every `interval` seconds in a background thread."""

    def __init__(self, pids: dict[str, int], interval: float = 0.1):
        self.pids, self.interval = pids, interval
        self.peak_kb: dict[str, int] = {name: 0 for name in pids}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                kb = status_kb(pid, "VmRSS")
                if kb is not None:
                    self.peak_kb[name] = max(self.peak_kb[name], kb)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_mb(self, name: str) -> float:
        return round(self.peak_kb[name] / 1024, 1)


def write_result(name: str, result: dict, options: Options) -> Path:
    """Write a benchmark's result as pretty JSON under bench/results/: `<name>.json` for a run
    of record, `<name>.quick.json` or `<name>.profile.json` for a smoke or profiling run,
    `<name>.load-nice-<N>.json` for one with its load client niced."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    suffix = ("".join(f".without-{part}" for part in options.without)
              + (".profile" if options.profile else "") + (".quick" if options.quick else "")
              + (".custom" if options.docs or options.rounds else "")
              + (f".load-nice-{result['load_client_nice']}" if result.get("load_client_nice") else ""))
    path = RESULTS_DIR / f"{name}{suffix}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def worker_pid(master: int) -> int | None:
    """The first child of a gunicorn master: the worker that serves (and holds the memory)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None
