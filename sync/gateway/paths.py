"""The closed grammar of sync paths: what a device may ask for, and the one upstream path it maps to.

A request target `/sync/<village>/<rest>?<query>` is parsed from the raw bytes the HTTP server
received, never from a decoded or normalised copy, and refused (400) unless every part is in the
grammar: the village is 12 digits; each segment is non-empty, made of RFC 3986 path characters,
decodes once to printable ASCII without `/ \\ ? # %` and is not a dot segment; the shape is one of
the replication endpoints below, with ids and attachment names by the device contract
(docs/device-contract.md). The upstream path is then built from those parts alone, each one
percent-encoded in full, and the query from the parameters allowed for that endpoint, re-encoded.
docs/api.md lists the endpoints, parameters and error codes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes, urlencode

from models.doc_ids import PREFIXES

VILLAGE_RE = re.compile(r"[0-9]{12}")  # not \d: it takes "４４１…" too
# RFC 3986 pchar: unreserved / pct-encoded / sub-delims / ":" / "@"
RAW_SEGMENT_RE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+")
SEGMENT_RE = re.compile(r"[\x21-\x7e]+")
FORBIDDEN_IN_SEGMENT = frozenset("/\\?#%")
DOC_ID_RE = re.compile(r"(?:%s):[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}"
                       % "|".join(re.escape(p) for p in sorted(PREFIXES.values())))
LOCAL_ID_RE = re.compile(r"[A-Za-z0-9_.=+-]{1,200}")   # PouchDB: base64 md5, / -> . and + -> _
ATTACHMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
ENCODED_SEGMENT_RE = re.compile(r"(?:[A-Za-z0-9_.~-]|%[0-9A-F]{2})+")  # what quote(safe="") makes
ABSOLUTE_FORM_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
MAX_TARGET = 8192

READ, WRITE = frozenset({"GET", "HEAD"}), frozenset({"GET", "HEAD", "PUT"})
ENDPOINT_METHODS = {"_changes": frozenset({"GET", "POST"}), "_all_docs": frozenset({"GET", "POST"}),
                    "_revs_diff": frozenset({"POST"}), "_bulk_get": frozenset({"POST"}),
                    "_bulk_docs": frozenset({"POST"})}
KIND_METHODS = {"database": READ, "local": frozenset({"GET", "PUT", "DELETE"}), "doc": WRITE,
                "attachment": READ}

BOOL, INT, JSON, TEXT = "bool", "int", "json", "text"
REV_RE = re.compile(r"[0-9]{1,10}-[A-Za-z0-9]{1,64}")
# what PouchDB 9 (pouchdb-adapter-http) and the CouchDB 3.x replicator send, per endpoint
PARAMETERS: dict[str, dict[str, str]] = {
    "database": {},
    "_changes": {"since": TEXT, "limit": INT, "style": "style", "include_docs": BOOL,
                 "conflicts": BOOL, "descending": BOOL, "heartbeat": INT, "timeout": INT,
                 "feed": "feed", "filter": "filter", "doc_ids": JSON, "seq_interval": INT,
                 "attachments": BOOL, "att_encoding_info": BOOL, "return_docs": BOOL},
    "_all_docs": {"conflicts": BOOL, "descending": BOOL, "include_docs": BOOL, "attachments": BOOL,
                  "att_encoding_info": BOOL, "inclusive_end": BOOL, "update_seq": BOOL,
                  "limit": INT, "skip": INT, "key": JSON, "keys": JSON, "startkey": JSON,
                  "endkey": JSON, "start_key": JSON, "end_key": JSON},
    "_revs_diff": {},
    "_bulk_get": {"revs": BOOL, "attachments": BOOL, "latest": BOOL},
    "_bulk_docs": {},
    "doc:GET": {"rev": "rev", "revs": BOOL, "revs_info": BOOL, "open_revs": "open_revs",
                "latest": BOOL, "attachments": BOOL, "att_encoding_info": BOOL,
                "atts_since": JSON, "conflicts": BOOL, "deleted_conflicts": BOOL},
    "doc:PUT": {"new_edits": BOOL},  # the revision is the body's `_rev`, never `?rev=`
    "local": {"rev": TEXT},
    "attachment": {"rev": "rev"},
}
CHOICES = {"style": {"main_only", "all_docs"}, "feed": {"normal", "longpoll"},
           "filter": {"_doc_ids"}}
CHOICE_CODES = {"feed": "feed_not_supported", "filter": "filter_not_supported"}


class PathRefused(Exception):
    """A sync path or query outside the grammar: `status`, message `code` and its parameters."""

    def __init__(self, status: int, code: str, /, **params: object):
        super().__init__(code)
        self.status, self.code, self.params = status, code, params


@dataclass(frozen=True)
class Target:
    """A parsed sync target: a kind (database, endpoint, local, doc, attachment) and its parts."""
    kind: str
    endpoint: str = ""
    doc_id: str = ""
    attachment: str = ""

    @property
    def methods(self) -> frozenset[str]:
        return ENDPOINT_METHODS[self.endpoint] if self.kind == "endpoint" else KIND_METHODS[self.kind]

    @property
    def suffix(self) -> str:
        """The upstream path below the village database, every part encoded in full."""
        if self.kind == "endpoint":
            return self.endpoint
        if self.kind == "local":
            return "_local/" + quote(self.doc_id, safe="")
        if self.kind == "doc":
            return quote(self.doc_id, safe="")
        if self.kind == "attachment":
            return quote(self.doc_id, safe="") + "/" + quote(self.attachment, safe="")
        return ""

    def parameters(self, method: str) -> dict[str, str]:
        if self.kind == "endpoint":
            return PARAMETERS[self.endpoint]
        if self.kind == "doc":
            return PARAMETERS["doc:PUT" if method == "PUT" else "doc:GET"]
        return PARAMETERS[self.kind]


def _refuse(position: int) -> PathRefused:
    return PathRefused(400, "bad_sync_path", position=position)


def _plain(value: object) -> bool:
    """Printable ASCII, no separator, escape or fragment, and not a dot segment."""
    return (isinstance(value, str) and SEGMENT_RE.fullmatch(value) is not None
            and not FORBIDDEN_IN_SEGMENT.intersection(value) and value.strip(".") != "")


def segment_value(raw: str, position: int) -> str:
    """Decode one raw path segment (percent-escapes once, strict UTF-8) or refuse it."""
    if not RAW_SEGMENT_RE.fullmatch(raw):
        raise _refuse(position)
    try:
        value = unquote_to_bytes(raw).decode("utf-8")  # strict: overlong forms fail here
    except UnicodeDecodeError:
        raise _refuse(position) from None
    if not _plain(value):
        raise _refuse(position)
    return value


def split_target(raw_target: str | None, path_info: str, query_string: str = "",
                 script_name: str = "") -> tuple[str, list[str], str]:
    """(village, decoded segments after it, raw query) from the request target as received.

    `raw_target` is REQUEST_URI/RAW_URI (latin-1 text of the raw bytes, query included);
    PATH_INFO is what the server decoded. The two must agree: a rewritten one is refused.
    """
    decoded_path = script_name + path_info
    if raw_target is None:  # a server without the raw target: rebuild it from what it decoded
        raw_target = quote(decoded_path.encode("latin-1", "replace"), safe="/") + (
            "?" + query_string if query_string else "")
    if len(raw_target) > MAX_TARGET or not all("\x21" <= ch <= "\x7e" for ch in raw_target):
        raise _refuse(0)
    raw_target = ABSOLUTE_FORM_RE.sub("", raw_target, count=1)
    if "#" in raw_target or not raw_target.startswith("/"):
        raise _refuse(0)
    path, _, query = raw_target.partition("?")
    try:
        agrees = unquote_to_bytes(path) == decoded_path.encode("latin-1")
    except UnicodeEncodeError:
        agrees = False
    if not agrees:
        raise _refuse(0)
    if not path.startswith(script_name):  # a mount prefix (waitress url_prefix), sent as is
        raise _refuse(0)
    parts = path[len(script_name):].split("/")
    if len(parts) < 3 or parts[1] != "sync" or not VILLAGE_RE.fullmatch(parts[2]):
        raise _refuse(0)
    rest = parts[3:]
    if rest in ([], [""]):
        return parts[2], [], query
    return parts[2], [segment_value(raw, n) for n, raw in enumerate(rest, start=1)], query


def target_of(segments: list[str]) -> Target:
    """The target a list of decoded segments names, or PathRefused (400 bad id, 404 unknown)."""
    for position, value in enumerate(segments, start=1):  # callers other than the route too
        if not _plain(value):
            raise _refuse(position)
    if not segments:
        return Target("database")
    head, count = segments[0], len(segments)
    if head == "_local":
        if count != 2:
            raise _refuse(min(count, 3))
        if not LOCAL_ID_RE.fullmatch(segments[1]):
            raise PathRefused(400, "bad_doc_id")
        return Target("local", doc_id=segments[1])
    if head.startswith("_"):
        if head not in ENDPOINT_METHODS:
            raise PathRefused(404, "sync_endpoint_unknown", endpoint=head[:64])
        if count != 1:
            raise _refuse(2)
        return Target("endpoint", endpoint=head)
    if not DOC_ID_RE.fullmatch(head):
        raise PathRefused(400, "bad_doc_id")
    if count == 1:
        return Target("doc", doc_id=head)
    if count > 2:
        raise _refuse(3)
    if not ATTACHMENT_RE.fullmatch(segments[1]):
        raise PathRefused(400, "bad_attachment_name")
    return Target("attachment", doc_id=head, attachment=segments[1])


def _value_ok(kind: str, value: str) -> bool:
    if kind == BOOL:
        return value in ("true", "false")
    if kind == INT:
        return value.isascii() and value.isdigit() and len(value) <= 10
    if kind == "rev":
        return REV_RE.fullmatch(value) is not None
    if kind in (JSON, "open_revs"):
        if kind == "open_revs" and value == "all":
            return True
        try:
            json.loads(value)
        except ValueError:
            return False
        return True
    return kind == TEXT or value in CHOICES[kind]


def canonical_query(target: Target, method: str, query: str) -> list[tuple[str, str]]:
    """The query's parameters if every one is allowed for this target, each once; else refuse."""
    allowed = target.parameters(method)
    pairs: list[tuple[str, str]] = []
    for item in query.split("&") if query else []:
        name_raw, sep, value_raw = item.partition("=")
        try:
            name = unquote_to_bytes(name_raw.replace("+", " ")).decode("utf-8")
            value = unquote_to_bytes(value_raw.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            raise PathRefused(400, "bad_sync_param", param=name_raw[:64]) from None
        if name not in allowed:
            raise PathRefused(400, "sync_param_unknown", param=name[:64],
                              allowed=", ".join(sorted(allowed)) or "-")
        if not sep or any(existing == name for existing, _ in pairs) or len(value) > 4096 \
                or not all(" " <= ch != "\x7f" for ch in value):
            raise PathRefused(400, "bad_sync_param", param=name)
        if not _value_ok(allowed[name], value):
            code = CHOICE_CODES.get(allowed[name], "bad_sync_param")
            raise PathRefused(400, code, param=name, **{allowed[name]: value[:64]})
        pairs.append((name, value))
    return pairs


def encode_query(pairs: list[tuple[str, str]]) -> str:
    """A query string from parsed parameters, every name and value encoded in full."""
    return urlencode(pairs, quote_via=quote, safe="")


def check_suffix(suffix: str) -> None:
    """Refuse an upstream suffix that is not one this grammar builds (defence for callers that
    build their own, e.g. a document PUT from its `_id`)."""
    if suffix in ENDPOINT_METHODS or suffix == "":
        return
    segments = suffix.split("/")
    if segments[0] == "_local" and len(segments) == 2:
        segments = segments[1:]
    elif len(segments) > 2:
        raise _refuse(3)
    for position, raw in enumerate(segments, start=1):
        if not ENCODED_SEGMENT_RE.fullmatch(raw) or raw.strip(".") == "":
            raise _refuse(position)
        segment_value(raw, position)
