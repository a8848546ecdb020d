"""The embedded server's supervision, and `fieldsync run` from a shell: up, healthy, clean stop."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from server.embedded_couchdb import EmbeddedCouchDB, free_port


def _pids_mentioning(fragment: str) -> list[int]:
    """Live processes whose command line contains `fragment` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if fragment in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def _wait(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_embedded_server_is_restarted_after_a_crash_and_keeps_its_data(tmp_path):
    server = EmbeddedCouchDB(tmp_path)
    server.start()
    try:
        couch = server.client()
        db = couch.database("survivor")
        db.create()
        db.put({"_id": "household:1", "type": "household", "schema_version": 1})
        # nothing is readable anonymously
        assert requests.get(f"{server.url}/survivor", timeout=5).status_code == 401
        assert requests.get(f"{server.url}/_users/_all_docs", timeout=5).status_code == 401
        first_pid = server.child.process.pid
        os.kill(first_pid, signal.SIGKILL)
        assert _wait(lambda: server.child.restarts == 1 and server.child.running, 30)
        server.wait_ready(30)
        assert db.get("household:1")["type"] == "household"
        assert server.child.process.pid != first_pid
    finally:
        server.stop()
    assert not server.child.running
    assert _pids_mentioning(str(tmp_path)) == []


def _get_status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=2).status_code
    except requests.RequestException:
        return None


def test_fieldsync_run_demo_serves_healthz_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env.update(FIELDSYNC_DATA_DIR=str(tmp_path / "var"), FIELDSYNC_HTTP_PORT=str(port),
               FIELDSYNC_HEARTBEAT_INTERVAL_S="1")
    exe = str(Path(sys.executable).parent / "fieldsync")
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([exe, "--lang", "en", "run", "--demo"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    try:
        assert _wait(lambda: "Press Ctrl-C to stop." in log.read_text(), 120, 0.5), log.read_text()
        assert _get_status(f"http://127.0.0.1:{port}/healthz") == 200
        body = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        assert body["couchdb"]["vendor"] == "PouchDB authors"
        children = _pids_mentioning(str(tmp_path))
        assert children, "the embedded server runs from the data directory"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "fieldsync is running: http://127.0.0.1:%d/" % port in output
    assert "cadre111" in output and "demo-2026" in output
    # every alert reaches someone and the demo loads cleanly: no ERROR line at start (issue 14)
    assert not [line for line in output.splitlines() if " ERROR " in line], output
    assert "fieldsync stopped" in output
    assert _wait(lambda: _pids_mentioning(str(tmp_path)) == [], 10)
    assert _get_status(f"http://127.0.0.1:{port}/healthz") is None
    assert not (tmp_path / "var" / "couchdb" / "runtime.json").exists()


def test_cli_reaches_the_running_embedded_server(tmp_path):
    """`fieldsync user list` in another terminal talks to the server `run` started."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env.update(FIELDSYNC_DATA_DIR=str(tmp_path / "var"), FIELDSYNC_HTTP_PORT=str(port))
    exe = str(Path(sys.executable).parent / "fieldsync")
    proc = subprocess.Popen([exe, "run", "--demo"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: (tmp_path / "var/couchdb/runtime.json").exists()
                     and _get_status(f"http://127.0.0.1:{port}/healthz") is not None, 120, 0.5)
        listing = subprocess.run([exe, "user", "list"], env=env, capture_output=True, text=True,
                                 timeout=60)  # Chinese by default
        assert "cadre111\t村干部\t441226101201\t启用" in listing.stdout, listing.stderr
        english = subprocess.run([exe, "--lang", "en", "user", "list"], env=env,
                                 capture_output=True, text=True, timeout=60)
        assert "cadre111\tcadre\t441226101201\tactive" in english.stdout, english.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert _wait(lambda: _pids_mentioning(str(tmp_path)) == [], 10)


