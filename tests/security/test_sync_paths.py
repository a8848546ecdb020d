"""Path attacks on the sync gateway, against the real web server and the real CouchDB-compatible
server (issue 11, finding 1).

Every encoding of a dot segment, a separator, a control character or an empty segment is sent,
byte for byte, on every `/sync/<village>/...` endpoint shape with GET, PUT, DELETE and POST. Each
must be answered 400 before anything leaves for CouchDB. What the gateway sends upstream is
recorded on the upstream side (tests/support/upstream_recorder.py), not taken from the gateway,
and after the run the server is unchanged: the same databases, each with its `_security`.
"""
from __future__ import annotations

import json
import re

import pytest

from sync.couch.client import CouchServer
from support.upstream_recorder import escapes_database, raw_request, record_gateway_upstream

VILLAGE = "441226101201"   # chen.zq's village
OTHER = "441226101202"     # li.xy's village
AUTH = ("chen.zq", "device-pass-1")
VISIT = "visit:fa1901d1-4642-4ee1-b070-08a6bfb5e577"
CHECKPOINT = "Tq9U8nd.XZY2WXjNyV1zMw=="  # a PouchDB replication id: base64 with / -> . and + -> _
PATH_CODES = {"bad_sync_path", "bad_doc_id", "bad_attachment_name"}

# one segment, as sent on the wire, that must never be taken as a path step
DOT_FORMS = [
    "..", ".", "%2E%2E", "%2e%2e", "%2E.", ".%2E", "%2E", "%2e",
    "%252E%252E", "%252e", "%25252E%25252E",              # double and triple encoding
    "%C0%AE%C0%AE", "%C0%AE", "%C0%2E", "%E0%80%AE%E0%80%AE",  # overlong UTF-8
    "\uff0e\uff0e".encode().decode("latin-1"),          # full-width dots, raw UTF-8 bytes
    "%EF%BC%8E%EF%BC%8E", "%EF%BC%8E",                    # full-width dots, encoded
    "%E2%80%A4%E2%80%A4", "%E2%80%A5", "%EF%B9%92",       # one/two dot leader, small full stop
    "%E3%80%82", "%EF%BD%A1",                             # ideographic full stops
    "..%2F..", "%2E%2E%2F%2E%2E", "..%5C..", "%2E%2E%5C",  # with an encoded separator
]
OTHER_FORMS = [
    "..\\..", "a\\b", "%5C", "%00", "..%00", "%00..", "%09", "%0A", "%0D%0A", "%7F", "%1B",
    "%3F", "_changes%3Ffeed=continuous", "%23", "x%23y", "%25", "%", "%zz", "%E4%B8",
    "%FF", "%C3%28", "\u00e9".encode().decode("latin-1"),
]
FORMS = DOT_FORMS + OTHER_FORMS

# the endpoint shapes: {x} is the attack segment, {o} the other village's database name
SHAPES = {
    "database root": ["/sync/V/{x}", "/sync/V/{x}/", "/sync/V/{x}/_all_dbs",
                      "/sync/V/{x}/{x}/_config", "/sync/V/{x}/_session", "/sync/V/{x}/{x}"],
    "doc": [f"/sync/V/{{x}}/{VISIT}", f"/sync/V/{VISIT}{{x}}", f"/sync/V/{{x}}{VISIT}"],
    "_local": ["/sync/V/_local/{x}", "/sync/V/_local/{x}/{x}/_all_dbs", "/sync/V/_local/{x}/_security",
               "/sync/V/_local/{x}/{x}/{o}/_local/x", f"/sync/V/_local/{CHECKPOINT}{{x}}"],
    "attachment": [f"/sync/V/{VISIT}/{{x}}", f"/sync/V/{VISIT}/{{x}}/{{x}}/_all_dbs",
                   f"/sync/V/{VISIT}/{{x}}/_security", f"/sync/V/{VISIT}/photo-1.jpg{{x}}"],
    "_changes": ["/sync/V/{x}/_changes?feed=continuous", "/sync/V/_changes/{x}",
                 "/sync/V/{x}/{x}/{o}/_changes", "/sync/V/{x}/_changes?feed=eventsource"],
    "_bulk_docs": ["/sync/V/{x}/_bulk_docs", "/sync/V/{x}/{x}/{o}/_bulk_docs", "/sync/V/_bulk_docs/{x}"],
    "_all_docs": ["/sync/V/{x}/_all_docs", "/sync/V/{x}/{x}/{o}/_all_docs"],
    "_revs_diff": ["/sync/V/{x}/_revs_diff", "/sync/V/{x}/{x}/{o}/_revs_diff"],
    "_bulk_get": ["/sync/V/{x}/_bulk_get", "/sync/V/{x}/{x}/{o}/_bulk_get"],
    "village": ["/sync/{x}/_all_dbs", f"/sync/{VILLAGE}{{x}}/", f"/sync/{VILLAGE}%2F{{x}}%2F_all_dbs",
                "/sync/{x}{x}/{o}/"],
}
METHODS = ["GET", "PUT", "DELETE", "POST"]
STRUCTURE = [  # malformed without any dot: empty segments, separators, a fragment, absolute form
    "/sync/V//_all_dbs", "/sync/V/_local//x", "/sync/V//", "/sync/V/_changes//", "/sync//V/",
    f"/sync/V/{VISIT}//photo-1.jpg", "/sync/V/_changes#x", f"/sync/V/{VISIT}%2Fphoto-1.jpg",
    "/sync/V/_design/fieldsync", "/sync/V/_design%2Ffieldsync", "/sync/V/_local", "/sync/V/_local/",
    "/sync/V/%5F_all_dbs", "/sync/V/_all_dbs%00", "/sync/V/_changes%20",
]


upstream = pytest.fixture(record_gateway_upstream, name="upstream")


def server_state(couch: CouchServer) -> dict:
    return {name: couch.database(name).security() for name in couch.all_dbs()}


def target(template: str, form: str, names) -> str:
    return (template.replace("{x}", form).replace("{o}", names.village(OTHER))
            .replace("/V/", f"/{VILLAGE}/").replace("/V", f"/{VILLAGE}"))


def send(live_server: str, method: str, path: str) -> tuple[int, str | None]:
    body = b'{"docs":[],"keys":[]}' if method in ("PUT", "POST") else b""
    try:
        answer = raw_request(live_server, method, path, auth=AUTH, body=body, timeout=8)
    except OSError as exc:  # held open (a continuous feed got through) or cut off
        return -1, type(exc).__name__
    return answer.status, answer.code


def refused_as_bad_path(status: int, code: str | None) -> bool:
    # 400 with one of our codes; or 400 from waitress itself (no JSON) for what HTTP forbids
    return status == 400 and (code is None or code in PATH_CODES)


def glued(template: str) -> bool:
    """Whether the attack form is glued to a legitimate token (`photo-1.jpg` + `..`): then the
    result may be a legitimate name, which may be forwarded, but only inside the village."""
    return re.search(r"[^/}]\{x\}|\{x\}[^/?{]", template) is not None


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_encoding_of_a_dot_or_separator_is_refused(shape, provisioned, upstream, live_server,
                                                         couch_admin, names):
    before = server_state(couch_admin)
    village_db = names.village(VILLAGE)
    wrong = []
    for template in SHAPES[shape]:
        for form in FORMS:
            path = target(template, form, names)
            for method in METHODS:
                mark = upstream.mark()
                status, code = send(live_server, method, path)
                sent = upstream.since(mark)
                if refused_as_bad_path(status, code) and not sent:
                    continue
                escaped = [why for why in (escapes_database(r, village_db) for r in sent) if why]
                if not glued(template) or escaped or status in (-1, 500):
                    wrong.append(f"{method} {path!r} -> {status} {code}; upstream: {escaped or sent}")
    assert wrong == [], f"{len(wrong)} not refused, e.g.\n" + "\n".join(wrong[:40])
    assert server_state(couch_admin) == before


def test_malformed_structure_is_refused(provisioned, upstream, live_server, couch_admin, names):
    before = server_state(couch_admin)
    mark = upstream.mark()
    wrong = []
    for template in STRUCTURE:
        path = target(template, "", names)
        for method in METHODS:
            status, code = send(live_server, method, path)
            if status not in (400, 404, 405) or (code is not None and code not in
                                                  PATH_CODES | {"sync_endpoint_unknown",
                                                                "method_not_allowed"}):
                wrong.append(f"{method} {path!r} -> {status} {code}")
    assert wrong == [], "\n".join(wrong)
    assert upstream.since(mark) == []
    assert server_state(couch_admin) == before


def test_absolute_form_and_a_host_in_the_path_stay_in_the_village(provisioned, upstream, live_server):
    mark = upstream.mark()
    for path in (f"{live_server}/sync/{VILLAGE}/%2E%2E/_all_dbs",
                 f"{live_server}/sync/{VILLAGE}/{VISIT}/..%2F..%2F_all_dbs"):
        status, code = send(live_server, "GET", path)
        assert refused_as_bad_path(status, code), (path, status, code)
    # not a /sync path at all for the server (PATH_INFO starts with //): no route
    assert send(live_server, "GET", f"//evil.example/sync/{VILLAGE}/") == (404, "not_found")
    assert upstream.since(mark) == []
    status, _ = send(live_server, "GET", f"{live_server}/sync/{VILLAGE}/")  # absolute form: fine
    assert status == 200


FEED_ATTACKS = [
    "feed=continuous", "feed=eventsource", "feed=Continuous", "feed=continuous%00",
    "feed=normal&feed=continuous", "feed=continuous&feed=normal", "%66eed=continuous",
    "feed=longpoll&feed=continuous", "feed%00=continuous", "feed=continuous;feed=normal",
]
PARAM_ATTACKS = [  # (path after the village, query): parameters no device sends
    ("_changes", "filter=_view&view=fieldsync/x"), ("_changes", "filter=_design"),
    ("_changes", "filter=fieldsync/device"), ("_changes", "selector=%7B%7D"),
    ("_changes", "since=now&limit=x"), ("_changes", "limit=-1"), ("_changes", "heartbeat=a"),
    ("_changes", "include_docs=yes"), ("_changes", "style=weird"), ("_changes", "x=1"),
    ("", "x=1"), (f"{VISIT}", "new_edits=false"), (f"{VISIT}", "open_revs=%5Bbad"),
    ("_all_docs", "keys=%5Bnot-json"), ("_local/" + CHECKPOINT, "batch=ok"),
    (f"{VISIT}/photo-1.jpg", "rev=1-a&x=1"), ("_changes", "since=0&since=now"),
]


def test_feed_continuous_and_unknown_parameters_are_refused(provisioned, upstream, live_server):
    mark = upstream.mark()
    wrong = []
    cases = [("_changes", query) for query in FEED_ATTACKS] + PARAM_ATTACKS
    for rest, query in cases:
        for method in ("GET", "POST"):
            status, code = send(live_server, method, f"/sync/{VILLAGE}/{rest}?{query}")
            if status not in (400, 405):
                wrong.append(f"{method} {rest}?{query} -> {status} {code}")
    assert wrong == [], "\n".join(wrong)
    assert upstream.since(mark) == []


def test_what_devices_send_still_reaches_the_village_database(provisioned, upstream, live_server,
                                                              names):
    """The controls: each endpoint shape in the form PouchDB sends it reaches exactly its path."""
    db = "/" + names.village(VILLAGE)
    local = CHECKPOINT.replace("=", "%3D")
    expected = [  # (method, path sent, body, status, upstream target)
        ("GET", "/", b"", 200, db),
        ("GET", "", b"", 200, db),
        ("GET", f"/_local/{local}", b"", 404, f"{db}/_local/{local}"),
        ("PUT", f"/_local/{local}", b'{"session_id":"s","history":[]}', 201, f"{db}/_local/{local}"),
        ("GET", f"/{VISIT.replace(':', '%3A')}?revs=true&open_revs=all&latest=true", b"", 404,
         f"{db}/visit%3Afa1901d1-4642-4ee1-b070-08a6bfb5e577?revs=true&open_revs=all&latest=true"),
        ("GET", f"/{VISIT}/photo-1.jpg?rev=1-abc", b"", 404,
         f"{db}/visit%3Afa1901d1-4642-4ee1-b070-08a6bfb5e577/photo-1.jpg?rev=1-abc"),
        ("POST", "/_revs_diff", b"{}", 200, f"{db}/_revs_diff"),
        ("POST", "/_bulk_get?revs=true&latest=true", json.dumps({"docs": [{"id": VISIT}]}).encode(), 200,
         f"{db}/_bulk_get?revs=true&latest=true"),
        ("POST", "/_all_docs", b'{"keys":[]}', 200, f"{db}/_all_docs"),
        ("GET", "/_changes?style=all_docs&since=0&limit=1", b"", 200, None),
    ]
    for method, rest, body, status, upstream_target in expected:
        mark = upstream.mark()
        answer = raw_request(live_server, method, f"/sync/{VILLAGE}{rest}", auth=AUTH, body=body)
        assert answer.status == status, (method, rest, answer.status, answer.body[:300])
        sent = upstream.since(mark)
        assert sent and all(escapes_database(r, names.village(VILLAGE)) is None for r in sent), sent
        if upstream_target:
            assert sent[-1].target == upstream_target, (sent, upstream_target)
    changes = upstream.since(0)[-1].target
    assert changes.startswith(f"{db}/_changes?") and "filter=" in changes


def test_local_writes_only_ever_reach_the_village_local_document(provisioned, upstream, live_server,
                                                                  couch_admin, names):
    before = server_state(couch_admin)
    db = names.village(VILLAGE)
    mark = upstream.mark()
    for form in FORMS:
        for method in ("PUT", "DELETE"):
            raw_request(live_server, method, f"/sync/{VILLAGE}/_local/{form}", auth=AUTH,
                        body=b"{}" if method == "PUT" else b"", timeout=8)
    assert upstream.since(mark) == []
    put = raw_request(live_server, "PUT", f"/sync/{VILLAGE}/_local/{CHECKPOINT}", auth=AUTH,
                      body=json.dumps({"history": []}).encode())
    assert put.status == 201
    rev = put.json()["rev"]
    gone = raw_request(live_server, "DELETE", f"/sync/{VILLAGE}/_local/{CHECKPOINT}?rev={rev}",
                       auth=AUTH)
    assert gone.status == 200
    local = CHECKPOINT.replace("=", "%3D")
    assert [r.target.split("?")[0] for r in upstream.since(mark)] == [f"/{db}/_local/{local}"] * 2
    assert server_state(couch_admin) == before
