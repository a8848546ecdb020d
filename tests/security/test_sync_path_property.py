"""Property: whatever segments a request under `/sync/<village>/` carries, nothing the gateway sends
reaches CouchDB outside that village's database (issue 11, finding 1).

Checked where the bytes arrive upstream (a recording relay in front of the real server,
tests/support/upstream_recorder.py), never from the gateway's own decision: each recorded
request target must start with `/<village db>/` (or be the database itself), and its segments,
decoded as a server or a proxy in front of it might decode them, must hold no dot segment.
Two entry points: the real HTTP server with raw bytes on the socket, and the gateway core
called with already decoded segments (as the public filing API and the photo upload do).
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.couch.client import CouchError
from sync.directory.access import Principal
from sync.gateway.forwarding import GatewayError, SyncRequest
from support.upstream_recorder import escapes_database, raw_request, record_gateway_upstream

VILLAGE = "441226101201"
AUTH = ("chen.zq", "device-pass-1")
VISIT = "visit:fa1901d1-4642-4ee1-b070-08a6bfb5e577"
BODY = b'{"docs":[{"id":"visit:fa1901d1-4642-4ee1-b070-08a6bfb5e577"}],"keys":[]}'

upstream = pytest.fixture(record_gateway_upstream, name="upstream")

# pieces an attacker mixes: dots in every encoding, separators, controls, look-alikes, and the
# legitimate tokens they are glued to
ATOMS = [
    ".", "..", "%2E", "%2e", "%252E", "%25252e", "%C0%AE", "%E0%80%AE", "%C0%2E", "%EF%BC%8E",
    "\uff0e".encode().decode("latin-1"), "%E2%80%A4", "%E2%80%A5", "%EF%B9%92", "%E3%80%82",
    "/", "//", "%2F", "%252F", "\\", "%5C", "%00", "%09", "%0A", "%0D", "%7F", "%3F", "?", "%23",
    "%25", "%", ";", "+", "%20", "=", "_local", "_changes", "_bulk_docs", "_all_docs", "_revs_diff",
    "_bulk_get", "_all_dbs", "_config", "_session", "_security", "_design", "fieldsync_directory",
    VISIT, "photo-1.jpg", "Tq9U8nd.XZY2WXjNyV1zMw==", "a", "441226101202",
]
QUERIES = ["", "feed=continuous", "feed=eventsource", "feed=normal&feed=continuous", "since=0",
           "rev=1-abc", "style=all_docs&limit=1", "x=%2E%2E", "filter=_view"]

segment = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=4).map("".join)
raw_rest = st.lists(segment, min_size=1, max_size=5).map("/".join)
free_text = st.text(min_size=0, max_size=12)  # any code point at all: the core gets decoded text
decoded_segment = st.one_of(free_text, segment, st.sampled_from(ATOMS))
METHODS = st.sampled_from(["GET", "PUT", "DELETE", "POST", "HEAD"])
PROPERTY = settings(max_examples=250, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def confined(records, names) -> list[str]:
    database = names.village(VILLAGE)
    return [why for why in (escapes_database(record, database) for record in records) if why]


@PROPERTY
@given(method=METHODS, rest=raw_rest, query=st.sampled_from(QUERIES))
def test_raw_requests_never_reach_outside_the_village_database(provisioned, upstream, live_server,
                                                               names, method, rest, query):
    mark = upstream.mark()
    target = f"/sync/{VILLAGE}/{rest}" + (f"?{query}" if query else "")
    try:
        answer = raw_request(live_server, method, target, auth=AUTH,
                             body=BODY if method in ("PUT", "POST") else b"", timeout=10)
    except OSError:  # waitress may refuse or drop a request line it cannot parse: nothing sent
        answer = None
    assert confined(upstream.since(mark), names) == []
    assert answer is None or answer.status < 500, (target, answer.status, answer.body[:300])


@PROPERTY
@given(method=METHODS, segments=st.lists(decoded_segment, min_size=0, max_size=4),
       query=st.sampled_from(QUERIES))
def test_the_gateway_core_never_reaches_outside_the_village_database(provisioned, upstream, names,
                                                                     method, segments, query):
    mark = upstream.mark()
    request = SyncRequest(method=method, village=VILLAGE, segments=list(segments), query=query,
                          body=BODY if method in ("PUT", "POST") else b"",
                          content_type="application/json",
                          principal=Principal("chen.zq", "cadre", VILLAGE), request_id="property")
    try:
        answer = provisioned.gateway.handle(request)
        b"".join(answer.body)
        answer.close()
    except GatewayError:
        pass
    except CouchError as exc:  # an answer of the server itself is fine; a refusal by the client
        assert exc.status is not None, f"the client had to refuse {segments!r}: {exc}"
    assert confined(upstream.since(mark), names) == [], [quote(s) for s in segments]


def test_the_property_would_see_an_escape(upstream, names):
    """The check itself: requests outside the database, or with a dot segment, are caught."""
    from support.upstream_recorder import Recorded
    database = names.village(VILLAGE)
    assert confined([Recorded("GET", f"/{database}/_local/x")], names) == []
    for target in ("/_all_dbs", f"/{database}/../_config", f"/{database}/%2E%2E", f"/{database}x/",
                   f"/{database}/%252e%252E/_all_dbs", f"/{database}/_local/%2F..",
                   f"/{database}/\uff0e\uff0e"):
        assert confined([Recorded("GET", target)], names), target
