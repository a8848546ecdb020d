"""A CouchDB cluster's behaviour in front of the embedded server, on demand (toxiproxy-style).

No cluster installs here, so `ClusterProxy` sits on 127.0.0.1 in front of the session's
pouchdb-server and reproduces what a 3-node CouchDB 3.x cluster (q=2, n=3) did to the suite:

- **concurrent writes of one id both accepted**: when two writes of the same document id from
  the same parent revision (a `PUT`, a `_bulk_docs` row, or an attachment's `PUT ?rev=`)
  arrive within `conflict_window_s` of each other, the one the server refuses with 409 is
  instead stored as a conflicting revision (`_bulk_docs` with `new_edits: false`) and
  answered **202 Accepted** with an `ok` body, as the cluster does when the two writes reach
  different nodes first. The document is really left in conflict; which revision wins is
  CouchDB's deterministic choice, so either.
  Two identical edits of one parent are one revision (CouchDB derives a revision id from the
  parent and the body): answered 202 with the winner's rev, no conflict.
- **a `_changes` that lags a write**: with `changes_lag_s`, a `_changes` read answers as if
  the writes of the last `changes_lag_s` seconds were not there yet (the feed stops before the
  first such change; `last_seq` points there, so a later read lists them).
- **sequences in the cluster's opaque form**: every `seq`/`last_seq` of `_changes` and the
  `update_seq` of `GET /db` becomes a `"12-g1AAAA…"` string, different between the two even
  for the same state, and is mapped back when it comes in as `since`.
- **`_membership`** answers three nodes (fieldsync then reads a write back twice,
  sync/cluster/read_back.py).
- **`_db_updates`** (pouchdb-server has none): database names written through the proxy are
  listed about `db_updates_delay_s` after the write, as CouchDB's batched feed does.

The fixture `cluster_couch` (parametrised: `single_node` and `cluster`) gives a test its
settings either way; a test module opts in by overriding `settings` with it (see
tests/integration/test_village_feed.py). `proxy.counts` says what was injected.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import pytest

from support.http_relay import relay_chunked

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length", "host",
              "accept-encoding"}


@dataclass
class Arrival:
    """A write of one (database, id, parent revision) as it arrived, and how it ended."""
    at: float
    serial: int
    ok: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class ClusterProxy:
    """A fault-injecting HTTP proxy in front of one CouchDB-compatible server."""

    def __init__(self, upstream: str, *, conflict_window_s: float = 0.1,
                 conflict_rate: float = 1.0, changes_lag_s: float = 0.0,
                 opaque_seqs: bool = True, db_updates: bool = True,
                 db_updates_delay_s: float = 0.2, seed: int = 0):
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname, parts.port or 80
        self.conflict_window_s, self.conflict_rate = conflict_window_s, conflict_rate
        self.changes_lag_s, self.opaque_seqs = changes_lag_s, opaque_seqs
        self.db_updates, self.db_updates_delay_s = db_updates, db_updates_delay_s
        self.counts: Counter = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._arrivals: dict[tuple, list[tuple[float, int]]] = {}
        self._serial = 0
        self._written: dict[str, dict[tuple[str, str], float]] = {}
        self._last_write = 0.0
        self._to_upstream: dict[str, object] = {}
        self._db_events: list[tuple[float, str, str]] = []
        self._local = threading.local()
        self._stopped = False
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self):
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_COPY = do_OPTIONS = _any

            def log_message(self, *args):
                pass

        self._sockets: list = []  # accepted and upstream connections, closed by stop()

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def process_request(self, request, client_address):
                with proxy._lock:
                    proxy._sockets.append(request)
                super().process_request(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name="cluster-proxy")

    def start(self) -> "ClusterProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.close()
            except OSError:
                pass

    def settle(self) -> None:
        """Wait (bounded) until every lag the proxy injects has passed for what was written."""
        wait = max(self.changes_lag_s, self.db_updates_delay_s if self.db_updates else 0.0)
        left = self._last_write + wait + 0.05 - time.monotonic()
        if left > 0:
            time.sleep(min(left, 5.0))

    # --- plumbing ---------------------------------------------------------------------------------
    def _upstream(self, method: str, path: str, body: bytes | None, headers: dict
                  ) -> http.client.HTTPResponse:
        for attempt in (0, 1):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                                  timeout=120)
                self._local.conn = conn
                with self._lock:
                    self._sockets.append(conn)
            try:
                conn.request(method, path, body=body, headers=headers)
                return conn.getresponse()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _upstream_json(self, method: str, path: str, body: object, headers: dict
                       ) -> tuple[int, object]:
        data = json.dumps(body).encode()
        response = self._upstream(method, path, data, {**headers,
                                                       "Content-Type": "application/json"})
        raw = response.read()
        return response.status, json.loads(raw or b"null")

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = _read_body(handler)
        parts = urlsplit(handler.path)
        segments = [unquote(s) for s in parts.path.split("/") if s]
        query = parse_qsl(parts.query, keep_blank_values=True)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.update({"Host": f"{self.upstream_host}:{self.upstream_port}",
                        "Accept-Encoding": "identity"})
        method = handler.command
        try:
            if segments == ["_db_updates"] and self.db_updates:
                return _answer(handler, 200, self._db_updates_page(dict(query)))
            if segments == ["_membership"]:  # three nodes, as the cluster it stands for
                nodes = [f"couchdb@node{n}.cluster.test" for n in (1, 2, 3)]
                return _answer(handler, 200, {"all_nodes": nodes, "cluster_nodes": nodes})
            if len(segments) == 2 and segments[1] == "_changes" and _buffered_feed(query):
                return self._changes(handler, method, parts.path, query, body, headers,
                                     segments[0])
            if method == "GET" and len(segments) == 1 and not segments[0].startswith("_"):
                return self._db_info(handler, parts.path, parts.query, headers, segments[0])
            if self._is_doc_write(method, segments, body):
                return self._write(handler, method, handler.path, body, headers, segments)
            if _is_attachment_write(method, segments, query):
                return self._attachment_write(handler, handler.path, body, headers, segments,
                                              dict(query)["rev"])
            self._note_db_write(method, segments)
            self._pass(handler, method, handler.path, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
        except Exception:  # noqa: BLE001 - a read cut short by stop() is no test failure
            handler.close_connection = True
            if not self._stopped:
                raise

    def _pass(self, handler, method: str, path: str, body: bytes | None, headers: dict) -> None:
        """Forward as is, streaming the answer (feeds, attachments)."""
        response = self._upstream(method, path, body, headers)
        handler.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                handler.send_header(name, value)
        length = response.getheader("Content-Length")
        if method == "HEAD" or response.status in (204, 304):
            handler.send_header("Content-Length", length or "0")
            handler.end_headers()
            response.read()
            return
        if length is not None:
            handler.send_header("Content-Length", length)
            handler.end_headers()
            handler.wfile.write(response.read())
            return
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        relay_chunked(response, handler.wfile)

    # --- (c) opaque sequences -----------------------------------------------------------------------
    def _opaque(self, db: str, seq: object, kind: str) -> object:
        if not self.opaque_seqs or seq is None:
            return seq
        if isinstance(seq, str) and seq in self._to_upstream:
            return seq
        digest = hashlib.sha256(f"{db}\0{seq}\0{kind}".encode()).digest() * 2
        head = str(seq).split("-")[0]
        number = int(head) if head.isdigit() else 0
        opaque = f"{number}-g1AAAA{kind}" + base64.urlsafe_b64encode(digest).decode().rstrip("=")
        with self._lock:
            self._to_upstream[opaque] = seq
        return opaque

    def _since(self, value: str) -> str:
        found = self._to_upstream.get(value)
        return value if found is None else str(found)

    def _db_info(self, handler, path: str, query: str, headers: dict, db: str) -> None:
        response = self._upstream("GET", path + (f"?{query}" if query else ""), None, headers)
        raw = response.read()
        try:
            info = json.loads(raw)
        except ValueError:
            info = None
        if response.status == 200 and isinstance(info, dict) and "update_seq" in info:
            info["update_seq"] = self._opaque(db, info["update_seq"], "B")
            return _answer(handler, 200, info)
        _answer(handler, response.status, raw, raw=True)

    # --- (b) a lagging changes feed ----------------------------------------------------------------
    def _changes(self, handler, method: str, path: str, query: list, body: bytes | None,
                 headers: dict, db: str) -> None:
        query = [(k, self._since(v) if k == "since" else v) for k, v in query]
        since = dict(query).get("since", "0")
        target = path + "?" + urlencode(query, quote_via=quote)
        longpoll = dict(query).get("feed") == "longpoll"
        while True:
            response = self._upstream(method, target, body, headers)
            raw = response.read()
            try:
                page = json.loads(raw)
            except ValueError:
                return _answer(handler, response.status, raw, raw=True)
            if response.status != 200 or not isinstance(page, dict):
                return _answer(handler, response.status, page)
            kept = self._visible(db, page.get("results", []))
            if kept is None or not longpoll or kept:
                break
            time.sleep(self.changes_lag_s / 4)  # a longpoll waits until something is visible
        if kept is not None:
            self.counts["lagged_reads"] += 1
            page["results"] = kept
            page["last_seq"] = kept[-1]["seq"] if kept else since
        for row in page.get("results", []):
            row["seq"] = self._opaque(db, row.get("seq"), "A")
        page["last_seq"] = self._opaque(db, page.get("last_seq"), "A")
        _answer(handler, 200, page)

    def _visible(self, db: str, results: list) -> list | None:
        """The leading changes not written within the lag; None when none is hidden."""
        if not self.changes_lag_s:
            return None
        cutoff = time.monotonic() - self.changes_lag_s
        written = self._written.get(db, {})
        for index, row in enumerate(results):
            revs = [c.get("rev") for c in row.get("changes") or []]
            if any(written.get((row.get("id"), rev), 0.0) > cutoff for rev in revs):
                return results[:index]
        return None

    # --- _db_updates -------------------------------------------------------------------------------
    def _note_db_write(self, method: str, segments: list[str]) -> None:
        if method in ("PUT", "POST", "DELETE", "COPY") and segments and \
                not segments[0].startswith("_"):
            kind = "created" if method == "PUT" and len(segments) == 1 else "updated"
            with self._lock:
                self._db_events.append((time.monotonic(), segments[0], kind))
                self._last_write = time.monotonic()

    def _db_updates_page(self, query: dict) -> dict:
        since = query.get("since", "0")
        with self._lock:
            events = list(self._db_events)
        start = len(events) if since == "now" else int(since.split("-")[0] or 0)
        visible_until = time.monotonic() - self.db_updates_delay_s
        results = []
        position = start
        for index in range(start, len(events)):
            at, db, kind = events[index]
            if at > visible_until:
                break
            results.append({"db_name": db, "type": kind, "seq": f"{index + 1}-g1AAAAdbu"})
            position = index + 1
        return {"results": results, "last_seq": f"{position}-g1AAAAdbu"}

    # --- (a) concurrent writes both accepted ---------------------------------------------------------
    @staticmethod
    def _is_doc_write(method: str, segments: list[str], body: bytes | None) -> bool:
        if len(segments) < 2 or segments[0].startswith("_") or not body:
            return False
        if method == "PUT" and len(segments) == 2 and not segments[1].startswith("_"):
            return True
        return method == "POST" and segments[1:] == ["_bulk_docs"]

    def _write(self, handler, method: str, path: str, body: bytes, headers: dict,
               segments: list[str]) -> None:
        db = segments[0]
        try:
            payload = json.loads(body)
        except ValueError:
            return self._pass(handler, method, path, body, headers)
        bulk = method == "POST"
        if bulk and (not isinstance(payload, dict) or payload.get("new_edits") is False):
            self._note_db_write(method, segments)
            return self._pass(handler, method, path, body, headers)
        docs = payload.get("docs", []) if bulk else [payload]
        if not bulk:
            query = dict(parse_qsl(urlsplit(path).query))
            payload.setdefault("_id", segments[1])
            if "rev" in query and "_rev" not in payload:
                payload["_rev"] = query["rev"]
        mine: list[Arrival | None] = []
        with self._lock:
            self._serial += 1
            arrived = time.monotonic()
            for doc in docs:
                if isinstance(doc, dict) and isinstance(doc.get("_id"), str):
                    key = (db, doc["_id"], doc.get("_rev"))
                    seen = [a for a in self._arrivals.get(key, [])
                            if arrived - a.at <= self.conflict_window_s]
                    mine.append(Arrival(arrived, self._serial))
                    self._arrivals[key] = seen + [mine[-1]]
                else:
                    mine.append(None)
        answer: object = None
        try:
            response = self._upstream(method, path, body, headers)
            raw = response.read()
            status = response.status
            try:
                answer = json.loads(raw)
            except ValueError:
                pass
            # rows matched to documents by id: pouchdb-server reorders them under concurrent
            # writes (CouchDB answers in request order, which is what this proxy answers)
            rows, unmatched = _rows_by_doc(docs, answer) if bulk and isinstance(answer, list) \
                else ([answer], [])
            for arrival, row in zip(mine, rows):  # before `done`: a racing loser reads `ok`
                if arrival is not None:
                    arrival.ok = isinstance(row, dict) and bool(row.get("ok")) and status < 300
        finally:
            for arrival in mine:
                if arrival is not None:
                    arrival.done.set()
        if answer is None:
            return _answer(handler, status, raw, raw=True)
        losers = [(index, doc) for index, (doc, row, arrival) in enumerate(zip(docs, rows, mine))
                  if arrival is not None and _is_conflict(row, status, bulk)
                  and self._raced(db, doc, arrival)]
        if losers:
            accepted = self._store_conflicting(db, [doc for _, doc in losers], headers)
            for (index, doc), rev in zip(losers, accepted):
                rows[index] = {"ok": True, "id": doc["_id"], "rev": rev}
            status = 202
        if bulk and isinstance(answer, list):
            answer = [row for row in rows if row is not None] + unmatched
        elif losers:
            answer = rows[0]
        for doc, row in zip(docs, rows):
            if isinstance(row, dict) and row.get("ok") and row.get("rev"):
                self._note_written(db, doc.get("_id") or row.get("id"), row["rev"])
        self._note_db_write(method, segments)
        _answer(handler, status, answer)

    def _attachment_write(self, handler, path: str, body: bytes | None, headers: dict,
                          segments: list[str], parent: str) -> None:
        """(a) for `PUT /db/doc/attachment?rev=`: one refused because another from the same
        revision was just stored is stored too, as a sibling revision with its attachment."""
        db, doc_id, name = segments
        key = (db, doc_id, parent)
        with self._lock:
            self._serial += 1
            mine = Arrival(time.monotonic(), self._serial)
            self._arrivals[key] = [a for a in self._arrivals.get(key, [])
                                   if mine.at - a.at <= self.conflict_window_s] + [mine]
        try:
            response = self._upstream("PUT", path, body, headers)
            raw = response.read()
            status, mine.ok = response.status, response.status < 300  # before `done`
        finally:
            mine.done.set()
        if status == 409 and self._raced(db, {"_id": doc_id, "_rev": parent}, mine):
            doc_path = f"/{quote(db, safe='')}/{quote(doc_id, safe='')}"
            got = self._upstream("GET", f"{doc_path}?rev={quote(parent)}&attachments=true", None,
                                 {**headers, "Accept": "application/json"})
            doc = json.loads(got.read())
            doc.setdefault("_attachments", {})[name] = {
                "content_type": headers.get("Content-Type", "application/octet-stream"),
                "data": base64.b64encode(body or b"").decode()}
            rev_id = uuid.uuid4().hex
            doc.update(_rev=f"{int(parent.split('-')[0]) + 1}-{rev_id}", _revisions={
                "start": int(parent.split("-")[0]) + 1, "ids": [rev_id, parent.split("-", 1)[1]]})
            stored, answer = self._upstream_json("POST", f"/{quote(db, safe='')}/_bulk_docs",
                                                 {"docs": [doc], "new_edits": False}, headers)
            assert stored in (201, 202), (stored, answer)
            self.counts["accepted_202"] += 1
            status, raw = 202, json.dumps({"ok": True, "id": doc_id, "rev": doc["_rev"]}).encode()
        if status < 300:
            self._note_written(db, doc_id, json.loads(raw)["rev"])
        self._note_db_write("PUT", segments)
        _answer(handler, status, raw, raw=True)

    def _raced(self, db: str, doc: dict, mine: Arrival) -> bool:
        """Whether a refused write lost a race: another write from the same parent arrived
        within the window and succeeded (a 409 for a document long there stays a 409)."""
        if "_attachments" in doc:
            return False
        with self._lock:
            others = [a for a in self._arrivals.get((db, doc["_id"], doc.get("_rev")), [])
                      if a.serial != mine.serial and abs(mine.at - a.at) <= self.conflict_window_s]
        for other in others:
            other.done.wait(5.0)
        return any(a.ok for a in others) and self._rng.random() < self.conflict_rate

    def _store_conflicting(self, db: str, docs: list[dict], headers: dict) -> list[str]:
        """Store each losing write as a sibling of the revision it was based on, unless it is
        the very edit the winner made: CouchDB derives a revision id from the parent and the
        body, so two identical edits are one revision, not a conflict."""
        stored, revs = [], []
        for doc in docs:
            parent = doc.get("_rev")
            generation = int(parent.split("-")[0]) if parent else 0
            same = self._identical_leaf(db, doc, generation + 1, headers)
            if same is not None:
                revs.append(same)
                self.counts["identical_edits"] += 1
                continue
            rev_id = uuid.uuid4().hex
            history = [rev_id] + ([parent.split("-", 1)[1]] if parent else [])
            revs.append(f"{generation + 1}-{rev_id}")
            stored.append({**doc, "_rev": revs[-1],
                           "_revisions": {"start": generation + 1, "ids": history}})
        if stored:
            status, answer = self._upstream_json("POST", f"/{quote(db, safe='')}/_bulk_docs",
                                                 {"docs": stored, "new_edits": False}, headers)
            assert status in (201, 202), (status, answer)
            self.counts["accepted_202"] += len(stored)
        return revs

    def _identical_leaf(self, db: str, doc: dict, generation: int, headers: dict) -> str | None:
        """The rev of a live leaf of that generation with the same body as `doc`, if any."""
        path = f"/{quote(db, safe='')}/{quote(doc['_id'], safe='')}?open_revs=all"
        response = self._upstream("GET", path, None, {**headers, "Accept": "application/json"})
        raw = response.read()
        if response.status != 200:
            return None
        wanted = _doc_body(doc)
        for row in json.loads(raw or b"[]"):
            leaf = row.get("ok") if isinstance(row, dict) else None
            if (isinstance(leaf, dict) and not leaf.get("_deleted")
                    and leaf["_rev"].startswith(f"{generation}-") and _doc_body(leaf) == wanted):
                return leaf["_rev"]
        return None

    def _note_written(self, db: str, doc_id: str, rev: str) -> None:
        if not self.changes_lag_s:
            return
        now = time.monotonic()
        with self._lock:
            written = self._written.setdefault(db, {})
            written[(doc_id, rev)] = now
            if len(written) > 5000:  # forget what is long visible
                cutoff = now - self.changes_lag_s
                for key in [k for k, at in written.items() if at < cutoff]:
                    del written[key]


def _rows_by_doc(docs: list, rows: list) -> tuple[list, list]:
    """Each document's row of a `_bulk_docs` answer, by id (one id sent twice takes its rows
    in turn; None where a document has none), and the rows no document took."""
    by_id: dict[str, list] = {}
    unmatched = []
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("id"), str):
            by_id.setdefault(row["id"], []).append(row)
        else:
            unmatched.append(row)
    aligned = []
    for doc in docs:
        doc_id = doc.get("_id") if isinstance(doc, dict) else None
        aligned.append(by_id[doc_id].pop(0) if by_id.get(doc_id) else None)
    return aligned, unmatched + [row for left in by_id.values() for row in left]


def _doc_body(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _is_attachment_write(method: str, segments: list[str], query: list) -> bool:
    return (method == "PUT" and len(segments) == 3 and "rev" in dict(query)
            and not segments[0].startswith("_") and not segments[1].startswith("_"))


def _is_conflict(row: object, status: int, bulk: bool) -> bool:
    if bulk:
        return isinstance(row, dict) and row.get("error") == "conflict"
    return status == 409


def _buffered_feed(query: list) -> bool:
    return dict(query).get("feed", "normal") in ("normal", "longpoll")


def _read_body(handler: BaseHTTPRequestHandler) -> bytes | None:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else None


def _answer(handler: BaseHTTPRequestHandler, status: int, body: object, raw: bool = False
            ) -> None:
    data = body if raw else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


# --- fixtures ---------------------------------------------------------------------------------------
@dataclass
class Topology:
    """Which server a test talks to: the embedded one directly, or through the cluster proxy."""
    name: str
    proxy: ClusterProxy | None = None

    @property
    def cluster(self) -> bool:
        return self.proxy is not None

    def settings(self, settings):
        """The test's settings pointed at this topology."""
        return settings if self.proxy is None else replace(settings, couchdb_url=self.proxy.url)

    def settle(self) -> None:
        """Let what was written become visible everywhere (a no-op on a single node)."""
        if self.proxy is not None:
            self.proxy.settle()


@pytest.fixture(params=["single_node", "cluster"])
def cluster_couch(request, couch_admin):
    """The session server directly (`single_node`), or behind a ClusterProxy (`cluster`) with
    the options of the `cluster_proxy` marker, if any (e.g. `changes_lag_s=0.3`)."""
    if request.param == "single_node":
        yield Topology("single_node")
        return
    marker = request.node.get_closest_marker("cluster_proxy")
    proxy = ClusterProxy(couch_admin.url, **(marker.kwargs if marker else {})).start()
    yield Topology("cluster", proxy)
    print(f"cluster proxy injected: {dict(proxy.counts)}")
    proxy.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster_proxy(**options): options of the ClusterProxy "
                                       "the cluster_couch fixture starts")
