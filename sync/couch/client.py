"""The one CouchDB client of fieldsync: every byte to and from CouchDB goes through here.

A thin layer over `requests` (see docs/decisions.md for why not a CouchDB library): timeouts on
every call, one retry policy (5xx and connection errors for idempotent requests, 429 with
`Retry-After` for every request), typed errors, feeds that stream (`Accept-Encoding: identity`,
heartbeats, a client read timeout) and sequences kept opaque. It speaks the portable subset of
CouchDB 3.x that pouchdb-server also serves, written to CouchDB 3.x semantics (docs/couchdb-notes.md):

- every JSON read asks for JSON (`Accept: application/json`): CouchDB 3.x answers `open_revs` and
  `attachments=true` reads as multipart otherwise;
- a write answered 202 Accepted (a cluster below its write quorum) is a success that proves
  nothing about winning: the revision says `accepted`, and the server counts it;
- paths are checked before sending (no dot segment, raw or encoded, no backslash or NUL) and
  sent exactly as checked: requests' own URL preparation (which removes dot segments and decodes
  `%2E`) is bypassed;
- basic auth, or IBM Cloud IAM (an API key exchanged for a bearer token, refreshed before it
  expires) for Cloudant.
"""
from __future__ import annotations

import contextvars
import email.utils
import json
import logging
import re
import threading
import time
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

import requests
import urllib3.exceptions

log = logging.getLogger("fieldsync.couch")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
TOO_MANY_REQUESTS = 429  # Cloudant's rate limit: refused before anything was done, so always retried
WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "COPY"})
JSON_HEADERS = {"Accept": "application/json"}
FEED_HEADERS = {"Accept-Encoding": "identity", **JSON_HEADERS}
IAM_TOKEN_URL = "https://iam.cloud.ibm.com/identity/token"
# Only server admins may read or write. CouchDB 3.x defaults to this; pouchdb-server leaves a
# database without `_security` public, so every database we create gets it explicitly.
ADMIN_ONLY_SECURITY = {"admins": {"names": [], "roles": ["_admin"]},
                       "members": {"names": [], "roles": ["_admin"]}}


class CouchError(Exception):
    """A CouchDB request failed; `status`, `error` and `reason` come from the server's answer.
    `retried` is True when the answer came to a retry: a 409 then may be our own first attempt,
    which landed although its answer was lost."""

    def __init__(self, status: int | None, error: str, reason: str = "", method: str = "",
                 path: str = ""):
        self.status, self.error, self.reason = status, error, reason
        self.method, self.path = method, path
        self.retried = False
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
    """The server could not be reached, timed out or kept answering 5xx or 429 after retries."""

    @property
    def timed_out(self) -> bool:
        """Whether the server was reached but did not answer within the read timeout."""
        return isinstance(self, Timeout)


class Busy(Unavailable):
    """Every connection of a bounded pool stayed in use for the pool's wait: the process has as
    many requests at CouchDB as it may (error `couchdb_busy`); not retried, the caller retries."""


class Timeout(Unavailable):
    """The read timeout passed before the answer came (a longpoll with no changes, a slow server);
    recognised by the exception's type, never by its message."""


class BadPath(CouchError):
    """A path the client refuses to send: a dot segment (`.`/`..`, raw or percent-encoded in any
    case or depth, full-width dots), a backslash or a NUL. Nothing was sent."""


_ERRORS_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Unauthorized, 404: NotFound,
                     409: Conflict, 412: Conflict, 413: TooLarge}


def error_for(status: int, body: Any, method: str = "", path: str = "") -> CouchError:
    """Build the typed error for a non-2xx answer (also used for per-document bulk results)."""
    error = reason = ""
    if isinstance(body, dict):
        error, reason = str(body.get("error", "")), str(body.get("reason", ""))
    cls = _ERRORS_BY_STATUS.get(status, Unavailable if status >= 500 or status == 429
                                else CouchError)
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


_PERCENT_RE = re.compile(r"%[0-9a-fA-F]{2}")
_DOT_SEGMENTS = frozenset({".", ".."})


def _decodings(segment: str) -> Iterator[str]:
    """The segment as sent, then as each further round of percent-decoding would read it."""
    yield segment
    for _ in range(4):  # %2E, %252E, %25252E ... a fifth level is refused outright below
        if not _PERCENT_RE.search(segment):
            return
        segment = unquote(segment, errors="replace")
        yield segment
    if _PERCENT_RE.search(segment):
        yield "."  # nested deeper than any honest id: treat it as the worst case


def check_path(path: str) -> None:
    """Refuse a request path (no query) that any decoder on the way could read as leaving its
    place: a `.` or `..` segment raw or percent-encoded (any case, any depth of `%25`, also behind
    an encoded slash, or before a `;` parameter as some servers read `..;x`), full-width or
    other compatibility dots, a backslash or a NUL."""
    for segment in path.split("/"):
        for form in _decodings(segment):
            if "\\" in form or "\x00" in form or any(
                    unicodedata.normalize("NFKC", part.split(";", 1)[0]) in _DOT_SEGMENTS
                    for part in form.split("/")):
                raise BadPath(None, "bad_path", "dot segment, backslash or NUL in the path",
                              "", path)


@dataclass
class RetryPolicy:
    """The one retry policy: how often and how patiently requests are retried.

    Idempotent requests are retried on connection errors and 5xx; every request (writes too) on
    429 Too Many Requests, waiting what `Retry-After` asks (capped at `max_retry_after`). A write
    retried after a connection error or 5xx can have landed the first time: its retry then
    answers 409, which the error marks `retried` (see Database.update and create_doc)."""
    attempts: int = 4
    first_delay: float = 0.2
    max_delay: float = 3.0
    max_retry_after: float = 30.0
    rate_limited_attempts: int = 6  # 429s are expected under load on Cloudant: allow more

    def delays(self) -> Iterator[float]:
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay
            delay = min(delay * 2, self.max_delay)

    def retry_after(self, header: str | None, attempt: int) -> float:
        """Seconds to wait before retrying a 429: what `Retry-After` says (seconds or an HTTP
        date), else an exponential backoff; never more than `max_retry_after`."""
        wait: float | None = None
        if header:
            header = header.strip()
            try:
                wait = float(header)
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(header)
                    wait = when.timestamp() - time.time()
                except (TypeError, ValueError, IndexError):
                    wait = None
        if wait is None:
            wait = self.first_delay * (2 ** attempt)
        return max(0.0, min(wait, self.max_retry_after))


class Rev(str):
    """A revision id as a write returned it; `accepted` is True when the server answered 202
    (a cluster stored it on fewer nodes than the write quorum: it happened, but it proves
    nothing about winning: another writer's revision of the same id may be stored too)."""
    accepted: bool = False

    def __new__(cls, value: str, accepted: bool = False) -> "Rev":
        rev = super().__new__(cls, value)
        rev.accepted = accepted
        return rev


class IamAuth(requests.auth.AuthBase):
    """IBM Cloud IAM for Cloudant: the API key is exchanged for a bearer token at `token_url`
    (POST, form-encoded, `grant_type=urn:ibm:params:oauth:grant-type:apikey`), which is sent as
    `Authorization: Bearer` and fetched again when 80 % of its lifetime has passed (or after
    a 401). Thread-safe: one exchange at a time, shared by every thread of the process."""

    GRANT = "urn:ibm:params:oauth:grant-type:apikey"

    def __init__(self, api_key: str, token_url: str = IAM_TOKEN_URL,
                 timeout: tuple[float, float] = (5.0, 30.0), clock: Callable[[], float] = time.time):
        self.api_key, self.token_url, self.timeout, self.clock = api_key, token_url, timeout, clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._session.trust_env = False
        self.exchanges = 0

    def token(self) -> str:
        """A token that is still well within its lifetime, exchanging the key when needed."""
        with self._lock:
            if self._token is None or self.clock() >= self._refresh_at:
                self._exchange()
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        """Forget the token (after a 401): the next request exchanges the key again."""
        with self._lock:
            self._token = None

    def _exchange(self) -> None:
        try:
            response = self._session.post(
                self.token_url, data={"grant_type": self.GRANT, "apikey": self.api_key},
                headers={"Accept": "application/json"}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise Unavailable(None, "iam_unavailable", str(exc), "POST", self.token_url) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        finally:
            response.close()
        if response.status_code != 200 or not answer.get("access_token"):
            status = response.status_code
            cls = Unauthorized if status in (400, 401, 403) else Unavailable
            raise cls(status, "iam_token_refused", str(answer.get("errorMessage", "")), "POST",
                      self.token_url)
        now = self.clock()
        # `expires_in` (seconds) rather than `expiration` (a time): immune to our clock's skew
        if answer.get("expires_in"):
            lifetime = float(answer["expires_in"])
        else:
            lifetime = max(0.0, float(answer.get("expiration") or now + 3600) - now)
        self._token = str(answer["access_token"])
        self._refresh_at = now + 0.8 * lifetime
        self.exchanges += 1

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request


def _is_read_timeout(exc: BaseException) -> bool:
    """A read timeout, by type: requests raises ReadTimeout while waiting for the headers, and a
    ConnectionError wrapping urllib3's ReadTimeoutError while reading the body."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(
        cause, urllib3.exceptions.ReadTimeoutError)


_LANE: contextvars.ContextVar[str] = contextvars.ContextVar("fieldsync_couch_lane", default="")


def _waiting_pools(wait_s: float) -> dict:
    """urllib3 pool classes whose wait for a free connection ends after `wait_s`."""
    def waiting(base: type) -> type:
        def _get_conn(self, timeout=None):
            return base._get_conn(self, wait_s if timeout is None else timeout)
        return type(f"Waiting{base.__name__}", (base,), {"_get_conn": _get_conn})
    return {"http": waiting(urllib3.HTTPConnectionPool), "https": waiting(urllib3.HTTPSConnectionPool)}


@dataclass
class ChangesPage:
    """One answer of the changes feed: the results and the opaque sequence to resume from."""
    results: list[dict]
    last_seq: str
    timed_out: bool = False
    pending: int | None = None  # CouchDB 3.x: changes left after this page (pouchdb-server: None)


@dataclass
class CouchServer:
    """A CouchDB (or compatible) server reached with admin credentials (basic auth), or with an
    IBM Cloud IAM API key (`iam_api_key`, token exchange at `iam_token_url`) for Cloudant."""
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: tuple[float, float] = (5.0, 30.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    iam_api_key: str | None = field(default=None, repr=False)
    iam_token_url: str = IAM_TOKEN_URL
    # what this process saw: `accepted` (202 writes), `rate_limited` (429s), `retried` (any retry)
    counters: Counter = field(default_factory=Counter, repr=False)
    # connections kept open for reuse; more at once are opened and closed after use, unless
    # `pool_block`: then no more than `pool_size` at once, a request waits up to `pool_wait_s`
    # for a free one and gets Busy after that
    pool_size: int = 64
    pool_block: bool = False
    pool_wait_s: float = 10.0
    # of `pool_size`, connections kept for requests made inside `uploading()` (a device's push
    # and what it sets off): they never queue behind reads; 0: one pool for everything
    upload_pool_size: int = 0

    def __post_init__(self) -> None:
        clean, user, password = split_credentials(self.url)
        self.url = clean
        if user is not None and self.username is None:
            self.username, self.password = user, password
        self.iam: IamAuth | None = None
        if self.iam_api_key:
            self.iam = IamAuth(self.iam_api_key, self.iam_token_url, self.timeout)
            self.session.auth = self.iam
        elif self.username:
            self.session.auth = (self.username, self.password or "")
        # no proxy or netrc lookups from the environment on every request: CouchDB is reached
        # directly (FIELDSYNC_COUCHDB_URL), and the lookups cost measurable CPU per request
        self.session.trust_env = False
        uploads = min(max(0, self.upload_pool_size), self.pool_size - 1)
        adapter = self._pool(self.pool_size - uploads)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._adapter = adapter
        self._upload_adapter = self._pool(uploads) if uploads else adapter
        self._basic = (requests.auth._basic_auth_str(self.username, self.password or "")
                       if self.username and self.iam is None else None)
        self._counter_lock = threading.Lock()

    def _pool(self, size: int) -> requests.adapters.HTTPAdapter:
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=size,
                                                pool_block=self.pool_block)
        if self.pool_block:  # requests passes no pool timeout to urllib3: its pools wait for ever
            adapter.poolmanager.pool_classes_by_scheme = _waiting_pools(self.pool_wait_s)
        return adapter

    @staticmethod
    @contextmanager
    def uploading() -> Iterator[None]:
        """Requests made inside (by this thread or greenlet) use the connections kept for
        uploads: a cadre's push, and the alert it raises, never wait behind a crowd of devices
        reading (with one bounded pool, loaded pushes took 3.4x their time alone)."""
        token = _LANE.set("upload")
        try:
            yield
        finally:
            _LANE.reset(token)

    def with_own_pool(self, pool_size: int) -> "CouchServer":
        """The same server and credentials over a connection pool of its own: for requests
        held open for long (feeds), which would otherwise take the shared pool's connections."""
        other = CouchServer(self.url, self.username, self.password, self.timeout, self.retry,
                            iam_api_key=self.iam_api_key, iam_token_url=self.iam_token_url,
                            counters=self.counters, pool_size=pool_size)
        other._counter_lock = self._counter_lock  # one set of counters, one lock
        return other

    def count(self, name: str) -> None:
        """Add one to a counter (thread-safe)."""
        with self._counter_lock:
            self.counters[name] += 1

    # --- raw requests -------------------------------------------------------------------
    def url_for(self, path: str, params: dict | None = None) -> str:
        """The exact URL a request is sent to; raises BadPath for a path the client refuses.

        `path` may carry its own query (`db/_changes?since=...`, as the gateway forwards it)."""
        path, _, query = path.lstrip("/").partition("?")
        check_path(path)
        encoded = urlencode(_json_params(params), quote_via=quote, safe="")
        query = "&".join(part for part in (query, encoded) if part)
        return f"{self.url}/{path}" + (f"?{query}" if query else "")

    def _send(self, method: str, url: str, body: Any, headers: dict, stream: bool,
              timeout: tuple[float, float]) -> requests.Response:
        """Send exactly `url`, straight to the connection pool's adapter.

        requests' URL preparation removes dot segments and decodes percent-encoded unreserved
        characters, so the request is prepared here and never by requests: the URL as built,
        the session's headers under ours, the body's length (or chunked for an iterable), the
        credentials. Session.send is skipped too (no redirects are followed and no cookies
        kept: CouchDB is reached with basic auth or an IAM token); together they were about a
        tenth of the web process's time under the held-connections bench (docs/performance.md)."""
        check_path(urlsplit(url).path)  # what is checked is what is sent
        prepared = requests.PreparedRequest()
        prepared.method, prepared.url, prepared.hooks = method, url, {"response": []}
        merged = requests.structures.CaseInsensitiveDict(self.session.headers)
        merged.update(headers)
        if isinstance(body, str):
            body = body.encode()
        if isinstance(body, bytes):
            merged["Content-Length"] = str(len(body))
        elif body is not None:  # an iterable of bytes: sent chunked
            merged["Transfer-Encoding"] = "chunked"
        elif method not in ("GET", "HEAD"):
            merged["Content-Length"] = "0"
        prepared.headers, prepared.body = merged, body
        if self._basic is not None:
            merged["Authorization"] = self._basic
        elif self.iam is not None:
            prepared = self.iam(prepared)
        adapter = self._upload_adapter if _LANE.get() == "upload" else self._adapter
        response = adapter.send(prepared, stream=stream, timeout=timeout, verify=True, cert=None,
                                proxies={})
        if not stream:
            response.content  # noqa: B018 - read it all: the connection goes back to the pool
        return response

    def request(self, method: str, path: str, *, params: dict | None = None, json_body: Any = None,
                data: bytes | Iterable[bytes] | None = None, headers: dict | None = None,
                stream: bool = False, timeout: tuple[float, float] | None = None,
                idempotent: bool | None = None, raise_for_status: bool = True
                ) -> requests.Response:
        """Send one request under the retry policy (RetryPolicy); raise a typed error for a
        non-2xx answer unless `raise_for_status` is False."""
        url = self.url_for(path, params)
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        body = data
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
            hdrs.setdefault("Content-Type", "application/json")
        replayable = body is None or isinstance(body, (bytes, str))
        delays = self.retry.delays() if idempotent and replayable else iter(())
        rate_limited = 0
        retried = False
        while True:
            try:
                response = self._send(method, url, body, hdrs, stream, timeout or self.timeout)
            except urllib3.exceptions.EmptyPoolError as exc:
                self.count("busy")
                raise Busy(None, "couchdb_busy", f"no free connection in {self.pool_wait_s} s",
                           method, path) from exc
            except requests.RequestException as exc:  # refused, reset, timed out, cut short
                delay = next(delays, None)
                if delay is None:
                    cls = Timeout if _is_read_timeout(exc) else Unavailable
                    raise cls(None, "timeout" if cls is Timeout else "unavailable", str(exc),
                              method, path) from exc
                log.warning("couchdb %s %s failed (%s); retrying in %.1fs", method, path,
                            exc.__class__.__name__, delay)
                retried = True
                self.count("retried")
                time.sleep(delay)
                continue
            status = response.status_code
            if status == TOO_MANY_REQUESTS and replayable \
                    and rate_limited < self.retry.rate_limited_attempts - 1:
                wait = self.retry.retry_after(response.headers.get("Retry-After"), rate_limited)
                rate_limited += 1
                response.close()
                log.warning("couchdb %s %s: 429 too many requests; retrying in %.1fs", method,
                            path, wait)
                self.count("rate_limited")
                self.count("retried")
                time.sleep(wait)
                continue
            if status in RETRY_STATUSES:
                delay = next(delays, None)
                if delay is not None:
                    response.close()
                    log.warning("couchdb %s %s answered %s; retrying in %.1fs", method, path,
                                status, delay)
                    retried = True
                    self.count("retried")
                    time.sleep(delay)
                    continue
            if status == 401 and self.iam is not None:
                self.iam.invalidate()  # expired early or revoked: the next request asks anew
            if status == 202 and method in WRITE_METHODS:
                self.count("accepted")
            if raise_for_status and status >= 400:
                try:
                    payload = response.json()
                except ValueError:
                    payload = None
                response.close()
                error = error_for(status, payload, method, path)
                error.retried = retried
                raise error
            return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request asking for JSON (`Accept: application/json`) and decode the answer."""
        return self.json_answer(method, path, **kwargs)[0]

    def json_answer(self, method: str, path: str, *, headers: dict | None = None,
                    **kwargs: Any) -> tuple[Any, int]:
        """Like json(), with the status code (201, or 202 when a cluster accepted a write)."""
        response = self.request(method, path, headers={**JSON_HEADERS, **(headers or {})},
                                **kwargs)
        try:
            return response.json(), response.status_code
        except ValueError as exc:  # multipart or HTML where JSON was asked for
            raise CouchError(response.status_code, "not_json",
                             f"{response.headers.get('Content-Type')}: {exc}", method, path) from exc
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

    def with_own_connection(self) -> "Database":
        """The same database over a connection of its own, for a feed held open for long: on a
        bounded shared pool it would take a connection from every other request for minutes."""
        return Database(self.server.with_own_pool(1), self.name)

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

    def put(self, doc: dict) -> Rev:
        """Create or update a document (its `_rev` decides which); sets and returns the new rev
        (`rev.accepted` when a cluster answered 202: stored, but not proven the winner)."""
        answer, status = self.server.json_answer("PUT", self._p(doc_path(doc["_id"])),
                                                 json_body=doc)
        rev = Rev(answer["rev"], accepted=status == 202)
        doc["_rev"] = rev
        return rev

    def create_doc(self, doc: dict) -> bool:
        """Write a document with a deterministic id; False when it already exists (409 = done).

        A 409 that answers a retry may be our own first attempt, which landed: with a
        deterministic id that is the same outcome ("it exists"), so False is still right."""
        try:
            self.put(doc)
            return True
        except Conflict:
            return False

    def update(self, doc_id: str, change: Callable[[dict | None], dict | None], *,
               attempts: int = 8, **params: Any) -> dict | None:
        """Read, change and write one document, re-reading and re-applying on 409.

        `change` gets the current document (None when it does not exist) and returns the
        document to write, or None for "nothing to write" (then the current document, or None,
        is returned). It may run more than once, so it must decide from what it is given: a
        409 after a lost answer re-reads our own write, and `change` then finds nothing to do.
        Returns the stored document (its `_rev` a Rev, `accepted` on a cluster's 202); raises
        Conflict when it kept changing for `attempts` rounds."""
        for _ in range(attempts):
            current = self.get_or_none(doc_id, **params)
            wanted = change(None if current is None else json.loads(json.dumps(current)))
            if wanted is None:
                return current
            wanted["_id"] = doc_id
            if current is not None:
                wanted["_rev"] = current["_rev"]
            else:
                wanted.pop("_rev", None)
            try:
                self.put(wanted)
                return wanted
            except Conflict:
                log.info("%s/%s changed while updating; reading again", self.name, doc_id)
        raise Conflict(409, "conflict", f"{doc_id} kept changing", "PUT", self._p(doc_path(doc_id)))

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
        # new_edits=true is retried only on 429 (refused before anything was written); a
        # per-document 409 then means what it always means: that id exists (deterministic ids)
        results, status = self.server.json_answer("POST", self._p("_bulk_docs"), json_body=body,
                                                  idempotent=not new_edits)
        if status == 202:  # a cluster below its write quorum for some documents
            for row in results:
                if isinstance(row, dict) and "rev" in row:
                    row["accepted"] = True
        return results

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

    def bulk_get(self, refs: list[tuple[str, str | None]], **params: Any) -> dict:
        """`_bulk_get` read per the spec: {(id, rev): document, or None when that revision is
        missing or refused}. Answers are matched by id and rev, never by position (pouchdb-server
        reorders duplicates and answers `{}` for missing ones; CouchDB answers `error` rows)."""
        body = {"docs": [{"id": doc_id, **({"rev": rev} if rev else {})} for doc_id, rev in refs]}
        answer = self.server.json("POST", self._p("_bulk_get"), params=params, json_body=body,
                                  idempotent=True)
        found: dict = {ref: None for ref in refs}
        for result in answer.get("results", []):
            for entry in result.get("docs", []):
                doc = entry.get("ok") if isinstance(entry, dict) else None
                if isinstance(doc, dict) and doc.get("_id"):
                    key = (doc["_id"], doc.get("_rev"))
                    found[key if key in found else (doc["_id"], None)] = doc
        return found

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
        except Timeout:
            if longpoll:
                return ChangesPage([], since, timed_out=True)
            raise
        return ChangesPage(answer.get("results", []), str(answer.get("last_seq", since)),
                           pending=answer.get("pending"))

    def pending(self, since: str) -> int | None:
        """How many changes there are after `since` (an opaque sequence this database's feed
        returned): 0 when none. CouchDB 3.x says so in `pending`; a server without it
        (pouchdb-server) tells only none (0) or some (None)."""
        page = self.changes(since=since, limit=1)
        if not page.results:
            return 0
        return None if page.pending is None else len(page.results) + int(page.pending)
