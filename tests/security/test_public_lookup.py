"""Attack pass on the villagers' lookup (POST /api/v1/public/mediation-requests/lookup): nobody
learns anything about a request that is not theirs, by guessing receipts, by trying phones, by
looking up a request a cadre filed, or with odd or oversized input."""
from __future__ import annotations

import json
import uuid

import pytest

from models.receipts import new_receipt, request_id_of, shown
from support.alerting import VILLAGE, mediation_request

LOOKUP = "/api/v1/public/mediation-requests/lookup"
FORM = {"village_code": VILLAGE, "applicant": {"name": "何永明", "phone": "13926611234"},
        "category": "neighbourhood", "description": "宅基地边界争议", "urgency": "normal"}


@pytest.fixture
def town(inbox_only):
    return inbox_only


def from_ip(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def ask(client, receipt, phone, ip="10.0.0.1", **extra):
    return client.post(LOOKUP, json={"receipt": receipt, "phone": phone, **extra},
                       environ_base=from_ip(ip))


def comparable(answer) -> tuple:
    body = answer.get_json()
    return answer.status_code, json.dumps(body, sort_keys=True), sorted(
        (k, v) for k, v in answer.headers.items() if k not in ("X-Request-Id", "Date"))


def test_wrong_phone_is_answered_exactly_as_an_unknown_receipt(town, client):
    receipt = client.post("/api/v1/public/mediation-requests", json=FORM).get_json()["receipt"]
    someone_else = ask(client, receipt, "13800138000")
    unknown = ask(client, shown(new_receipt()), "13800138000")
    assert someone_else.status_code == 404
    assert comparable(someone_else) == comparable(unknown)
    assert ask(client, receipt, "13926611234").status_code == 200


def test_a_request_filed_by_a_cadre_cannot_be_looked_up(town, client):
    """Even one whose id happened to be derived from a receipt: only online filings answer."""
    receipt = new_receipt()
    doc = {**mediation_request(), "_id": request_id_of(receipt)}
    town.alerts.raiser.raise_alert(VILLAGE, doc, "1-x", "2026-01-01T00:00:00Z", "gateway")
    assert town.alerts.store.get(f"alert:{doc['_id']}")["channel"] == "cadre_device"
    assert ask(client, receipt, doc["applicant"]["phone"]).status_code == 404


def test_guessing_receipts_is_stopped_per_address(town, client):
    answers = [ask(client, shown(new_receipt()), "13926611234", ip="10.0.0.7").status_code
               for _ in range(31)]
    assert answers[:30] == [404] * 30 and answers[30] == 429
    limited = ask(client, shown(new_receipt()), "13926611234", ip="10.0.0.7")
    assert limited.get_json()["error"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0
    assert ask(client, shown(new_receipt()), "13926611234", ip="10.0.0.8").status_code == 404
    # malformed attempts count too: no free probing
    for _ in range(30):
        client.post(LOOKUP, data="x", content_type="application/json", environ_base=from_ip("10.0.0.9"))
    assert ask(client, shown(new_receipt()), "13926611234", ip="10.0.0.9").status_code == 429


def test_guessing_the_phone_of_one_receipt_is_stopped_from_any_address(town, client):
    receipt = client.post("/api/v1/public/mediation-requests", json=FORM).get_json()["receipt"]
    tries = [ask(client, receipt, f"1380013{n:04d}", ip=f"10.1.0.{n}").status_code for n in range(10)]
    assert tries == [404] * 10
    # the right phone from a fresh address is refused too, until the day has passed
    assert ask(client, receipt, "13926611234", ip="10.2.0.1").status_code == 429


@pytest.mark.parametrize("body", [
    {"receipt": "A" * 100_000, "phone": "13926611234"},
    {"receipt": ["7K3QX9M2PA"], "phone": "13926611234"},
    {"receipt": {"$gt": ""}, "phone": "13926611234"},
    {"receipt": 1234567890, "phone": 13926611234},
    {"receipt": None, "phone": None},
    {"receipt": "7K3QX\u00009M2PA", "phone": "13926611234"},
    {"receipt": "../../_all_docs", "phone": "13926611234"},
    {"receipt": "ＡＢＣＤＥ－ＦＧＨＪＫ", "phone": "1392661123４"},  # full width: a valid shape
    {"receipt": "7K3QX-9M2PA", "phone": "13926611234", "village_code": VILLAGE},
    {},
])
def test_odd_input_gets_a_documented_answer(town, client, body):
    answer = client.post(LOOKUP, json=body)
    assert answer.status_code in (404, 422), answer.get_data()[:300]
    assert answer.get_json()["error"] in ("receipt_not_found", "validation_failed")
    assert answer.get_json()["messages"]["zh"]


def test_not_json_and_too_large_bodies(town, client):
    assert client.post(LOOKUP, data="receipt=1", content_type="application/x-www-form-urlencoded"
                       ).get_json()["error"] == "bad_json"
    assert client.post(LOOKUP, data="[1,2]", content_type="application/json"
                       ).get_json()["error"] == "bad_json"
    huge = client.post(LOOKUP, data=b'{"receipt":"' + b"A" * (40 * 1024 * 1024) + b'"}',
                       content_type="application/json")
    assert huge.status_code == 413 and huge.get_json()["error"] == "payload_too_large"


def test_the_receipt_is_not_the_request_id(town, client):
    """Officials, webhooks and devices see request ids; none of them gives the receipt."""
    filed = client.post("/api/v1/public/mediation-requests", json=FORM).get_json()
    raw_id = filed["id"].split(":", 1)[1]
    assert filed["receipt"].replace("-", "") not in filed["id"].upper()
    assert ask(client, raw_id, "13926611234").get_json()["error"] == "validation_failed"
    assert uuid.UUID(raw_id).version == 5
