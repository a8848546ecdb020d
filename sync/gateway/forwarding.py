"""The sync gateway's core: forward the replication endpoints to a village database.

Flask-free: a view turns the HTTP request into a SyncRequest and the Forwarded answer back
into a response. Only what replication needs is forwarded; bodies stream back to the device
(a large `_changes` or attachment never sits whole in memory); writes are checked document by
document at the edge, and what is accepted is handed to the after-write hooks (audit, device
registry, quarantine feedback, the alert path).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator
from urllib.parse import parse_qsl

from sync.directory.access import Principal
from sync.budgets import HeldBudget, OverBudget
from sync.couch.client import CouchServer, doc_path
from sync.couch.design import DEVICE_CHANGES_FILTER
from sync.couch.names import DatabaseNames
from models.json_body import BadJson, parse_json_body
from sync.gateway.paths import (VILLAGE_RE, PathRefused, canonical_query, check_suffix,
                                encode_query, target_of)
from sync.gateway.attachments import served_headers
from sync.clock import now_ms
from sync.gateway.longpoll import ChangeWatch
from sync.gateway.screening import Classifier, WriteBatch, screen_documents
from sync.gateway.written_once import WrittenOnceGuard

log = logging.getLogger("fieldsync.gateway")

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "server", "set-cookie",
                        "www-authenticate", "content-encoding", "x-powered-by", "x-couch-request-id",
                        "x-couchdb-body-time", "x-couch-stack-hash", "x-couchdb-requested-path"})
READ_ONLY_POSTS = frozenset({"_revs_diff", "_bulk_get", "_all_docs", "_changes"})


class GatewayError(Exception):
    """A request the gateway refuses; `status` and message `code` go back as a JSON error."""

    def __init__(self, status: int, code: str, /, headers: dict | None = None, **params: object):
        super().__init__(code)
        self.status, self.code, self.headers, self.params = status, code, headers or {}, params


def _refused(exc: PathRefused) -> GatewayError:
    return GatewayError(exc.status, exc.code, **exc.params)


@dataclass(frozen=True)
class GatewayLimits:
    """Documented limits (docs/api.md): request body, attachment, longpoll wait and count."""
    max_request_bytes: int = 32 * 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    longpoll_cap_ms: int = 30_000
    max_held_longpolls: int = 5000
    max_held_per_account: int = 4
    # forwarded reads streaming back at once per account (each holds an upstream connection
    # until the device has taken the body: a phone reading slowly, or a script, cannot take
    # every connection of the read lane)
    max_reads_per_account: int = 6
    reads_wait_s: float = 10.0  # a read past its account's share waits this long for a turn
    # per _bulk_docs: PouchDB sends batch_size (100) documents; a visit is ~60 JSON values
    max_bulk_docs: int = 1000
    max_bulk_values: int = 200_000


@dataclass
class SyncRequest:
    """One replication request from a device, already authenticated."""
    method: str
    village: str
    segments: list[str]
    query: str = ""
    body: bytes = b""
    accept: str | None = None
    content_type: str | None = None
    principal: Principal | None = None
    request_id: str = ""
    device: dict = field(default_factory=dict)  # id, platform, app_version from headers

    @property
    def account(self) -> str:
        """Whose budgets the request counts against."""
        return self.principal.username if self.principal else ""


@dataclass
class Forwarded:
    """The answer to give the device: status, headers and a body iterator to stream."""
    status: int
    headers: dict[str, str]
    body: Iterable[bytes]
    on_close: Callable[[], None] = lambda: None
    closed: bool = False

    def close(self) -> None:
        """Run `on_close` once, however many ways the answer ends (body done, response closed)."""
        if not self.closed:
            self.closed = True
            self.on_close()


def _json_answer(status: int, payload: object) -> Forwarded:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Forwarded(status, {"Content-Type": "application/json"}, [data])


class SyncGateway:
    """Forwards one village's replication endpoints to its database."""

    def __init__(self, couch: CouchServer, names: DatabaseNames, limits: GatewayLimits,
                 classify: Classifier, after_write: list[Callable[[WriteBatch], None]],
                 clock: Callable[[], int] = now_ms,
                 watch: ChangeWatch | None = None):
        self.couch, self.names, self.limits, self.classify = couch, names, limits, classify
        self.after_write = after_write
        self.clock = clock  # the server's clock in ms, for the future-stamp rule (tests set it)
        # held longpolls: budgets per process and account, one watcher per village (longpoll.py)
        self.held = HeldBudget("waiting", limits.max_held_longpolls, limits.max_held_per_account)
        # no budget per process for reads: the connection pool's read lane is that, with its
        # wait (503 couchdb_busy); this is the per-account share of it, with the same wait
        self.reads = HeldBudget("reads", None, limits.max_reads_per_account, retry_after=2,
                                wait_s=limits.reads_wait_s)
        self.watch = watch or ChangeWatch(couch, names)

    # --- dispatch ---------------------------------------------------------------------------
    def handle(self, req: SyncRequest) -> Forwarded:
        """Route a request to the forwarding rule for its endpoint, or refuse it.

        Whoever built the segments, the target is taken from the closed grammar of
        sync/gateway/paths.py, and the query is cut down to that endpoint's parameters and
        re-encoded: nothing the device sent is joined into an upstream path as it came.
        """
        try:
            target = target_of(req.segments)
            self._require(req.method, target.methods)
            req.query = encode_query(canonical_query(target, req.method, req.query))
        except PathRefused as exc:
            raise _refused(exc) from None
        try:
            return self._dispatch(req, target)
        except OverBudget as exc:
            raise GatewayError(503, exc.code, headers={"Retry-After": str(exc.retry_after)},
                               limit=exc.limit) from None

    def _dispatch(self, req: SyncRequest, target) -> Forwarded:
        method = req.method
        if target.kind == "database":
            return self._stream(req, "GET", "")
        if target.endpoint == "_bulk_docs":
            with self.couch.uploading():  # connections kept for uploads (sync/couch/client.py)
                return self._bulk_docs(req)
        if target.endpoint == "_changes":
            return self._changes(req)
        if target.kind == "doc" and method == "PUT":
            with self.couch.uploading():
                return self._put_doc(req)
        served = self._stream(req, method, target.suffix)
        if target.kind == "attachment":
            served.headers = served_headers(served.status, served.headers, target.attachment)
        return served

    @staticmethod
    def _require(method: str, allowed: set[str]) -> None:
        if method not in allowed:
            raise GatewayError(405, "method_not_allowed", headers={"Allow": ", ".join(sorted(allowed))})

    # --- plain forwarding -------------------------------------------------------------------
    def _path(self, req: SyncRequest, suffix: str) -> str:
        """`suffix` in the request's village database; refused unless the village is 12 digits
        and the suffix is one the grammar builds (every part encoded, no dot segment)."""
        if not VILLAGE_RE.fullmatch(req.village or ""):
            raise GatewayError(400, "bad_sync_path", position=0)
        try:
            check_suffix(suffix)
        except PathRefused as exc:
            raise _refused(exc) from None
        base = self.couch.database(self.names.village(req.village)).path
        return f"{base}/{suffix}" if suffix else base

    @staticmethod
    def _forward_headers(req: SyncRequest) -> dict[str, str]:
        headers = {"Accept-Encoding": "identity"}
        if req.accept:
            headers["Accept"] = req.accept
        if req.content_type and req.body:
            headers["Content-Type"] = req.content_type
        return headers

    def _stream(self, req: SyncRequest, method: str, suffix: str,
                query: str | None = None) -> Forwarded:
        """Forward a read and stream its answer back; the upstream connection and the
        account's read budget are held until the answer is closed (once, however it ends)."""
        headers = self._forward_headers(req)
        query = req.query if query is None else query
        path = self._path(req, suffix) + (f"?{query}" if query else "")
        account = req.account
        self.reads.take(account)
        try:
            upstream = self.couch.request(method, path, data=req.body or None, headers=headers,
                                          stream=True, raise_for_status=False,
                                          idempotent=method in ("GET", "HEAD") or
                                          (method == "POST" and suffix in READ_ONLY_POSTS))
        except BaseException:
            self.reads.give_back(account)
            raise
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}

        def release() -> None:
            try:
                upstream.close()
            finally:
                self.reads.give_back(account)
        return Forwarded(upstream.status_code, out_headers,
                         upstream.raw.stream(64 * 1024, decode_content=False), release)

    # --- changes: a longpoll held on the village's watcher, not on an upstream connection ------
    def _changes(self, req: SyncRequest) -> Forwarded:
        params = parse_qsl(req.query, keep_blank_values=True)
        options = dict(params)
        feed = options.get("feed", "normal")
        if feed not in ("normal", "longpoll"):  # continuous, eventsource: PouchDB uses longpoll
            raise GatewayError(400, "feed_not_supported", feed=feed)
        if options.get("filter") not in (None, "_doc_ids"):
            raise GatewayError(400, "filter_not_supported", filter=options.get("filter"))
        if "filter" not in options:
            params.append(("filter", DEVICE_CHANGES_FILTER))
        if feed == "normal":
            return self._stream(req, req.method, "_changes", query=encode_query(params))
        cap = self.limits.longpoll_cap_ms
        wait_s = min(int(options.get("timeout") or cap), cap) / 1000
        params = [(k, v) for k, v in params if k not in ("feed", "timeout", "heartbeat")]
        account = req.account
        # the body's digest, not the body: answers with nothing new are remembered per village
        body_key = hashlib.sha256(req.body or b"").digest()
        with self.held.held(account), self.watch.waiting(req.village, req.principal) as waiter:
            deadline = time.monotonic() + wait_s
            while True:
                seen = waiter.generation()
                query = encode_query(params)
                # devices of a village mostly ask the same (the same since): one read for all
                status, headers, content, results, last_seq = self.watch.read(
                    waiter, seen, (req.method, query, body_key),
                    lambda query=query: self._read_changes(req, query),
                    is_quiet=lambda answer: answer[0] == 200 and not answer[3])
                answer = Forwarded(status, dict(headers), [content])
                if status != 200 or results:
                    return answer
                params = [(k, v) for k, v in params if k != "since"] + [("since", last_seq)]
                outcome = waiter.wait(seen, deadline - time.monotonic())
                if outcome == "ended":
                    ended = waiter.ended
                    raise GatewayError(ended.status, ended.code, **ended.params)
                if outcome == "timeout":
                    return answer  # no change for this device: empty, at its last_seq

    def _read_changes(self, req: SyncRequest, query: str) -> tuple:
        """A normal (not held) `_changes` read, buffered: status, headers, body, its results and
        last_seq."""
        upstream = self.couch.request(
            req.method, self._path(req, "_changes") + "?" + query,
            data=req.body or None, headers=self._forward_headers(req), idempotent=True,
            raise_for_status=False)
        content = upstream.content
        upstream.close()
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.pop("Content-Length", None)
        results, last_seq = [], ""
        if upstream.status_code == 200:
            page = json.loads(content)
            results, last_seq = page.get("results") or [], page.get("last_seq")
            last_seq = last_seq if isinstance(last_seq, str) else json.dumps(last_seq)
        return upstream.status_code, tuple(headers.items()), content, results, last_seq

    # --- writes -----------------------------------------------------------------------------
    def _parse_json(self, req: SyncRequest) -> dict:
        """The body as strict JSON (models/json_body.py): an object, else 400 bad_json."""
        try:
            return parse_json_body(req.body, expect_object=True)
        except BadJson as exc:
            log.info("bad JSON from %s (request %s): %s", req.principal and req.principal.username,
                     req.request_id, exc.problem)
            raise GatewayError(400, "bad_json") from None

    def _bulk_docs(self, req: SyncRequest) -> Forwarded:
        self._bound_bulk_docs(req.body, None)
        body = self._parse_json(req)
        if not isinstance(body.get("docs"), list) or not isinstance(body.get("new_edits", True), bool):
            raise GatewayError(400, "bad_bulk_docs")
        self._bound_bulk_docs(req.body, body["docs"])
        new_edits = body.get("new_edits", True)
        batch = screen_documents(body["docs"], req, self.limits.max_attachment_bytes,
                                 self.classify, now_ms=self.clock(), new_edits=new_edits)
        self._guard_written_once(req, batch)
        results = list(batch.rejections)
        as_sent = (len(batch.accepted) == len(body["docs"]) and not batch.altered
                   and set(body) <= {"docs", "new_edits"})
        if as_sent:  # the common case: forward the bytes as sent (strict JSON: read as we read them)
            upstream = self.couch.json("POST", self._path(req, "_bulk_docs"), data=req.body,
                                       headers={"Content-Type": "application/json"},
                                       idempotent=not new_edits)
        elif batch.accepted:
            req.body = b""  # not sent on: one copy of the batch less while the new bodies are made
            upstream = []
            for chunk in bulk_chunks(batch.accepted, new_edits):  # a few MiB at a time
                upstream.extend(self.couch.json(
                    "POST", self._path(req, "_bulk_docs"), data=chunk,
                    headers={"Content-Type": "application/json"}, idempotent=not new_edits))
        if batch.accepted:
            batch.record_upstream(upstream)
            results.extend(upstream)
        self._after_write(batch)
        return _json_answer(201, results)

    def _bound_bulk_docs(self, raw: bytes, docs: list | None) -> None:
        """413 for more documents than max_bulk_docs; before parsing, for more JSON values than
        max_bulk_values (an upper bound read from the bytes: every value but a container's first
        follows a comma), as parsed tiny values cost ten times their bytes in memory."""
        limits = self.limits
        if docs is not None and len(docs) > limits.max_bulk_docs:
            raise GatewayError(413, "bulk_docs_too_many", limit=limits.max_bulk_docs,
                               count=len(docs))
        if docs is None:
            values = raw.count(b",") + raw.count(b"{") + raw.count(b"[")
            if values > limits.max_bulk_values:
                raise GatewayError(413, "bulk_docs_too_many", limit=limits.max_bulk_docs,
                                   count=f">{values // 60}")

    def _put_doc(self, req: SyncRequest) -> Forwarded:
        doc = self._parse_json(req)
        new_edits = _put_new_edits(req.query)
        doc.setdefault("_id", req.segments[0])
        if doc["_id"] != req.segments[0]:
            raise GatewayError(400, "id_mismatch")
        batch = screen_documents([doc], req, self.limits.max_attachment_bytes, self.classify,
                                 now_ms=self.clock(), new_edits=new_edits)
        self._guard_written_once(req, batch)
        if batch.rejections:
            rejection = batch.rejections[0]
            return _json_answer(rejection.get("status", 403), rejection)
        done = {"ok": True, "id": doc["_id"], "rev": doc.get("_rev")}
        if not batch.accepted:  # a replicated revision the database already holds
            return _json_answer(201, done)
        if not new_edits:  # through _bulk_docs: `PUT ?new_edits=false` is not portable
            rows = self.couch.json("POST", self._path(req, "_bulk_docs"), idempotent=True,
                                   json_body={"docs": [doc], "new_edits": False})
            failed = next((row for row in rows if row.get("error")), None)
            if failed:
                return _json_answer(ERROR_STATUS.get(failed["error"], 400), failed)
            batch.record_upstream(rows)
            self._after_write(batch)
            return _json_answer(201, done)
        upstream = self.couch.request("PUT", self._path(req, doc_path(doc["_id"])),
                                      json_body=doc, raise_for_status=False)
        answer = upstream.json()
        upstream.close()
        if upstream.status_code < 300:
            batch.record_upstream([answer])
            self._after_write(batch)
        return _json_answer(upstream.status_code, answer)

    def _guard_written_once(self, req: SyncRequest, batch: WriteBatch) -> None:
        """Refuse, per document, every write that would rewrite a visit, mediation request or
        case event, save the correction of a quarantined revision (sync/gateway/written_once.py)."""
        WrittenOnceGuard(self.couch, self.names).check(batch)

    def _after_write(self, batch: WriteBatch) -> None:
        for hook in self.after_write:
            try:
                hook(batch)
            except Exception:  # a hook failing must not fail a write that already landed
                log.exception("after-write hook %s failed for request %s",
                              getattr(hook, "__name__", hook), batch.request.request_id)


ERROR_STATUS = {"forbidden": 403, "unauthorized": 401, "conflict": 409}


def _put_new_edits(query: str) -> bool:
    """A document PUT takes one query parameter, `new_edits`; any other is refused: CouchDB takes
    the parent revision from `?rev=` when the body names none (an edit the checks never saw)."""
    new_edits = True
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "new_edits" or value not in ("true", "false"):
            raise GatewayError(400, "put_query_unsupported", param=name)
        new_edits = value == "true"
    return new_edits


def bulk_chunks(entries: list, new_edits: bool, limit: int = 4 * 1024 * 1024) -> Iterator[bytes]:
    """`_bulk_docs` bodies of the accepted documents, each about `limit` bytes at most (one
    document over it goes alone): the re-encoded batch is never held whole, so a maximal batch
    with one refused document costs a few MiB more than the parsed batch, not its size again."""
    tail = b"]}" if new_edits else b'],"new_edits":false}'
    parts: list[bytes] = []
    size = 0
    for entry in entries:
        data = json.dumps(entry.doc, ensure_ascii=False, separators=(",", ":")).encode()
        if parts and size + len(data) > limit:
            yield b'{"docs":[' + b",".join(parts) + tail
            parts, size = [], 0
        parts.append(data)
        size += len(data)
    if parts:
        yield b'{"docs":[' + b",".join(parts) + tail


def iter_body(forwarded: Forwarded) -> Iterator[bytes]:
    """The body of a Forwarded answer, closing the upstream response when done. A body that is
    never iterated (a HEAD, a device gone before the first byte) runs no `finally`: the web
    layer also calls `close` when it closes the response (sync_routes.py)."""
    try:
        yield from forwarded.body
    finally:
        forwarded.close()
