"""Finding 9 of issue 11: security headers on every page and API answer, the upstream server's
identity headers gone from /sync answers, attachments served as photos only (an HTML "photo"
with a script refused at write; one stored past the gateway served as an opaque download)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import requests

VILLAGE = "441226101201"
PASSWORD = "device-pass-1"
CADRE = ("chen.zq", PASSWORD)
EXAMPLES = Path(__file__).resolve().parents[2] / "models" / "examples"
SCRIPT_PAGE = b"<html><body><script>fetch('/api/v1/devices')</script></body></html>"
POLICY_PARTS = ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
                "frame-ancestors 'none'", "form-action 'self'", "img-src 'self' data: blob:",
                "connect-src 'self'", "worker-src 'self'", "manifest-src 'self'"]
PAGES = ["/officials", "/officials?lang=en", "/officials/review", "/officials/households",
         "/reports", "/assets/officials.js", "/assets/officials.css", "/api/openapi.json",
         "/healthz", "/sync/", "/no-such-page"]
API_ANSWERS = [("GET", "/api/v1/devices", CADRE), ("GET", "/api/v1/devices", None),
               ("GET", "/api/v1/alerts", ("liang.lj", PASSWORD)),
               ("POST", "/api/v1/login", None), ("GET", f"/sync/{VILLAGE}", CADRE),
               ("GET", f"/sync/{VILLAGE}/_changes?limit=1", CADRE),
               ("GET", f"/sync/{VILLAGE}/_all_docs?limit=1", CADRE),
               ("GET", f"/sync/{VILLAGE}/visit:none", CADRE),
               ("GET", "/sync/441226101202", CADRE)]


def visit(doc_id: str, attachments: dict) -> dict:
    doc = json.loads((EXAMPLES / "verification_visit.json").read_text(encoding="utf-8"))
    doc.update(_id=doc_id, village_code=VILLAGE, cadre="chen.zq", _attachments=attachments)
    doc["photos"] = [{"attachment": name, "subject": "house", "caption": None}
                     for name in attachments]
    return doc


def inline(data: bytes, content_type: str | None) -> dict:
    out = {"data": base64.b64encode(data).decode()}
    if content_type is not None:
        out["content_type"] = content_type
    return out


@pytest.fixture
def village(provisioned):
    provisioned.directory.reset_password("liang.lj", PASSWORD)
    db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    db.create()
    return db


def assert_secure(response: requests.Response, what: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    for part in POLICY_PARTS:
        assert part in policy, (what, part, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (what, policy)
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") in ("no-referrer", "same-origin"), what
    assert "X-Powered-By" not in headers, (what, headers)
    assert not [k for k in headers if k.lower().startswith("x-couch")], (what, headers)
    # the web server's own name is the deployment's (gunicorn in production); the database's never
    assert not any(name in headers.get("Server", "").lower()
                   for name in ("couchdb", "express", "pouchdb")), (what, headers)


def test_headers_on_pages_and_api_answers(village, live_server):
    for path in PAGES:
        assert_secure(requests.get(live_server + path, timeout=10), path)
    for method, path, auth in API_ANSWERS:
        got = requests.request(method, live_server + path, auth=auth, timeout=10,
                               json={} if method == "POST" else None)
        assert_secure(got, f"{method} {path} -> {got.status_code}")


def test_upstream_identity_headers_dropped(village, live_server, couch_admin):
    # the server behind does send them (else this test would prove nothing)
    direct = requests.get(f"{couch_admin.url}/{village.name}",
                          auth=(couch_admin.username, couch_admin.password), timeout=10)
    upstream = {k.lower() for k in direct.headers}
    assert upstream & {"x-powered-by", "server"} or any(k.startswith("x-couch") for k in upstream)
    village.put({"_id": "visit:direct", "type": "x"})
    for path in ("", "/_changes", "/visit:direct", "/_local/nothing"):
        got = requests.get(f"{live_server}/sync/{VILLAGE}{path}", auth=CADRE, timeout=10)
        assert_secure(got, path)
        assert "express" not in got.headers.get("Server", "").lower()
        assert "couchdb" not in got.headers.get("Server", "").lower()


def test_non_photo_attachments_refused_at_write(village, live_server):
    tries = {"page.html": ("text/html", SCRIPT_PAGE), "x.svg": ("image/svg+xml", b"<svg/>"),
             "x.js": ("application/javascript", b"alert(1)"), "none.bin": (None, b"\xff\xd8\xff"),
             "x.json": ("application/json", b"{}"), "x.xml": ("text/xml", b"<x/>")}
    docs = [visit(f"visit:00000000-0000-4000-8000-00000000000{n}", {name: inline(data, kind)})
            for n, (name, (kind, data)) in enumerate(tries.items())]
    docs.append(visit("visit:00000000-0000-4000-8000-000000000009",
                      {"house.jpg": inline(b"\xff\xd8\xff\xe0fake-jpeg", "image/jpeg")}))
    got = requests.post(f"{live_server}/sync/{VILLAGE}/_bulk_docs", json={"docs": docs},
                        auth=CADRE, timeout=30)
    assert got.status_code == 201, got.text
    results = {row["id"]: row for row in got.json()}
    for doc in docs[:-1]:
        row = results[doc["_id"]]
        assert row["error"] == "forbidden" and row["fieldsync"]["code"] == "attachment_type", row
        assert village.get_or_none(doc["_id"]) is None
    assert "error" not in results[docs[-1]["_id"]], results[docs[-1]["_id"]]
    # a single PUT is refused the same way
    single = visit("visit:00000000-0000-4000-8000-000000000010",
                   {"page.html": inline(SCRIPT_PAGE, "text/html; charset=utf-8")})
    got = requests.put(f"{live_server}/sync/{VILLAGE}/{single['_id']}", json=single, auth=CADRE,
                       timeout=30)
    assert got.status_code == 415 and got.json()["fieldsync"]["code"] == "attachment_type"


def test_attachments_served_as_photos_or_downloads(village, live_server):
    # written past the gateway (or before the rule): an HTML page with a script, and a photo
    village.put({"_id": "visit:old", "type": "verification_visit", "village_code": VILLAGE,
                 "_attachments": {"page.html": inline(SCRIPT_PAGE, "text/html"),
                                  "house.jpg": inline(b"\xff\xd8\xff\xe0jpeg", "image/jpeg"),
                                  "x.svg": inline(b"<svg onload='alert(1)'/>", "image/svg+xml")}})
    for name in ("page.html", "x.svg"):
        got = requests.get(f"{live_server}/sync/{VILLAGE}/visit:old/{name}", auth=CADRE,
                           timeout=10)
        assert got.status_code == 200 and got.content == (SCRIPT_PAGE if name == "page.html"
                                                          else b"<svg onload='alert(1)'/>")
        assert got.headers["Content-Type"] == "application/octet-stream", got.headers
        assert got.headers["Content-Disposition"].startswith("attachment;"), got.headers
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    photo = requests.get(f"{live_server}/sync/{VILLAGE}/visit:old/house.jpg", auth=CADRE,
                         timeout=10)
    assert photo.headers["Content-Type"] == "image/jpeg"
    assert photo.headers["Content-Disposition"].startswith("inline;")
    assert_secure(photo, "photo")
