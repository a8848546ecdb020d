"""What reaches CouchDB, seen from CouchDB's side: a recording pass-through in front of the server.

The service under test is pointed at `RecordingUpstream.url` instead of the test CouchDB. Every
request line is recorded exactly as it arrived on the socket (before any parsing), then the
request is relayed unchanged to the real server and the answer streamed back. Tests then assert
on the recorded targets, not on what the gateway believes it sent. `raw_request` is the other
half: an HTTP client that sends a request target byte for byte (requests/urllib3 would remove
dot segments and re-quote the path before it ever left the test).
"""
from __future__ import annotations

import base64
import http.client
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from sync.couch.client import CouchServer
from support.http_relay import relay_chunked

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length"}


@dataclass(frozen=True)
class Recorded:
    """One request as the upstream server received it."""
    method: str
    target: str   # the raw request target, percent-escapes and all

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_RecordingServer"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _relay(self) -> None:
        method, _, rest = self.requestline.partition(" ")
        target = rest.rsplit(" ", 1)[0]
        self.server.recorder.add(Recorded(method, target))
        body = self._request_body()
        upstream = http.client.HTTPConnection(self.server.recorder.host, self.server.recorder.port,
                                              timeout=120)
        try:
            upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    upstream.putheader(name, value)
            upstream.putheader("Content-Length", str(len(body)))
            upstream.putheader("Connection", "close")  # an answer without a length ends at close
            upstream.endheaders(body)
            answer = upstream.getresponse()
            self._answer(method, answer)
        except (OSError, http.client.HTTPException):
            self.close_connection = True
        finally:
            upstream.close()

    def _request_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, method: str, answer: http.client.HTTPResponse) -> None:
        self.send_response_only(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        no_body = method == "HEAD" or answer.status in (204, 304)
        if no_body:
            self.send_header("Content-Length", answer.getheader("Content-Length") or "0")
            self.end_headers()
            return
        self.send_header("Transfer-Encoding", "chunked")  # feeds stream: relay as they come
        self.end_headers()
        relay_chunked(answer, self.wfile)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_COPY = do_OPTIONS = do_PATCH = _relay


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, recorder: "RecordingUpstream"):
        super().__init__(("127.0.0.1", 0), _Relay)
        self.recorder = recorder


class RecordingUpstream:
    """A recording relay to `target_url` on a free loopback port (start(), stop(), records)."""

    def __init__(self, target_url: str):
        parts = urlsplit(target_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._records: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = _RecordingServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "RecordingUpstream":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, record: Recorded) -> None:
        with self._lock:
            self._records.append(record)

    def mark(self) -> int:
        """A position in the record; `since(mark)` lists what came after it."""
        with self._lock:
            return len(self._records)

    def since(self, mark: int = 0) -> list[Recorded]:
        with self._lock:
            return list(self._records[mark:])


def record_gateway_upstream(provisioned, couch_admin):
    """Fixture body (`upstream = pytest.fixture(record_gateway_upstream)`): the gateway's CouchDB
    client goes through a recorder and the rest of the service does not, so every recorded
    request is one the gateway sent on a device's behalf."""
    recorder = RecordingUpstream(couch_admin.url).start()
    provisioned.gateway.couch = CouchServer(recorder.url, couch_admin.username, couch_admin.password)
    yield recorder
    recorder.stop()


DOT_LIKE = {".", "\uff0e", "\u2024", "\ufe52", "\u3002", "\uff61"}


def decoded_segments(path: str, rounds: int = 4) -> list[str]:
    """The path's segments as a server (or a proxy in front of it) could decode them: each
    segment percent-decoded repeatedly, so `%252E` counts as a dot too."""
    segments = []
    for segment in path.split("/")[1:]:
        for _ in range(rounds):
            segment = unquote(segment, errors="replace")
        segments.append(segment)
    return segments


def escapes_database(record: Recorded, database: str) -> str | None:
    """Why a recorded request is not confined to `database` (None when it is)."""
    head = "/" + database
    if record.path != head and not record.path.startswith(head + "/"):
        return f"{record.method} {record.target} is outside /{database}/"
    for segment in decoded_segments(record.path):
        if segment and set(segment) <= DOT_LIKE:
            return f"{record.method} {record.target} holds a dot segment"
        if "/" in segment or "\\" in segment:
            return f"{record.method} {record.target} holds an encoded separator"
    return None


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        import json
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        """The fieldsync error code of a JSON error answer."""
        try:
            body = self.json()
        except ValueError:
            return None
        return body.get("error") if isinstance(body, dict) else None


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def raw_request(base_url: str, method: str, target: bytes | str, *, auth: tuple[str, str] | None,
                body: bytes = b"", content_type: str = "application/json",
                timeout: float = 15.0) -> RawAnswer:
    """Send one request with the target exactly as given (no normalising, no re-quoting)."""
    parts = urlsplit(base_url)
    raw_target = target.encode("latin-1") if isinstance(target, str) else target
    head = [b"%s %s HTTP/1.1" % (method.encode(), raw_target),
            b"Host: %s:%d" % (parts.hostname.encode(), parts.port),
            b"Connection: close", b"Accept: application/json", b"Accept-Language: en",
            b"Content-Length: %d" % len(body)]
    if body:
        head.append(b"Content-Type: " + content_type.encode())
    if auth:
        head.append(b"Authorization: " + basic(*auth).encode())
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
        answer = http.client.HTTPResponse(sock, method=method)
        answer.begin()
        data = answer.read()
        return RawAnswer(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data)
