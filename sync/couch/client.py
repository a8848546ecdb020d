"""The one CouchDB client of fieldsync: every byte to and from CouchDB goes through here.

A thin layer over `requests` (see docs/decisions.md for why not a CouchDB library): timeouts on
every call, retries with backoff for idempotent requests, typed errors, feeds that stream
(`Accept-Encoding: identity`, heartbeats, a client read timeout) and sequences kept opaque.
It speaks only the portable subset of CouchDB 3.x that pouchdb-server also serves.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import requests

log = logging.getLogger("fieldsync.couch")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
FEED_HEADERS = {"Accept-Encoding": "identity"}
# Only server admins may read or write. CouchDB 3.x defaults to this; pouchdb-server leaves a
# database without `_security` public, so every database we create gets it explicitly.
ADMIN_ONLY_SECURITY = {"admins": {"names": [], "roles": ["_admin"]},
                       "members": {"names": [], "roles": ["_admin"]}}


class CouchError(Exception):
    """A CouchDB request failed; `status`, `error` and `reason` come from the server's answer."""

    def __init__(self, status: int | None, error: str, reason: str = "", method: str = "",
                 path: str = ""):
        self.status, self.error, self.reason = status, error, reason
        self.method, self.path = method, path
        super().__init__(f"{method} {path}: {status} {error}: {reason}".strip())


class BadRequest(CouchError):
    """400: the request was malformed (bad id, bad JSON, unsupported parameter)."""


class Unauthorized(CouchError):
    """401 or 403: wrong credentials or not allowed (CouchDB and pouchdb-server differ on which)."""


class NotFound(CouchError):
    """404: no such database, document or attachment (or it was deleted)."""


class Conflict(CouchError):
    """409 (document update conflict) or 412 (database already exists)."""


class TooLarge(CouchError):
    """413: the server refused the request body as too large."""


class Unavailable(CouchError):
    """The server could not be reached, timed out or kept answering 5xx after retries."""


_ERRORS_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Unauthorized, 404: NotFound,
                     409: Conflict, 412: Conflict, 413: TooLarge}


def error_for(status: int, body: Any, method: str = "", path: str = "") -> CouchError:
    """Build the typed error for a non-2xx answer (also used for per-document bulk results)."""
    error = reason = ""
    if isinstance(body, dict):
        error, reason = str(body.get("error", "")), str(body.get("reason", ""))
    cls = _ERRORS_BY_STATUS.get(status, Unavailable if status >= 500 else CouchError)
    return cls(status, error or f"http_{status}", reason, method, path)


def doc_path(doc_id: str) -> str:
    """Quote a document id for a URL, keeping the slash of `_design/` and `_local/` ids."""
    for prefix in ("_design/", "_local/"):
        if doc_id.startswith(prefix):
            return prefix + quote(doc_id[len(prefix):], safe="")
    return quote(doc_id, safe="")


def _json_params(params: dict[str, Any] | None) -> dict[str, str]:
    """CouchDB wants keys and booleans as JSON in the query string."""
    out: dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if name in ("key", "keys", "startkey", "endkey", "start_key", "end_key") \
                or isinstance(value, (bool, list, dict)):
            out[name] = json.dumps(value, separators=(",", ":"))
        else:
            out[name] = str(value)
    return out


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """Take `user:password@` out of a URL; returns (url without credentials, user, password)."""
    parts = urlsplit(url)
    if not parts.username:
        return url.rstrip("/"), None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean.rstrip("/"), unquote(parts.username), unquote(parts.password or "")


@dataclass
class RetryPolicy:
    """How often and how patiently idempotent requests are retried."""
    attempts: int = 4
    first_delay: float = 0.2
    max_delay: float = 3.0

    def delays(self) -> Iterator[float]:
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay
            delay = min(delay * 2, self.max_delay)


@dataclass
class ChangesPage:
    """One answer of the changes feed: the results and the opaque sequence to resume from."""
    results: list[dict]
    last_seq: str
    timed_out: bool = False


@dataclass
class CouchServer:
    """A CouchDB (or compatible) server reached with admin credentials."""
    url: str
    username: str | None = None
    password: str | None = None
    timeout: tuple[float, float] = (5.0, 30.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        clean, user, password = split_credentials(self.url)
        self.url = clean
        if user is not None and self.username is None:
            self.username, self.password = user, password
        if self.username:
            self.session.auth = (self.username, self.password or "")
        # no proxy or netrc lookups from the environment on every request: CouchDB is reached
        # directly (FIELDSYNC_COUCHDB_URL), and the lookups cost measurable CPU per request
        self.session.trust_env = False
        self.session.headers.setdefault("Accept", "application/json")
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=64)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # --- raw requests -------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: dict | None = None, json_body: Any = None,
                data: bytes | Iterable[bytes] | None = None, headers: dict | None = None,
                stream: bool = False, timeout: tuple[float, float] | None = None,
                idempotent: bool | None = None, raise_for_status: bool = True
                ) -> requests.Response:
        """Send one request; retry it on connection errors and 5xx when it is idempotent."""
        url = f"{self.url}/{path.lstrip('/')}"
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        body = data
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
            hdrs.setdefault("Content-Type", "application/json")
        delays = self.retry.delays() if idempotent else iter(())
        while True:
            try:
                response = self.session.request(
                    method, url, params=_json_params(params), data=body, headers=hdrs,
                    stream=stream, timeout=timeout or self.timeout)
            except requests.RequestException as exc:  # refused, reset, timed out, cut short
                delay = next(delays, None)
                if delay is None:
                    raise Unavailable(None, "unavailable", str(exc), method, path) from exc
                log.warning("couchdb %s %s failed (%s); retrying in %.1fs", method, path,
                            exc.__class__.__name__, delay)
                time.sleep(delay)
                continue
            if response.status_code in RETRY_STATUSES:
                delay = next(delays, None)
                if delay is not None:
                    response.close()
                    log.warning("couchdb %s %s answered %s; retrying in %.1fs", method, path,
                                response.status_code, delay)
                    time.sleep(delay)
                    continue
            if raise_for_status and response.status_code >= 400:
                try:
                    payload = response.json()
                except ValueError:
                    payload = None
                response.close()
                raise error_for(response.status_code, payload, method, path)
            return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode the JSON answer."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        finally:
            response.close()

    # --- server level -------------------------------------------------------------------
    def info(self) -> dict:
        """`GET /`: the server's welcome document (also the portable health check)."""
        return self.json("GET", "/", timeout=(2.0, 5.0))

    def all_dbs(self) -> list[str]:
        """Every database name on the server."""
        return self.json("GET", "/_all_dbs")

    def database(self, name: str) -> "Database":
        """A handle on one database (no request is made)."""
        return Database(self, name)


@dataclass
class Database:
    """One CouchDB database."""
    server: CouchServer
    name: str

    @property
    def path(self) -> str:
        return quote(self.name, safe="")

    def _p(self, suffix: str = "") -> str:
        return f"{self.path}/{suffix}" if suffix else self.path

    # --- database -------------------------------------------------------------------------
    def info(self) -> dict:
        """Database information (`doc_count`, `update_seq`, ...)."""
        return self.server.json("GET", self._p())

    def exists(self) -> bool:
        """Whether the database exists."""
        try:
            self.server.request("HEAD", self._p()).close()
            return True
        except NotFound:
            return False

    def create(self, exist_ok: bool = True) -> bool:
        """Create the database, admin-only; returns False when it already existed."""
        try:
            self.server.json("PUT", self._p())
            self.set_security(ADMIN_ONLY_SECURITY)
            return True
        except Conflict:
            if exist_ok:
                return False
            raise

    def delete_database(self) -> None:
        """Delete the whole database (tests and retention only)."""
        self.server.json("DELETE", self._p())

    def security(self) -> dict:
        """The `_security` object."""
        return self.server.json("GET", self._p("_security"))

    def set_security(self, security: dict) -> None:
        """Replace the `_security` object."""
        self.server.json("PUT", self._p("_security"), json_body=security)

    # --- documents ------------------------------------------------------------------------
    def get(self, doc_id: str, **params: Any) -> dict:
        """Read one document; raises NotFound."""
        return self.server.json("GET", self._p(doc_path(doc_id)), params=params)

    def get_or_none(self, doc_id: str, **params: Any) -> dict | None:
        """Read one document, or None when it does not exist."""
        try:
            return self.get(doc_id, **params)
        except NotFound:
            return None

    def put(self, doc: dict) -> str:
        """Create or update a document (its `_rev` decides which); sets and returns the new rev."""
        answer = self.server.json("PUT", self._p(doc_path(doc["_id"])), json_body=doc)
        doc["_rev"] = answer["rev"]
        return answer["rev"]

    def create_doc(self, doc: dict) -> bool:
        """Write a document with a deterministic id; False when it already exists (409 = done)."""
        try:
            self.put(doc)
            return True
        except Conflict:
            return False

    def get_attachment(self, doc_id: str, name: str, rev: str | None = None) -> bytes:
        """The bytes of one attachment; raises NotFound."""
        response = self.server.request("GET", self._p(f"{doc_path(doc_id)}/{doc_path(name)}"),
                                       params={"rev": rev}, headers={"Accept": "*/*"})
        try:
            return response.content
        finally:
            response.close()

    def put_attachment(self, doc_id: str, name: str, data: bytes, content_type: str,
                       rev: str) -> str:
        """Add or replace one attachment of revision `rev`; returns the document's new rev."""
        answer = self.server.json("PUT", self._p(f"{doc_path(doc_id)}/{doc_path(name)}"),
                                  params={"rev": rev}, data=data,
                                  headers={"Content-Type": content_type}, idempotent=False)
        return answer["rev"]

    def delete(self, doc_id: str, rev: str) -> str:
        """Delete one revision of a document."""
        answer = self.server.json("DELETE", self._p(doc_path(doc_id)), params={"rev": rev})
        return answer["rev"]

    def bulk_docs(self, docs: list[dict], new_edits: bool = True) -> list[dict]:
        """`_bulk_docs`; returns the per-document results (check each for `error`)."""
        body: dict[str, Any] = {"docs": docs}
        if not new_edits:
            body["new_edits"] = False
        return self.server.json("POST", self._p("_bulk_docs"), json_body=body,
                                idempotent=not new_edits)

    def all_docs(self, keys: list[str] | None = None, **params: Any) -> dict:
        """`_all_docs`, by keys (POST) or by range (GET)."""
        if keys is not None:
            return self.server.json("POST", self._p("_all_docs"), params=params,
                                    json_body={"keys": keys}, idempotent=True)
        return self.server.json("GET", self._p("_all_docs"), params=params)

    def docs_with_prefix(self, prefix: str, batch: int = 500) -> Iterator[dict]:
        """Every document whose id starts with `prefix`, paged by id."""
        startkey = prefix
        skip = 0
        while True:
            page = self.all_docs(startkey=startkey, endkey=prefix + "\ufff0",
                                 include_docs=True, limit=batch, skip=skip)
            rows = [row for row in page["rows"] if "doc" in row and row["doc"]]
            yield from (row["doc"] for row in rows)
            if len(page["rows"]) < batch:
                return
            startkey, skip = page["rows"][-1]["id"], 1

    def find(self, selector: dict, **options: Any) -> dict:
        """Mango `_find` (always name an index you created: see provisioning)."""
        body = {"selector": selector, **options}
        return self.server.json("POST", self._p("_find"), json_body=body, idempotent=True)

    def create_index(self, fields: list[str], name: str, ddoc: str) -> None:
        """Create a Mango index (idempotent on both servers)."""
        body = {"index": {"fields": fields}, "name": name, "ddoc": ddoc, "type": "json"}
        self.server.json("POST", self._p("_index"), json_body=body, idempotent=True)

    def view(self, ddoc: str, view: str, **params: Any) -> dict:
        """Query a map/reduce view."""
        return self.server.json("GET", self._p(f"_design/{quote(ddoc)}/_view/{quote(view)}"),
                                params=params)

    # --- changes ----------------------------------------------------------------------------
    def changes(self, since: str = "0", *, limit: int | None = None, include_docs: bool = False,
                longpoll: bool = False, timeout_ms: int = 25_000, doc_ids: list[str] | None = None,
                filter_name: str | None = None, style: str | None = None,
                conflicts: bool = False) -> ChangesPage:
        """One page of `_changes`, normal or longpoll; `since` and `last_seq` stay opaque strings.

        A longpoll that outlives the client read timeout is taken as "no changes": pouchdb-server
        ignores the server-side `timeout` and holds the request open until something changes.
        """
        params: dict[str, Any] = {"since": since, "limit": limit, "style": style,
                                  "include_docs": include_docs or None,
                                  # with include_docs: each document's `_conflicts`, if any
                                  "conflicts": (include_docs and conflicts) or None}
        read_timeout = self.server.timeout[1]
        if longpoll:
            params.update(feed="longpoll", timeout=timeout_ms, heartbeat=10_000)
            read_timeout = timeout_ms / 1000 + 40
        if filter_name:
            params["filter"] = filter_name
        json_body = None
        if doc_ids is not None:
            params["filter"] = "_doc_ids"
            json_body = {"doc_ids": doc_ids}
        try:
            answer = self.server.json(
                "POST" if json_body else "GET", self._p("_changes"), params=params,
                json_body=json_body, headers=FEED_HEADERS, idempotent=not longpoll,
                timeout=(self.server.timeout[0], read_timeout))
        except Unavailable as exc:
            if longpoll and "timed out" in exc.reason.lower():
                return ChangesPage([], since, timed_out=True)
            raise
        return ChangesPage(answer.get("results", []), str(answer.get("last_seq", since)))
