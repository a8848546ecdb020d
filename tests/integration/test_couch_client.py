"""The CouchDB client against the session's real server."""
from __future__ import annotations

import http.server
import threading

import pytest

from sync.couch.client import (ChangesPage, Conflict, CouchServer, NotFound, RetryPolicy, Unavailable,
                        doc_path, split_credentials)


@pytest.fixture
def db(couch_admin, names):
    database = couch_admin.database(names.state)
    database.create()
    return database


def test_crud_and_typed_errors(db):
    doc = {"_id": "household:ä/1 ?", "type": "household", "schema_version": 1, "name": "陈志强"}
    rev = db.put(doc)
    assert db.get(doc["_id"])["name"] == "陈志强"
    with pytest.raises(Conflict):
        db.put({"_id": doc["_id"], "type": "household"})
    assert db.create_doc({"_id": doc["_id"]}) is False
    db.delete(doc["_id"], rev)
    with pytest.raises(NotFound):
        db.get(doc["_id"])
    assert db.get_or_none("missing") is None


def test_bulk_docs_reports_per_document(db):
    db.put({"_id": "a", "v": 1})
    results = db.bulk_docs([{"_id": "a", "v": 2}, {"_id": "b", "v": 1}])
    by_id = {r["id"]: r for r in results}
    assert by_id["a"]["error"] == "conflict"
    assert "rev" in by_id["b"]


def test_docs_with_prefix_pages_through_everything(db):
    db.bulk_docs([{"_id": f"account:{i:04d}"} for i in range(23)] + [{"_id": "other"}])
    found = [d["_id"] for d in db.docs_with_prefix("account:", batch=5)]
    assert found == [f"account:{i:04d}" for i in range(23)]


def test_changes_normal_and_longpoll_keep_sequences_opaque(db):
    db.put({"_id": "case_event:0", "type": "case_event"})
    first = db.changes()
    raw = db.server.json("GET", f"{db.path}/_changes")["last_seq"]
    # passed through as the server's own text (never parsed, shortened or incremented) ...
    assert first.last_seq == (raw if isinstance(raw, str) else str(raw))
    # ... and the server takes it back: nothing after it yet
    assert db.changes(since=first.last_seq).results == []
    woke = {}

    def listen():
        woke["page"] = db.changes(since=first.last_seq, longpoll=True, timeout_ms=20_000,
                                  include_docs=True)
    listener = threading.Thread(target=listen)
    listener.start()
    # no wait needed: a longpoll from `first.last_seq` answers with this write whether it was
    # sent before or after it
    db.put({"_id": "mediation:1", "type": "mediation_request"})
    listener.join(timeout=30)
    page: ChangesPage = woke["page"]
    assert [c["id"] for c in page.results] == ["mediation:1"]
    assert page.results[0]["doc"]["type"] == "mediation_request"
    only = db.changes(since="0", doc_ids=["mediation:1"])
    assert [c["id"] for c in only.results] == ["mediation:1"]


def test_unreachable_server_raises_unavailable_after_retries():
    from server.embedded_couchdb import free_port
    couch = CouchServer(f"http://127.0.0.1:{free_port()}",
                        retry=RetryPolicy(attempts=3, first_delay=0.01))
    with pytest.raises(Unavailable):
        couch.info()


class _Flaky(http.server.BaseHTTPRequestHandler):
    calls = 0

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).calls += 1
        status = 503 if type(self).calls < 3 else 200
        body = b'{"couchdb":"Welcome"}' if status == 200 else b'{"error":"unavailable"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_idempotent_requests_are_retried_on_5xx():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        couch = CouchServer(f"http://127.0.0.1:{server.server_port}",
                            retry=RetryPolicy(attempts=4, first_delay=0.01))
        assert couch.info() == {"couchdb": "Welcome"}
        assert _Flaky.calls == 3
    finally:
        server.shutdown()
        server.server_close()


def test_url_helpers():
    assert split_credentials("http://ad%40m:p%3Aw@127.0.0.1:5984/") == (
        "http://127.0.0.1:5984", "ad@m", "p:w")
    assert doc_path("_design/fieldsync") == "_design/fieldsync"
    assert doc_path("_local/x/y") == "_local/x%2Fy"
    assert doc_path("a/b c") == "a%2Fb%20c"


def test_update_reapplies_the_change_on_a_conflict(db):
    db.put({"_id": "alert:1", "type": "alert", "notes": ["first"]})
    calls = []

    def add_note(doc):
        calls.append(list(doc["notes"]))
        if len(calls) == 1:  # someone else writes between our read and our write
            other = db.get("alert:1")
            other["notes"].append("theirs")
            db.put(other)
        doc["notes"].append("ours")
        return doc
    stored = db.update("alert:1", add_note)
    assert calls == [["first"], ["first", "theirs"]]
    assert db.get("alert:1")["notes"] == ["first", "theirs", "ours"] == stored["notes"]
    assert stored["_rev"].startswith("3-")


def test_update_writes_nothing_when_the_change_says_so_and_creates_when_missing(db):
    assert db.update("missing", lambda doc: None) is None
    assert db.get_or_none("missing") is None
    created = db.update("state:new", lambda doc: doc or {"type": "note", "n": 1})
    rev = created["_rev"]
    same = db.update("state:new", lambda doc: None if doc["n"] == 1 else doc)
    assert same["_rev"] == rev and db.get("state:new")["_rev"] == rev


def test_update_gives_up_when_the_document_keeps_changing(db):
    db.put({"_id": "busy", "n": 0})

    def racing(doc):
        db.put({**db.get("busy"), "n": doc["n"] + 100})  # always one step ahead of us
        doc["n"] += 1
        return doc
    with pytest.raises(Conflict):
        db.update("busy", racing, attempts=3)
    assert db.get("busy")["_rev"].startswith("4-")  # the three racing writes, none of ours


def test_every_read_of_a_real_server_is_json(db):
    """The same reads as the transport test, against the session's server (pouchdb-server
    answers JSON either way; a CouchDB 3.x given as FIELDSYNC_TEST_COUCHDB_URL does only when
    asked): open_revs and attachments=true come back as documents, not multipart."""
    db.bulk_docs([{"_id": "h", "_rev": "1-" + "a" * 32, "v": 1},
                  {"_id": "h", "_rev": "1-" + "b" * 32, "v": 2}], new_edits=False)
    leaves = db.get("h", open_revs="all", revs=True)
    assert sorted(leaf["ok"]["v"] for leaf in leaves) == [1, 2]
    db.put({"_id": "v", "_attachments": {"p.txt": {"content_type": "text/plain",
                                                    "data": "aGVsbG8="}}})
    assert db.get("v", attachments=True)["_attachments"]["p.txt"]["data"] == "aGVsbG8="
    assert db.get_attachment("v", "p.txt") == b"hello"
    assert db.pending(db.changes().last_seq) == 0
    assert db.pending("0") != 0
