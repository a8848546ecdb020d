"""Finding 10 of issue 11: every kind of bad JSON, on a sample of API endpoints and on the sync
gateway, is a 400 `bad_json` (never a 500, never accepted): NaN / Infinity literals and numbers
too large for a double, a BOM and UTF-16/32 bodies, duplicate keys, deep nesting, huge
integers, lone surrogates, and a non-object where an object is expected."""
from __future__ import annotations

import base64

import pytest

VILLAGE = "441226101201"
PASSWORD = "device-pass-1"
DOC = '{"_id": "visit:0b6f3c2e-5d1a-4f7e-9c3b-2a1d4e5f6a7b", "type": "verification_visit"'


def body(kind: str, valid: str) -> bytes:
    """`valid` (a JSON object text ending in `}`) made bad in the way `kind` names."""
    inner, sep = valid[:-1].rstrip(), ", "  # every valid sample has at least one member
    forms = {
        "nan": inner + sep + '"score": NaN}',
        "infinity": inner + sep + '"score": Infinity}',
        "minus_infinity": inner + sep + '"score": -Infinity}',
        "float_overflow": inner + sep + '"score": 1e400}',
        "huge_int": inner + sep + '"score": ' + "9" * 5000 + "}",
        "deep": inner + sep + '"deep": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "nested_65": inner + sep + '"deep": ' + "[" * 65 + "]" * 65 + "}",
        "duplicate_key": inner + sep + '"' + valid.split('"')[1] + '": "other"}',  # first key again
        "surrogate": inner + sep + '"note": "\\ud800"}',
    }
    if kind in forms:
        return forms[kind].encode()
    if kind == "bom":
        return b"\xef\xbb\xbf" + valid.encode()
    if kind in ("utf16", "utf16le", "utf32"):
        return valid.encode({"utf16": "utf-16", "utf16le": "utf-16-le", "utf32": "utf-32"}[kind])
    if kind == "top_array":
        return ("[" + valid + "]").encode()
    if kind == "top_string":
        return b'"' + valid.replace('"', "'").encode() + b'"'
    raise AssertionError(kind)


KINDS = ["nan", "infinity", "minus_infinity", "float_overflow", "huge_int", "deep", "nested_65",
         "duplicate_key", "surrogate", "bom", "utf16", "utf16le", "utf32", "top_array",
         "top_string"]


def basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def accounts(provisioned):
    svc = provisioned
    svc.directory.reset_password("liang.lj", PASSWORD)
    svc.couch.database(svc.names.village(VILLAGE)).create()
    return svc


# (method, path, credentials, a valid object for that endpoint)
ENDPOINTS = [
    ("POST", "/api/v1/login", None,
     '{"username": "chen.zq", "password": "device-pass-1", "device_id": "dev-bad-json"}'),
    ("POST", "/api/v1/public/mediation-requests", None,
     '{"village_code": "441226101201", "category": "neighbour", "summary": "x"}'),
    ("PUT", "/api/v1/duty-rosters/441226101000", "liang.lj", '{"on_duty": ["huang.jh"]}'),
    ("POST", "/api/v1/alerts/alert:none/assign", "liang.lj", '{"mediator": "huang.jh"}'),
    ("POST", "/api/v1/review/tasks/review:none/decision", "liang.lj", '{"pick": 0}'),
    ("POST", f"/sync/{VILLAGE}/_bulk_docs", "chen.zq", '{"docs": [' + DOC + "}]}"),
    ("PUT", f"/sync/{VILLAGE}/visit:0b6f3c2e-5d1a-4f7e-9c3b-2a1d4e5f6a7b", "chen.zq", DOC + "}"),
]


@pytest.mark.parametrize("method,path,user,valid", ENDPOINTS,
                         ids=[f"{m} {p.split('/')[-1]}" for m, p, _, _ in ENDPOINTS])
def test_bad_json_is_400(accounts, client, method, path, user, valid):
    headers = {"Content-Type": "application/json"}
    if user:
        headers.update(basic(user, PASSWORD))
    wrong = {}
    for kind in KINDS:
        got = client.open(path, method=method, data=body(kind, valid), headers=headers)
        answer = got.get_json(silent=True) or {}
        if got.status_code != 400 or answer.get("error") != "bad_json":
            wrong[kind] = (got.status_code, answer.get("error"))
    assert not wrong, wrong
    # the valid form is not refused as bad JSON (the sample is a fair one)
    got = client.open(path, method=method, data=valid.encode(), headers=headers)
    answer = got.get_json(silent=True)
    assert not isinstance(answer, dict) or answer.get("error") != "bad_json", answer


def test_bad_json_inside_a_bulk_docs_document(accounts, client):
    """A document of a batch with NaN or a duplicate `_id` is not half-read: the whole request
    is refused (the device's JSON encoder produced it; nothing of it is stored)."""
    for member in ('"score": NaN', '"_id": "household:other"'):
        data = ('{"docs": [' + DOC + ", " + member + "}]}").encode()
        got = client.post(f"/sync/{VILLAGE}/_bulk_docs", data=data,
                          headers={"Content-Type": "application/json",
                                   **basic("chen.zq", PASSWORD)})
        assert got.status_code == 400 and got.get_json()["error"] == "bad_json", member
    village_db = accounts.couch.database(accounts.names.village(VILLAGE))
    assert village_db.get_or_none("visit:0b6f3c2e-5d1a-4f7e-9c3b-2a1d4e5f6a7b") is None
    assert village_db.get_or_none("household:other") is None
