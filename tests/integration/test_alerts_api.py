"""The officials' alert API: access by jurisdiction, acknowledge/assign/events/resolve, SLA,
duty rosters, the live stream."""
from __future__ import annotations

import base64

import pytest

from models.alerts import seconds_between
from models.doc_ids import alert_id
from support.alerting import COUNTY, TOWN, VILLAGE, configure, mediation_request


def auth(username: str, password: str = "official-pass-1") -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept-Language": "en"}


FORM = {"village_code": VILLAGE, "applicant": {"name": "何永明", "phone": "13926611234"},
        "category": "neighbourhood", "description": "宅基地边界争议", "urgency": "urgent"}


@pytest.fixture
def filed(alerting, client):
    """A request filed online through the public API: its alert is raised at once."""
    answer = client.post("/api/v1/public/mediation-requests", json=FORM)
    assert answer.status_code == 201, answer.get_json()
    return alert_id(answer.get_json()["id"])


def test_officials_see_only_their_jurisdiction(filed, client):
    mine = client.get("/api/v1/alerts", headers=auth("huang.jh")).get_json()["alerts"]
    assert [a["_id"] for a in mine] == [filed]
    assert client.get(f"/api/v1/alerts/{filed}", headers=auth("liang.lj")).status_code == 200
    assert client.get(f"/api/v1/alerts/{filed}",
                      headers=auth("admin.zq", "change-me-2026")).status_code == 200
    other = client.get(f"/api/v1/alerts/{filed}", headers=auth("ma.other"))
    assert other.status_code == 403 and other.get_json()["error"] == "forbidden"
    assert client.get("/api/v1/alerts", headers=auth("ma.other")).get_json()["alerts"] == []
    assert client.post(f"/api/v1/alerts/{filed}/acknowledge",
                       headers=auth("ma.other")).status_code == 403
    assert client.get("/api/v1/alerts", headers=auth("chen.zq", "device-pass-1")).status_code == 403
    assert client.get("/api/v1/alerts").status_code == 401
    missing = client.get("/api/v1/alerts/alert:mediation:nope", headers=auth("huang.jh"))
    assert missing.status_code == 404 and missing.get_json()["error"] == "alert_not_found"


def test_acknowledge_assign_record_and_resolve(filed, client, webhook):
    webhook.wait_for(1)
    who = auth("huang.jh")
    acked = client.post(f"/api/v1/alerts/{filed}/acknowledge", headers=who, json={"note": "已致电"})
    assert acked.status_code == 200
    alert = acked.get_json()["alert"]
    assert alert["state"] == "acknowledged" and alert["acknowledged_by"] == "huang.jh"
    again = client.post(f"/api/v1/alerts/{filed}/acknowledge", headers=auth("zhou.tl"))
    assert again.get_json()["alert"]["acknowledged_by"] == "huang.jh"  # the first one counts

    bad = client.post(f"/api/v1/alerts/{filed}/assign", headers=who, json={"mediator": {}})
    assert bad.status_code == 422 and bad.get_json()["error"] == "validation_failed"
    assigned = client.post(f"/api/v1/alerts/{filed}/assign", headers=who,
                           json={"mediator": {"name": "梁调解", "phone": "13800000001"}})
    assert assigned.get_json()["alert"]["mediator"]["name"] == "梁调解"

    event = {"kind": "session_held", "note": "双方到场"}
    first = client.post(f"/api/v1/alerts/{filed}/events", headers={**who, "Idempotency-Key": "k1"},
                        json=event)
    repeat = client.post(f"/api/v1/alerts/{filed}/events", headers={**who, "Idempotency-Key": "k1"},
                         json=event)
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert first.get_json()["case_event"]["_id"] == repeat.get_json()["case_event"]["_id"]

    resolved = client.post(f"/api/v1/alerts/{filed}/resolve", headers=who,
                           json={"outcome": "agreement_reached"})
    assert resolved.get_json()["alert"]["state"] == "resolved"
    late = client.post(f"/api/v1/alerts/{filed}/resolve", headers=who,
                       json={"outcome": "failed"})
    assert late.status_code == 409 and late.get_json()["error"] == "alert_already_resolved"

    detail = client.get(f"/api/v1/alerts/{filed}", headers=who).get_json()
    steps = [entry["what"] for entry in detail["timeline"]]
    for step in ("recorded_on_device", "received", "alerted", "delivered", "acknowledged",
                 "mediator_assigned", "case_event", "resolved"):
        assert step in steps
    alert = detail["alert"]
    for stamp in ("recorded_at", "received_at", "alerted_at", "delivered_at", "acknowledged_at",
                  "resolved_at"):
        assert alert[stamp], stamp
    listed = client.get("/api/v1/alerts?state=resolved", headers=who).get_json()["alerts"]
    assert [a["_id"] for a in listed] == [filed]
    assert client.get("/api/v1/alerts?state=alerted", headers=who).get_json()["alerts"] == []

    sla = client.get("/api/v1/sla?period=7d", headers=auth("liang.lj")).get_json()
    town = sla["towns"][TOWN]
    assert town["alerts"] == 1 and town["acknowledged"] == 1 and town["resolved"] == 1
    expected_ack = round(seconds_between(alert["received_at"], alert["acknowledged_at"]), 3)
    assert town["time_to_acknowledge_s"]["p50"] == expected_ack
    assert town["time_to_acknowledge_s"]["within_target"] == 1
    assert town["time_to_resolve_s"]["max"] == seconds_between(alert["received_at"],
                                                               alert["resolved_at"])
    assert sla["counties"][COUNTY]["alerts"] == 1
    assert client.get("/api/v1/sla", headers=auth("ma.other")).get_json()["overall"]["alerts"] == 0
    assert client.get("/api/v1/sla?period=week", headers=who).status_code == 400
    inbox = client.get("/api/v1/inbox", headers=who).get_json()["items"]
    assert [item["alert_id"] for item in inbox] == [filed]


def test_county_officials_edit_duty_rosters_and_alerts_follow_them(alerting, client):
    path = f"/api/v1/duty-rosters/{TOWN}"
    assert client.get(path, headers=auth("huang.jh")).get_json()["on_duty"] == ["huang.jh"]
    roster = {"on_duty": ["zhou.tl"], "leader": "huang.jh"}
    assert client.put(path, headers=auth("huang.jh"), json=roster).status_code == 403
    assert client.put("/api/v1/duty-rosters/441224100000", headers=auth("liang.lj"),
                      json=roster).status_code == 403  # another county's town
    unknown = client.put(path, headers=auth("liang.lj"), json={"on_duty": ["nobody.x"]})
    assert [p["code"] for p in unknown.get_json()["details"]] == ["roster_member_unknown"]
    outside = client.put(path, headers=auth("liang.lj"), json={"on_duty": ["ma.other"]})
    assert [p["code"] for p in outside.get_json()["details"]] == ["roster_member_outside"]
    extra = client.put(path, headers=auth("liang.lj"), json={**roster, "shift": "night"})
    assert extra.status_code == 422
    saved = client.put(path, headers=auth("liang.lj"), json=roster)
    assert saved.status_code == 200 and saved.get_json()["updated_by"] == "liang.lj"

    request = mediation_request()
    alert = alerting.alerts.raiser.raise_alert(VILLAGE, request, "1-x", "2026-01-01T00:00:00Z",
                                               "gateway")
    assert alert["steps"]["0"]["recipients"] == ["zhou.tl"]

    empty = client.put(path, headers=auth("liang.lj"), json={"on_duty": [], "leader": None})
    assert empty.status_code == 200
    fallback = alerting.alerts.raiser.raise_alert(VILLAGE, mediation_request(), "1-x",
                                                  "2026-01-01T00:00:00Z", "gateway")
    # nobody on the town's roster: the town's own officials (the county only when it has none)
    assert fallback["steps"]["0"]["recipients"] == ["huang.jh", "zhou.tl"]
    assert fallback["routed_by"] == "town_officials"


def test_the_stream_pushes_new_alerts_and_inbox_items_live(alerting, client):
    response = client.get("/api/v1/alerts/stream?heartbeat=0.2", headers=auth("huang.jh"),
                          buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    assert next(chunks).startswith(b": connected")
    request = mediation_request()
    client.post("/api/v1/public/mediation-requests", json=FORM)  # one more, through the API
    alerting.alerts.raiser.raise_alert(VILLAGE, request, "1-x", "2026-01-01T00:00:00Z",
                                       "gateway")
    events, heartbeats = [], 0
    for chunk in chunks:
        text = chunk.decode()
        heartbeats += text.startswith(": heartbeat")
        events += [line[7:] for line in text.splitlines() if line.startswith("event: ")]
        if events.count("alert") >= 2 and "inbox" in events or heartbeats > 100:
            break
    response.close()
    assert events.count("alert") >= 2 and "inbox" in events


def test_open_streams_are_bounded(alerting, client):
    configure(alerting, max_alert_streams=1, webhook_url=None, smtp_host=None)
    first = client.get("/api/v1/alerts/stream", headers=auth("huang.jh"), buffered=False)
    second = client.get("/api/v1/alerts/stream", headers=auth("huang.jh"), buffered=False)
    assert first.status_code == 200 and second.status_code == 503
    assert second.get_json()["error"] == "too_many_streams"
    assert next(iter(first.response)).startswith(b": connected")
    first.close()
    third = client.get("/api/v1/alerts/stream", headers=auth("huang.jh"), buffered=False)
    assert third.status_code == 200  # closing a stream frees its place
    third.close()
