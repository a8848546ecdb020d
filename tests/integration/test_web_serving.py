"""The production web server (gunicorn, gevent workers): half-sent requests are dropped, idle
connections cost no thread, the background parts of the web process work under gevent."""
from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

HALF_OPEN = 300


def _half_open(url: str, count: int) -> list[socket.socket]:
    host, port = url.rsplit("/", 1)[-1].split(":")
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=30)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never the rest
        sockets.append(sock)
    return sockets


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""  # no answer: the server closed the connection
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_half_sent_requests_are_dropped_while_the_rest_is_served(start_web):
    web = start_web(header_timeout_s=2.0)
    sockets = _half_open(web.url, HALF_OPEN)
    try:
        answer = requests.get(f"{web.url}/healthz", timeout=10)
        assert answer.json()["couchdb"]["ok"] is True
        assert all(_closed_by_server(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_a_head_sent_a_byte_at_a_time_is_dropped_at_its_deadline(start_web):
    web = start_web(header_timeout_s=2.0)
    [sock] = _half_open(web.url, 1)
    sock.settimeout(0.5)
    closed = False
    try:
        for _ in range(40):  # one byte every 0.5 s: each recv times out until the deadline hits
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if _closed_by_server(sock):
                closed = True
                break
        assert closed
    finally:
        sock.close()


def test_password_checks_run_beside_the_event_loop_not_on_it(provisioned, start_web, monkeypatch):
    """scrypt (~50 ms a check) on the gevent loop would stop every connection of the worker
    for its duration; gevent's monitor thread reports any stretch of 20 ms without a switch,
    with the stack that held the loop: none may be a password check."""
    monkeypatch.setenv("GEVENT_MONITOR_THREAD_ENABLE", "true")
    monkeypatch.setenv("GEVENT_MAX_BLOCKING_TIME", "0.02")
    web = start_web()

    def login(n: int) -> int:  # unknown accounts: a full check each (a dummy hash), never locked
        return requests.post(f"{web.url}/api/v1/login", timeout=60, json={
            "username": f"nobody.{n}", "password": "wrong-pass-1", "device_id": f"phone-{n}"}).status_code
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(login, range(16)))
    assert statuses == [401] * 16
    right = requests.post(f"{web.url}/api/v1/login", timeout=60, json={
        "username": "chen.zq", "password": "device-pass-1", "device_id": "phone-1"})
    assert right.status_code == 200, right.text
    reports = web.log().split("appears to be blocked")[1:]
    blocked_stacks = [report.split("\nInfo:")[0] for report in reports]
    assert not [stack for stack in blocked_stacks if "verify_password" in stack
                or "hash_password" in stack]


def test_healthz_answers_from_the_latest_check_without_waiting_on_couchdb(client, services,
                                                                         monkeypatch):
    """A probe never waits on CouchDB after the first: many probes cost one check, a check that
    hangs leaves the answer at once (the last result), and one overdue for long answers 503."""
    from mobile_api import health
    from sync.couch.client import CouchServer
    real_info, calls, release = CouchServer.info, [], threading.Event()

    def info(couch):  # the probe asks over a connection of its own (a CouchServer of its own)
        calls.append(1)
        if len(calls) > 1:
            release.wait(30)  # CouchDB hangs from the second check on
        return real_info(couch)
    monkeypatch.setattr(CouchServer, "info", info)
    monkeypatch.setattr(health, "CHECK_EVERY_S", 3600.0)
    try:
        first = [client.get("/healthz").get_json() for _ in range(20)]
        assert len(calls) == 1 and all(body["couchdb"]["ok"] for body in first)
        monkeypatch.setattr(health, "CHECK_EVERY_S", 0.0)
        hanging = client.get("/healthz").get_json()  # starts a check that hangs; answers now
        probe = client.application.extensions[health.PROBE_KEY]
        assert hanging["couchdb"]["ok"] is True and probe._running  # the check still hangs
        monkeypatch.setattr(health, "OVERDUE_S", 0.0)
        overdue = client.get("/healthz")
        assert overdue.status_code == 503
        assert overdue.get_json()["couchdb"] == {"ok": False, "error": "check_overdue"}
    finally:
        release.set()
