"""The production web server (gunicorn, gevent workers): half-sent requests are dropped, idle
connections cost no thread, the background parts of the web process work under gevent."""
from __future__ import annotations

import socket

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
