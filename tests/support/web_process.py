"""The production web server in a child process: `python -m server.serve` (gunicorn, our gevent
worker, its header and I/O timeouts, monkey-patching first), pointed at this test's databases.

`start_web(**overrides)` starts one (settings overrides as Settings field names) and returns a
WebProcess; every one started is stopped (SIGTERM, then SIGKILL) when the test ends.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

PROJECT = Path(__file__).resolve().parents[2]
START_S = 60.0


@dataclass
class WebProcess:
    url: str
    process: subprocess.Popen
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master)."""
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_listening(web: WebProcess) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            raise AssertionError(f"web process exited {web.process.returncode}:\n{web.log()}")
        try:
            requests.get(f"{web.url}/healthz", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)  # polling a process start, not synchronising the test
    raise AssertionError(f"web process did not listen within {START_S} s:\n{web.log()}")


def _stop(web: WebProcess) -> None:
    if web.process.poll() is None:
        web.process.send_signal(signal.SIGTERM)
        try:
            web.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            web.process.kill()
            web.process.wait(timeout=10)


@pytest.fixture
def start_web(services, tmp_path):
    """Factory: start_web(**setting_overrides) -> WebProcess (a real gunicorn web process)."""
    from server.embedded_couchdb import free_port
    started: list[WebProcess] = []

    def start(**overrides) -> WebProcess:
        port = free_port()
        chosen = dataclasses.replace(services.settings, http_host="127.0.0.1", http_port=port, **overrides)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
        env.update(chosen.child_env())
        log_path = tmp_path / f"web-{port}.log"
        with log_path.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "server.serve"], cwd=PROJECT,
                                       env=env, stdout=out, stderr=subprocess.STDOUT)
        web = WebProcess(f"http://127.0.0.1:{port}", process, log_path)
        started.append(web)
        _wait_listening(web)
        return web

    yield start
    for web in started:
        _stop(web)
