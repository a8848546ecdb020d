"""The CouchDB client's transport against a small local server that answers like CouchDB 3.x does.

CouchDB 3.x answers `open_revs` reads as multipart/mixed and `attachments=true` reads as
multipart/related unless the request says `Accept: application/json` (pouchdb-server answers JSON
whatever is asked, so the integration suite cannot see this). The fake server here does the same,
records every request as it arrived (method, raw target, headers), answers 202 and 429 where a
cluster or Cloudant would, and a fake IBM Cloud IAM endpoint hands out tokens. 127.0.0.1 only.
"""
from __future__ import annotations

import email.utils
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.couch.client import (BadPath, Busy, CouchServer, RetryPolicy, Rev, Timeout, Unavailable,
                               Unauthorized, check_path, doc_path)

CLUSTER_SEQ = "12-g1AAAAFTeJzLYWBg4MhgTmHgzcvPy09JdcjLz8gvLskBCScyJNX___8_K4M5kbEsFQD6ZA5l"
LEAVES = [{"ok": {"_id": "household:1", "_rev": "2-a", "name": "陈"}},
          {"ok": {"_id": "household:1", "_rev": "2-b", "name": "陈志强"}}]


class FakeCouch(BaseHTTPRequestHandler):
    """Answers like CouchDB 3.x where it matters to the client; records what it was sent."""
    protocol_version = "HTTP/1.1"
    seen: list[dict]
    rate_limited: dict
    tokens: set
    bearer_only = False

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status: int, body: bytes, content_type: str = "application/json",
                headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: object, headers: dict | None = None) -> None:
        self._answer(status, json.dumps(payload).encode(), headers=headers)

    def _multipart(self, kind: str, parts: list[dict]) -> None:
        boundary = "e5d0c6a5a3d24b0b"
        chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(p)}\r\n"
                  for p in parts]
        body = ("".join(chunks) + f"--{boundary}--").encode()
        self._answer(200, body, f'multipart/{kind}; boundary="{boundary}"')

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.path)
        query = parse_qs(target.query)
        type(self).seen.append({"method": self.command, "target": self.path, "path": target.path,
                                "accept": self.headers.get("Accept"),
                                "authorization": self.headers.get("Authorization"),
                                "body": body})
        wants_json = "application/json" in (self.headers.get("Accept") or "")
        path = target.path
        if self.bearer_only and self.headers.get("Authorization", "").removeprefix("Bearer ") \
                not in self.tokens:
            return self._json(401, {"error": "unauthorized", "reason": "bad token"})
        if path.startswith("/limited"):
            left = self.rate_limited.get(path, 0)
            if left > 0:
                self.rate_limited[path] = left - 1
                return self._json(429, {"error": "too_many_requests", "reason": "rate limit"},
                                  headers={"Retry-After": "0"})
            return self._json(201, [{"ok": True, "id": "a", "rev": "1-a"}])
        if path.startswith("/slow"):
            if "body" in path:  # headers at once, the body too late
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.flush()
            time.sleep(1.0)
            if "body" in path:
                self.wfile.write(b"{}")
                return None
            return self._json(200, {})
        if path == "/db/accepted" and self.command == "PUT":
            return self._json(202, {"ok": True, "id": "accepted", "rev": "1-abc"})
        if path == "/db/_bulk_docs":
            return self._json(202, [{"ok": True, "id": "a", "rev": "1-a"},
                                    {"id": "b", "error": "conflict", "reason": "exists"}])
        if path == "/db/_bulk_get":
            return self._json(200, {"results": [
                {"id": "household:1", "docs": [{"ok": LEAVES[0]["ok"]}]},
                {"id": "missing", "docs": [{"error": {"id": "missing", "rev": "undefined",
                                                      "error": "not_found", "reason": "missing"}}]},
            ]})
        if "open_revs" in query:
            return self._json(200, LEAVES) if wants_json else self._multipart("mixed", LEAVES)
        if query.get("attachments") == ["true"]:
            doc = {"_id": "visit:1", "_rev": "1-a",
                   "_attachments": {"p.jpg": {"content_type": "image/jpeg", "data": "AAAA"}}}
            return self._json(200, doc) if wants_json else self._multipart("related", [doc])
        if path.endswith("/_changes") or path == "/_db_updates":
            return self._json(200, {"results": [{"id": "x", "seq": CLUSTER_SEQ, "changes": []}],
                                    "last_seq": CLUSTER_SEQ, "pending": 3})
        if path.endswith("/_all_docs") or "/_view/" in path:
            return self._json(200, {"total_rows": 0, "offset": 0, "rows": []})
        if path.endswith("/_find"):
            return self._json(200, {"docs": []})
        if path.startswith("/db/a%2Fb/") or path == "/db/%41":
            return self._json(200, {"_id": "x", "_rev": "1-a"})
        if path.startswith("/db/"):
            return self._json(200, {"_id": unquote(path.rsplit("/", 1)[-1]), "_rev": "1-a"})
        return self._json(200, {"couchdb": "Welcome", "version": "3.5.0"})

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815 (http.server's naming)


class FakeIam(BaseHTTPRequestHandler):
    """IBM Cloud IAM's token endpoint: an API key in, a bearer token with a lifetime out."""
    protocol_version = "HTTP/1.1"
    issued: list[str]
    forms: list[dict]
    tokens: set
    lifetime_s = 3600

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        type(self).forms.append({k: v[0] for k, v in form.items()})
        if form.get("apikey") != ["key-1"]:
            payload, status = {"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could "
                                                                          "not be found"}, 400
        else:
            token = f"tok-{len(self.issued) + 1}"
            self.issued.append(token)
            self.tokens.add(token)
            payload, status = {"access_token": token, "token_type": "Bearer",
                               "expires_in": self.lifetime_s,
                               "expiration": int(time.time()) + self.lifetime_s}, 200
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _serve(handler: type) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def fake():
    FakeCouch.seen, FakeCouch.rate_limited, FakeCouch.tokens = [], {}, set()
    FakeCouch.bearer_only = False
    server = _serve(FakeCouch)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def couch(fake) -> CouchServer:
    return CouchServer(f"http://127.0.0.1:{fake.server_port}", "admin", "secret",
                       retry=RetryPolicy(attempts=2, first_delay=0.0))


# --- asking for JSON ----------------------------------------------------------------------------
def test_every_read_kind_asks_for_json_and_gets_it(couch):
    db = couch.database("db")
    couch.info()
    assert db.get("household:1")["_id"] == "household:1"
    leaves = db.get("household:1", open_revs="all", revs=True)
    assert [leaf["ok"]["_rev"] for leaf in leaves] == ["2-a", "2-b"]
    visit = db.get("visit:1", attachments=True)
    assert visit["_attachments"]["p.jpg"]["data"] == "AAAA"
    db.all_docs(include_docs=True)
    db.all_docs(keys=["a"])
    page = db.changes(since=CLUSTER_SEQ, limit=5)
    db.view("fieldsync", "by_type", reduce=False)
    db.bulk_get([("household:1", None)])
    db.find({"type": "household"}, use_index="by-type")
    couch.json("GET", "/_db_updates", params={"feed": "normal"})
    kinds = [(r["method"], r["path"]) for r in FakeCouch.seen]
    assert len(kinds) == 11, kinds
    not_json = [r["target"] for r in FakeCouch.seen if r["accept"] != "application/json"]
    assert not_json == []
    assert page.last_seq == CLUSTER_SEQ and page.pending == 3  # kept as sent: opaque
    assert db.pending(CLUSTER_SEQ) == 4  # the one listed and the three after it


def test_bulk_get_is_read_per_spec(couch):
    found = couch.database("db").bulk_get([("household:1", "2-a"), ("missing", None)])
    assert found[("household:1", "2-a")]["name"] == "陈"
    assert found[("missing", None)] is None


def test_attachments_are_read_as_bytes_whatever_their_type(couch):
    couch.database("db").get_attachment("visit:1", "p.jpg")
    assert FakeCouch.seen[-1]["accept"] == "*/*"


# --- what a write answer means -----------------------------------------------------------------
def test_a_202_is_a_success_that_says_so(couch):
    db = couch.database("db")
    doc = {"_id": "accepted", "type": "note"}
    rev = db.put(doc)
    assert isinstance(rev, Rev) and rev == "1-abc" and rev.accepted is True
    assert doc["_rev"] == "1-abc"
    rows = db.bulk_docs([{"_id": "a"}, {"_id": "b"}])
    assert rows[0]["accepted"] is True and "accepted" not in rows[1]
    assert couch.counters["accepted"] == 2


# --- one retry policy ---------------------------------------------------------------------------
def test_429_is_retried_for_every_request_including_writes(couch):
    FakeCouch.rate_limited["/limited/_bulk_docs"] = 3
    rows = couch.json("POST", "/limited/_bulk_docs", json_body={"docs": [{"_id": "a"}]})
    assert rows[0]["rev"] == "1-a"
    assert [r["path"] for r in FakeCouch.seen] == ["/limited/_bulk_docs"] * 4
    assert couch.counters["rate_limited"] == 3


def test_429_that_never_ends_gives_up_as_unavailable(couch):
    FakeCouch.rate_limited["/limited/x"] = 100
    with pytest.raises(Unavailable) as raised:
        couch.json("GET", "/limited/x")
    assert raised.value.status == 429
    assert len(FakeCouch.seen) == couch.retry.rate_limited_attempts


def test_retry_after_is_read_as_seconds_or_a_date_and_capped():
    policy = RetryPolicy(first_delay=0.5, max_retry_after=30.0)
    assert policy.retry_after("2", 0) == 2.0
    assert policy.retry_after("120", 0) == 30.0
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    assert policy.retry_after(later, 0) == 30.0
    earlier = email.utils.formatdate(time.time() - 3600, usegmt=True)
    assert policy.retry_after(earlier, 0) == 0.0
    assert policy.retry_after(None, 2) == 2.0  # no header: backoff 0.5 * 2**2
    assert policy.retry_after("soon", 0) == 0.5


@pytest.mark.parametrize("path", ["/slow/headers", "/slow/body"])
def test_a_read_timeout_is_recognised_by_type(couch, path):
    with pytest.raises(Timeout) as raised:
        couch.request("GET", path, timeout=(2.0, 0.2), idempotent=False)
    assert isinstance(raised.value, Unavailable) and raised.value.timed_out


def test_a_bounded_pool_holds_its_connections_and_the_rest_get_busy(fake):
    """No more connections at once than the pool holds: a request past them waits for one
    (pool_wait_s), then gets Busy (503 `couchdb_busy` in the API), never a connection more."""
    couch = CouchServer(f"http://127.0.0.1:{fake.server_port}", pool_size=2, pool_block=True,
                        pool_wait_s=0.3)
    outcomes: list[str] = []

    def slow_read() -> None:  # each holds its connection for 1 s
        try:
            couch.request("GET", "/slow/headers", idempotent=False)
            outcomes.append("answered")
        except Busy as exc:
            assert isinstance(exc, Unavailable) and exc.error == "couchdb_busy"
            outcomes.append("busy")
    readers = [threading.Thread(target=slow_read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=30)
    assert sorted(outcomes) == ["answered", "answered", "busy", "busy"]
    assert couch.counters["busy"] == 2
    assert sum(1 for seen in FakeCouch.seen if seen["path"].startswith("/slow")) == 2


def test_uploads_have_connections_of_their_own_that_reads_cannot_take(fake):
    """With every read connection held, a request made inside `uploading()` still goes out at
    once; a read waits (and here, past its short wait, gets Busy)."""
    couch = CouchServer(f"http://127.0.0.1:{fake.server_port}", pool_size=3, upload_pool_size=1,
                        pool_block=True, pool_wait_s=0.3)
    outcomes: dict[str, str] = {}

    def call(name: str, upload: bool) -> None:
        try:
            if upload:
                with couch.uploading():
                    couch.request("GET", "/slow/headers", idempotent=False)
            else:
                couch.request("GET", "/slow/headers", idempotent=False)
            outcomes[name] = "answered"
        except Busy:
            outcomes[name] = "busy"
    readers = [threading.Thread(target=call, args=(f"read{n}", False)) for n in range(2)]
    for reader in readers:
        reader.start()
    time.sleep(0.1)  # both read connections are in use now
    late = [threading.Thread(target=call, args=("upload", True)),
            threading.Thread(target=call, args=("read2", False))]
    for thread in late:
        thread.start()
    for thread in readers + late:
        thread.join(timeout=30)
    assert outcomes == {"read0": "answered", "read1": "answered", "upload": "answered",
                        "read2": "busy"}


def test_an_unreachable_server_is_unavailable_but_not_a_timeout():
    probe = ThreadingHTTPServer(("127.0.0.1", 0), FakeCouch)
    port = probe.server_port
    probe.server_close()  # nothing listens there now
    couch = CouchServer(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=1))
    with pytest.raises(Unavailable) as raised:
        couch.info()
    assert not raised.value.timed_out


# --- paths: refused before sending, sent exactly as checked -------------------------------------
BAD_PATHS = ["db/..", "db/.", "db/%2E%2E/_all_dbs", "db/%2e%2E", "db/.%2E", "db/%2E.",
             "db/_local/%2E%2E", "db/%252E%252E", "db/%25252e%25252e", "db/a%2F..%2Fb",
             "db/a%252F%252E%252E", "db/a\\b", "db/a%5Cb", "db/a%5cb", "db/a%00b", "db/a\x00b",
             "db/\uff0e\uff0e", "db/%EF%BC%8E%EF%BC%8E", "db/\u2025", "../_config", "%2E%2E",
             "db/doc/%2E%2E?rev=1-a", "db/..;x/_all_dbs", "db/%2E%2E%3Bx"]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_dot_segments_backslashes_and_nul_are_refused_before_sending(couch, path):
    with pytest.raises(BadPath):
        couch.request("GET", path)
    assert FakeCouch.seen == []


def test_ids_and_database_names_that_spell_dots_are_refused(couch):
    for doc_id in ("..", ".", "_local/..", "_design/."):
        with pytest.raises(BadPath):
            couch.database("db").get(doc_id)
    with pytest.raises(BadPath):
        couch.database("..").info()
    assert FakeCouch.seen == []


@pytest.mark.parametrize("path", ["db/a.b", "db/...", "db/household%3A%C3%A4%2F1%20%3F",
                                  "db/100%25", "db/_design/fieldsync/_view/by_type"])
def test_honest_paths_pass_the_check(path):
    check_path(path)


HONEST = st.text(st.characters(exclude_categories=("Cs",),
                                exclude_characters=".\\\x00%\uff0e\u2024\u2025\u2026\ufe52"),
                 min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(doc_id=HONEST, attachment=HONEST)
def test_no_honest_id_is_refused(doc_id, attachment):
    """No false positives: an id or attachment name without dots, backslashes, NUL or `%` (Chinese
    text, colons, slashes, spaces, emoji...) always passes, however it is quoted."""
    check_path(f"db/{doc_path(doc_id)}/{doc_path(attachment)}")
    check_path(f"db/{doc_path('_local/' + doc_id)}")


def test_what_is_checked_is_what_is_sent(couch):
    couch.database("db").get("a/b")  # an id with a slash: encoded, never split
    couch.request("GET", "db/%41").close()  # requests itself would send /db/A
    couch.request("GET", "db/x?since=0&filter=_doc_ids").close()
    assert [r["target"] for r in FakeCouch.seen] == ["/db/a%2Fb", "/db/%41",
                                                     "/db/x?since=0&filter=_doc_ids"]


def test_requests_alone_would_rewrite_dot_segments(fake):
    """Why the client sends its own URL: requests' preparation removes `..` segments and decodes
    `%2E` into a `.` that the server then resolves (issue 11's walk to the server root)."""
    base = f"http://127.0.0.1:{fake.server_port}"
    requests.get(f"{base}/db/x/../_all_dbs", timeout=5).close()
    requests.get(f"{base}/db/x/%2E%2E/_all_dbs", timeout=5).close()
    assert [r["target"] for r in FakeCouch.seen] == ["/db/_all_dbs", "/db/x/../_all_dbs"]


# --- IBM Cloud IAM --------------------------------------------------------------------------------
@pytest.fixture
def iam():
    FakeIam.issued, FakeIam.forms, FakeIam.tokens = [], [], set()
    server = _serve(FakeIam)
    yield server
    server.shutdown()
    server.server_close()


def test_iam_exchanges_the_key_once_and_again_before_expiry(fake, iam):
    FakeCouch.tokens, FakeCouch.bearer_only = FakeIam.tokens, True  # only issued tokens pass
    couch = CouchServer(f"http://127.0.0.1:{fake.server_port}", iam_api_key="key-1",
                        iam_token_url=f"http://127.0.0.1:{iam.server_port}/identity/token")
    now = [1000.0]
    couch.iam.clock = lambda: now[0]
    couch.info()
    couch.database("db").get("doc")
    assert FakeIam.issued == ["tok-1"]
    assert FakeIam.forms == [{"grant_type": "urn:ibm:params:oauth:grant-type:apikey",
                              "apikey": "key-1"}]
    assert [r["authorization"] for r in FakeCouch.seen] == ["Bearer tok-1"] * 2
    now[0] += 0.79 * 3600
    couch.info()
    assert FakeIam.issued == ["tok-1"]
    now[0] += 0.02 * 3600  # past 80 % of the lifetime: a new token before the old one expires
    couch.info()
    assert FakeIam.issued == ["tok-1", "tok-2"]
    assert FakeCouch.seen[-1]["authorization"] == "Bearer tok-2"
    assert couch.username is None and "key-1" not in repr(couch)


def test_credentials_stay_out_of_the_client_repr(couch):
    assert "secret" not in repr(couch)


def test_a_401_makes_the_next_request_exchange_the_key_again(fake, iam):
    FakeCouch.tokens, FakeCouch.bearer_only = FakeIam.tokens, True
    couch = CouchServer(f"http://127.0.0.1:{fake.server_port}", iam_api_key="key-1",
                        iam_token_url=f"http://127.0.0.1:{iam.server_port}/identity/token")
    couch.info()
    FakeIam.tokens.discard("tok-1")  # revoked on the server side
    with pytest.raises(Unauthorized):
        couch.info()
    couch.info()
    assert FakeIam.issued == ["tok-1", "tok-2"]


def test_a_wrong_api_key_is_unauthorized(fake, iam):
    couch = CouchServer(f"http://127.0.0.1:{fake.server_port}", iam_api_key="wrong",
                        iam_token_url=f"http://127.0.0.1:{iam.server_port}/identity/token")
    with pytest.raises(Unauthorized) as raised:
        couch.info()
    assert raised.value.error == "iam_token_refused"
    assert FakeCouch.seen == []
