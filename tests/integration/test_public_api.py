"""The villagers' side of the API (群众端): the list of villages, filing with a receipt number,
following the request by receipt and phone as the town acts on it."""
from __future__ import annotations

import base64

import pytest

from models.doc_ids import alert_id
from models.receipts import normalise_receipt, request_id_of
from support.alerting import TOWN, VILLAGE

FORM = {"village_code": VILLAGE, "applicant": {"name": "何永明", "phone": "139 2661 1234"},
        "other_parties": [{"name": "李四", "phone": "13800138000"}],
        "category": "land_forest", "description": "林地边界争议，对方砍了桉树", "urgency": "urgent"}
LOOKUP = "/api/v1/public/mediation-requests/lookup"


def official(username: str = "huang.jh") -> dict:
    token = base64.b64encode(f"{username}:official-pass-1".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def town(inbox_only):
    return inbox_only


def file(client, **changes) -> dict:
    answer = client.post("/api/v1/public/mediation-requests", json={**FORM, **changes})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_villages_are_listed_by_town_with_names_only(provisioned, client):
    answer = client.get("/api/v1/public/villages")
    assert answer.status_code == 200 and "public" in answer.headers["Cache-Control"]
    towns = answer.get_json()["towns"]
    mine = next(t for t in towns if t["code"] == TOWN)
    assert mine["name"] == "新圩镇" and mine["county_name"] == "德庆县"
    assert {"code": VILLAGE, "name": "新圩村"} in mine["villages"]
    assert all(set(v) == {"code", "name"} for t in towns for v in t["villages"])
    assert all(set(t) == {"code", "name", "county_name", "villages"} for t in towns)
    every = [v["code"] for t in towns for v in t["villages"]]
    assert sorted(every) == provisioned.directory.villages()


def test_filing_gives_a_receipt_that_names_the_request(town, client):
    filed = file(client)
    receipt = normalise_receipt(filed["receipt"])
    assert receipt and len(filed["receipt"]) == 11 and filed["receipt"][5] == "-"
    assert filed["id"] == request_id_of(receipt)
    stored = town.couch.database(town.names.village(VILLAGE)).get(filed["id"])
    assert stored["source"] == {"channel": "villager_online"}
    assert "receipt" not in stored  # the receipt is the villager's: nothing stores it
    assert town.alerts.store.get(alert_id(filed["id"]))["state"] == "alerted"


def test_the_villager_sees_each_step_the_town_takes(town, client):
    filed = file(client)
    ask = {"receipt": filed["receipt"].lower().replace("-", " "), "phone": "+86 139-2661-1234"}
    seen = client.post(LOOKUP, json=ask).get_json()
    assert seen["status"] == "received" and seen["receipt"] == filed["receipt"]
    assert seen["village_name"] == "新圩村" and seen["town_name"] == "新圩镇"
    assert seen["mediator"] is None and seen["filed_at"]
    alert = alert_id(filed["id"])
    assert client.post(f"/api/v1/alerts/{alert}/acknowledge", headers=official(),
                       json={"note": "已致电申请人，内部备注"}).status_code == 200
    assert client.post(LOOKUP, json=ask).get_json()["status"] == "acknowledged"
    assert client.post(f"/api/v1/alerts/{alert}/assign", headers=official(), json={
        "mediator": {"name": "梁调解", "phone": "13700137000"}}).status_code == 200
    seen = client.post(LOOKUP, json=ask).get_json()
    assert seen["status"] == "assigned" and seen["mediator"] == {"name": "梁调解"}
    assert client.post(f"/api/v1/alerts/{alert}/resolve", headers=official(), json={
        "outcome": "agreement_reached", "note": "双方签订协议"}).status_code == 200
    seen = client.post(LOOKUP, json=ask).get_json()
    assert seen["status"] == "resolved" and seen["outcome"] == "agreement_reached"
    text = str(seen)
    for private in ("13700137000", "13800138000", "李四", "内部备注", "双方签订协议", "林地边界"):
        assert private not in text  # no phone, other party, note or description comes back


def test_a_lookup_answers_in_plain_chinese_by_default(town, client):
    filed = file(client)
    wrong = client.post(LOOKUP, json={"receipt": filed["receipt"], "phone": "13900000000"})
    assert wrong.status_code == 404 and wrong.get_json()["error"] == "receipt_not_found"
    assert "受理编号" in wrong.get_json()["message"]
    bad = client.post(LOOKUP, json={"receipt": "12", "phone": "12"}).get_json()
    assert [d["code"] for d in bad["details"]] == ["receipt_format", "phone_format"]
    assert "受理编号" in bad["details"][0]["message"]["zh"]
