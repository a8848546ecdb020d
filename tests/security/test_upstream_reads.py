"""One account cannot hold the service's CouchDB connections (issue 13, attack pass).

Every forwarded device read (a document, `_bulk_get`, `_all_docs`, an attachment, a normal
`_changes`) streams its answer back on an upstream connection from the pool's read lane, held
until the device has taken the whole body. Two ways an attacker with a cadre's password could
keep those connections:

- **reads it never takes**: open many downloads of a large attachment and stop reading. Each
  holds a connection until the I/O timeout (15 s) drops it; enough of them and every other
  device's read waits for a free connection, then gets 503 `couchdb_busy`. Now each account may
  have `FIELDSYNC_MAX_READS_PER_ACCOUNT` reads streaming at once; a read past that waits up to
  `FIELDSYNC_COUCHDB_WAIT_S` for one of them to end (a burst of small reads just queues), then
  503 `too_many_reads_account` with Retry-After; other accounts read as before.
- **HEAD requests**: a HEAD's body is never iterated, so the generator that closed the upstream
  answer never ran its `finally` and each HEAD kept its connection for good: a few HEADs more
  than the read lane and no device could read again. The web layer now closes the answer when
  it closes the response, whether or not the body was iterated.

Real gunicorn web process, real pouchdb-server, loopback only, bounded waits.
"""
from __future__ import annotations

import base64
import socket

import pytest
import requests

from models.examples import example

VILLAGE, OTHER_VILLAGE = "441226101201", "441226101202"
VISIT = "visit:00000000-0000-4000-8000-00000000c001"
PHOTO_BYTES = 9 * 1024 * 1024  # more than the kernel buffers between us and the web process


def _basic(user: str, password: str = "device-pass-1") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _read(web, path: str, user: str = "chen.zq", method: str = "GET") -> requests.Response:
    return requests.request(method, f"{web.url}{path}", timeout=30,
                            headers={"Authorization": _basic(user), "Accept-Language": "en"})


def _visit_with_photo(provisioned) -> str:
    db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    doc = example("verification_visit")
    doc.update(_id=VISIT, village_code=VILLAGE, photos=[])
    rev = db.put(doc)
    db.put_attachment(VISIT, "p1.jpg", b"\xff\xd8" + b"\0" * (PHOTO_BYTES - 2), "image/jpeg", rev)
    return f"/sync/{VILLAGE}/{VISIT}/p1.jpg"


def _stalled_download(web, path: str, user: str = "chen.zq") -> tuple[socket.socket, bytes]:
    """Ask for `path` and read only the status line: the rest waits in our 4 KB window."""
    host, port = web.url.rsplit("/", 1)[-1].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect((host, int(port)))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {_basic(user)}\r\n"
                 f"Accept-Language: en\r\n\r\n".encode())
    return sock, sock.recv(12)


@pytest.fixture
def photo_path(provisioned) -> str:
    return _visit_with_photo(provisioned)


def test_stalled_downloads_of_one_account_stop_at_its_share(provisioned, start_web, photo_path):
    web = start_web(max_reads_per_account=2, couchdb_connections=8,
                    couchdb_upload_connections=2, couchdb_wait_s=2.0)
    stalled = [_stalled_download(web, photo_path) for _ in range(2)]
    try:
        assert [status for _, status in stalled] == [b"HTTP/1.1 200"] * 2
        third = _read(web, photo_path)
        assert third.status_code == 503 and third.headers["Retry-After"] == "2"
        assert third.json()["error"] == "too_many_reads_account"
        assert "2" in third.json()["message"]
        # another account of the same process reads as before (its own share, free connections)
        other = _read(web, f"/sync/{OTHER_VILLAGE}/_all_docs", user="li.xy")
        assert other.status_code == 200, other.text
    finally:
        for sock, _ in stalled:
            sock.close()
    # the stalled downloads' connections and share come back once the device has gone
    for _ in range(50):
        again = _read(web, f"/sync/{VILLAGE}/_all_docs")
        if again.status_code == 200:
            break
        assert again.json()["error"] == "too_many_reads_account"
    assert again.status_code == 200


def test_head_requests_give_their_connection_back(provisioned, start_web, photo_path):
    # a read lane of 4 connections, a 1 s wait for one: a leak shows after 4 HEADs
    web = start_web(couchdb_connections=6, couchdb_upload_connections=2, couchdb_wait_s=1.0)
    for _ in range(12):
        head = _read(web, f"/sync/{VILLAGE}/{VISIT}", method="HEAD")
        assert head.status_code == 200, head.headers
        assert _read(web, photo_path, method="HEAD").status_code == 200
    answer = _read(web, f"/sync/{VILLAGE}/{VISIT}")
    assert answer.status_code == 200, answer.text
