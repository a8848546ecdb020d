"""What the officials' workbench needs from the API: the call-back details on the alert, who may
act (town, county once escalated), 办结 only after 签收, tabs / mine / town / search / paging with
counts, SLA rates over every alert, routing that never reaches nobody, roster warnings, and
401s without a browser credential popup."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from models.alerts import iso
from support.alerting import COUNTY, TOWN, VILLAGE, bypass_write, mediation_request

PASS = "official-pass-1"


def auth(username: str, password: str = PASS) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept-Language": "en"}


def raise_one(services, received_at: str | None = None, **changes) -> dict:
    doc = mediation_request(**changes)
    bypass_write(services, doc)  # the request as stored in its village (the detail reads it)
    return services.alerts.raiser.raise_alert(
        VILLAGE, doc, "1-x", received_at or iso(datetime.now(timezone.utc)), "gateway")


def test_the_alert_carries_what_a_call_back_needs(quiet, client):
    alert = raise_one(quiet, applicant={"name": "何永明", "phone": "13926611234"},
                      other_parties=[{"name": "罗桂芳", "phone": "13926615678", "relation": "邻居"}],
                      amount_in_dispute_fen=352_000, urgency="urgent")
    listed = client.get("/api/v1/alerts", headers=auth("huang.jh")).get_json()["alerts"][0]
    assert (listed["applicant_name"], listed["applicant_phone"]) == ("何永明", "13926611234")
    assert listed["other_parties"] == [{"name": "罗桂芳", "phone": "13926615678", "relation": "邻居"}]
    assert listed["amount_in_dispute_fen"] == 352_000 and listed["village_name"] == "新圩村"
    assert listed["recorded_at"] and listed["received_at"] and listed["may_act"] is True
    detail = client.get(f"/api/v1/alerts/{alert['_id']}", headers=auth("huang.jh")).get_json()
    assert detail["request"]["description"] and detail["may_act"] is True
    assert [e["what"] for e in detail["timeline"]][:3] == ["recorded_on_device", "received",
                                                           "alerted"]
    # cadres (of this village or another) never read applicants' phones, nor the stream
    for cadre in ("chen.zq", "li.xy"):
        assert client.get(f"/api/v1/alerts/{alert['_id']}",
                          headers=auth(cadre, "device-pass-1")).status_code == 403
        assert client.get("/api/v1/alerts/stream",
                          headers=auth(cadre, "device-pass-1")).status_code == 403
    assert client.get("/api/v1/alerts", headers=auth("ma.other")).get_json()["alerts"] == []


def test_resolve_needs_acknowledgement_and_only_the_responsible_level_acts(quiet, client):
    alert = raise_one(quiet)
    path = f"/api/v1/alerts/{alert['_id']}"
    early = client.post(f"{path}/resolve", headers=auth("huang.jh"),
                        json={"outcome": "agreement_reached"})
    assert early.status_code == 409 and early.get_json()["error"] == "alert_not_acknowledged"
    assert early.get_json()["messages"]["zh"] == "请先签收再办结"
    for reader in (auth("wu.cd"), auth("admin.zq", "change-me-2026")):
        refused = client.post(f"{path}/acknowledge", headers=reader)
        assert refused.status_code == 403 and refused.get_json()["error"] == "alert_not_responsible"
        assert client.get(path, headers=reader).get_json()["may_act"] is False
    # five minutes without 签收: the chain escalates to the county, which may act from then on
    received = datetime.fromisoformat(alert["received_at"].replace("Z", "+00:00"))
    quiet.alerts.escalator.run(received + timedelta(minutes=6))
    assert client.get(path, headers=auth("wu.cd")).get_json()["may_act"] is True
    assert client.post(f"{path}/acknowledge", headers=auth("wu.cd")).status_code == 200
    assert client.post(f"{path}/acknowledge",
                       headers=auth("admin.zq", "change-me-2026")).status_code == 403  # city reads
    done = client.post(f"{path}/resolve", headers=auth("huang.jh"),
                       json={"outcome": "agreement_reached", "agreement": "双方同意按界桩划分",
                             "note": "已回访"})
    stored = quiet.alerts.store.get(alert["_id"])
    assert done.status_code == 200 and stored["agreement"] == "双方同意按界桩划分"
    assert stored["resolution_note"] == "已回访" and stored["outcome"] == "agreement_reached"


def test_assign_picks_a_mediator_from_the_towns_list(quiet, client):
    alert = raise_one(quiet)
    put = client.put(f"/api/v1/duty-rosters/{TOWN}", headers=auth("liang.lj"),
                     json={"on_duty": ["huang.jh"], "leader": "zhou.tl",
                           "mediators": [{"name": "梁调解", "phone": "13800000001"}]})
    assert put.status_code == 200 and put.get_json()["mediators"][0]["name"] == "梁调解"
    kept = client.put(f"/api/v1/duty-rosters/{TOWN}", headers=auth("liang.lj"),
                      json={"on_duty": ["huang.jh"], "leader": "zhou.tl"})
    assert kept.get_json()["mediators"] == [{"name": "梁调解", "phone": "13800000001"}]
    path = f"/api/v1/alerts/{alert['_id']}"
    assert client.get(path, headers=auth("huang.jh")).get_json()["mediators"][0]["phone"] \
        == "13800000001"
    stranger = client.post(f"{path}/assign", headers=auth("huang.jh"),
                           json={"mediator": {"name": "路人甲", "phone": "13800000009"}})
    assert stranger.status_code == 422 and stranger.get_json()["error"] == "mediator_not_listed"
    listed = client.post(f"{path}/assign", headers=auth("huang.jh"),
                         json={"mediator": {"name": "梁调解", "phone": "13800000001"}})
    assert listed.status_code == 200
    assert listed.get_json()["alert"]["mediator"]["phone"] == "13800000001"


def test_tabs_mine_search_and_paging_beyond_a_hundred(quiet, client):
    now = datetime.now(timezone.utc)
    for n in range(118):  # recent, unacknowledged
        raise_one(quiet, iso(now - timedelta(seconds=n)),
                  applicant={"name": f"申请人{n:03d}", "phone": f"1392661{n:04d}"})
    late = raise_one(quiet, iso(now - timedelta(minutes=30)),
                     applicant={"name": "冯晚到", "phone": "13926619999"})
    acked = raise_one(quiet, iso(now - timedelta(minutes=1)))
    quiet.alerts.casework.acknowledge(acked["_id"], "huang.jh")
    who = auth("huang.jh")
    first = client.get("/api/v1/alerts?tab=pending&per_page=50", headers=who).get_json()
    assert first["total"] == 119 and first["pages"] == 3 and len(first["alerts"]) == 50
    third = client.get("/api/v1/alerts?tab=pending&per_page=50&page=3", headers=who).get_json()
    assert len(third["alerts"]) == 19 and third["alerts"][-1]["_id"] == late["_id"]
    seen = {a["_id"] for p in (1, 2, 3) for a in client.get(
        f"/api/v1/alerts?tab=pending&per_page=50&page={p}", headers=who).get_json()["alerts"]}
    assert len(seen) == 119
    assert first["counts"] == {"pending": 119, "in_progress": 1, "overdue": 1, "resolved": 0,
                               "all": 120}
    overdue = client.get("/api/v1/alerts?tab=overdue", headers=who).get_json()
    assert [a["_id"] for a in overdue["alerts"]] == [late["_id"]]
    mine = client.get("/api/v1/alerts?tab=in_progress&mine=1", headers=who).get_json()
    assert [a["_id"] for a in mine["alerts"]] == [acked["_id"]]
    assert client.get("/api/v1/alerts?tab=in_progress&mine=1",
                      headers=auth("zhou.tl")).get_json()["total"] == 0
    found = client.get("/api/v1/alerts", query_string={"q": "冯晚"}, headers=who).get_json()
    assert [a["_id"] for a in found["alerts"]] == [late["_id"]]
    by_phone = client.get("/api/v1/alerts", query_string={"q": "13926610042"}, headers=who)
    assert [a["applicant_name"] for a in by_phone.get_json()["alerts"]] == ["申请人042"]
    county = auth("liang.lj")
    assert client.get(f"/api/v1/alerts?town={TOWN}", headers=county).get_json()["total"] == 120
    assert client.get("/api/v1/alerts?town=441226102000", headers=county).get_json()["total"] == 0
    assert client.get("/api/v1/alerts?town=441223102000", headers=county).status_code == 403
    bad = client.get("/api/v1/alerts?tab=later", headers=who)
    assert bad.status_code == 400 and bad.get_json()["error"] == "alert_tab_invalid"
    sla = client.get("/api/v1/sla?period=1d", headers=who).get_json()["overall"]
    assert sla["alerts"] == 120 and sla["overdue"] == 1
    # over every alert of the period, not only the acknowledged one
    assert sla["acknowledged_within_target_rate"] == round(1 / 120, 4)


def test_with_no_roster_the_alert_still_reaches_officials(quiet, client):
    router = quiet.alerts.router
    router.save_roster(TOWN, [], None, "test")
    router.save_roster(COUNTY, [], "he.cl", "test")
    first = raise_one(quiet)
    assert first["steps"]["0"]["recipients"] == ["huang.jh", "zhou.tl"]
    rosters = client.get("/api/v1/duty-rosters", headers=auth("liang.lj")).get_json()
    town = next(r for r in rosters["rosters"] if r["code"] == TOWN)
    assert town["nobody_on_duty"] and town["answered_by_source"] == "town_officials"
    assert TOWN in [w["code"] for w in rosters["warnings"]]
    assert "无人值班" in next(w for w in rosters["warnings"] if w["code"] == TOWN)["messages"]["zh"]
    assert {r["code"] for r in client.get("/api/v1/duty-rosters", headers=auth("huang.jh"))
            .get_json()["rosters"]} == {TOWN}
    for name in ("huang.jh", "zhou.tl"):
        quiet.directory.set_disabled(name, True)
    county = raise_one(quiet)
    assert county["steps"]["0"]["recipients"] == ["he.cl", "liang.lj", "wu.cd"]
    assert county["routed_by"] == "county_officials"
    # escalated to the county from the start: its officials may act at once
    assert client.get(f"/api/v1/alerts/{county['_id']}",
                      headers=auth("wu.cd")).get_json()["may_act"] is True


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/api/v1/devices", "/api/v1/duty-rosters"])
def test_api_401_has_no_browser_challenge(provisioned, client, path):
    for headers in ({}, auth("huang.jh", "wrong-password")):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401 and "WWW-Authenticate" not in answer.headers
    wrong = client.post("/api/v1/login", json={"username": "huang.jh", "password": "nope",
                                               "device_id": "web-1"})
    assert wrong.status_code == 401 and "WWW-Authenticate" not in wrong.headers
    assert client.get("/sync/441226101201/").headers["WWW-Authenticate"].startswith("Basic")


OTHER_TOWN_FILES = ("code,name,level,parent\n441226102000,官圩镇,town,441226000000\n"
                    "441226102201,官圩村,village,441226102000\n",
                    "username,display_name,role,jurisdiction,phone,password\n"
                    "wu.gx,吴国祥,cadre,441226102201,13807580009,\n")


def phone_syncs(client, username: str, device_id: str, village: str, pending: int | None) -> None:
    """A cadre's phone logs in and syncs once, saying what it still holds (device contract §8)."""
    logged = client.post("/api/v1/login", json={"username": username, "password": "device-pass-1",
                                                "device_id": device_id, "app_version": "1.4.0"})
    assert logged.status_code == 200, logged.get_json()
    headers = {**auth(username, logged.get_json()["token"]), "X-Device-Id": device_id,
               "X-App-Version": "1.4.0"}
    if pending is not None:
        headers.update({"X-Device-Pending": str(pending), "X-Device-Refused": "0",
                        "X-Device-Seq": "17"})
    assert client.get(f"/sync/{village}/", headers=headers).status_code == 200


def test_the_device_list_shows_what_each_phone_still_holds_within_the_callers_villages(
        quiet, client, runner, tmp_path):
    places, people = tmp_path / "j.csv", tmp_path / "a.csv"
    places.write_text(OTHER_TOWN_FILES[0], encoding="utf-8")
    people.write_text(OTHER_TOWN_FILES[1], encoding="utf-8")
    assert runner.invoke("provision", str(places), str(people)).exit_code == 0
    quiet.directory.reset_password("wu.gx", "device-pass-1")
    phone_syncs(client, "chen.zq", "dev-aaaa0001", VILLAGE, 3)
    phone_syncs(client, "li.xy", "dev-aaaa0002", "441226101202", 0)
    phone_syncs(client, "wu.gx", "dev-bbbb0001", "441226102201", 5)
    client.post("/api/v1/login", json={"username": "huang.jh", "password": PASS,
                                       "device_id": "web-official-1"})  # an official's browser

    town = client.get("/api/v1/field-devices", headers=auth("huang.jh")).get_json()
    assert [d["device_id"] for d in town["devices"]] == ["dev-aaaa0001", "dev-aaaa0002"]
    assert (town["total"], town["holding"], town["pages"]) == (2, 1, 1)
    assert town["villages"] == [{"code": VILLAGE, "name": "新圩村"},
                                {"code": "441226101202", "name": "古蓬村"}]
    first, second = town["devices"]
    assert (first["display_name"], first["village_name"], first["town_name"]) == ("陈志强", "新圩村",
                                                                                 "新圩镇")
    assert first["pending_at_last_contact"] == 3 and first["holds_work"] is True
    assert first["holding_since"] and first["app_version"] == "1.4.0" and first["last_contact"]
    assert second["pending_at_last_contact"] == 0 and second["all_uploaded_at"]
    assert second["holds_work"] is False
    # attack: a town official asks for another town's village, or passes a town as the village
    for village in ("441226102201", "441224101201"):
        refused = client.get(f"/api/v1/field-devices?village={village}", headers=auth("huang.jh"))
        assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    for bad in ("441226102000", "4412261012010", "../x", "44122610120%00"):
        answer = client.get(f"/api/v1/field-devices?village={bad}", headers=auth("huang.jh"))
        assert answer.status_code == 400 and answer.get_json()["messages"]["zh"], bad
    other = client.get("/api/v1/field-devices", headers=auth("ma.other")).get_json()
    assert [d["device_id"] for d in other["devices"]] == ["dev-bbbb0001"]
    # the county sees its towns, holding first (longest first); one village; paged
    county = client.get("/api/v1/field-devices", headers=auth("liang.lj")).get_json()
    assert [d["device_id"] for d in county["devices"]] == ["dev-aaaa0001", "dev-bbbb0001",
                                                           "dev-aaaa0002"]
    one = client.get(f"/api/v1/field-devices?village={VILLAGE}", headers=auth("liang.lj")).get_json()
    assert [d["device_id"] for d in one["devices"]] == ["dev-aaaa0001"]
    paged = client.get("/api/v1/field-devices?per_page=2&page=2", headers=auth("liang.lj")).get_json()
    assert [d["device_id"] for d in paged["devices"]] == ["dev-aaaa0002"] and paged["pages"] == 2
    holding = client.get("/api/v1/field-devices?holding=1", headers=auth("liang.lj")).get_json()
    assert {d["device_id"] for d in holding["devices"]} == {"dev-aaaa0001", "dev-bbbb0001"}
    # cadres never list devices here, not even their own village's
    for cadre in ("chen.zq", "wu.gx"):
        assert client.get("/api/v1/field-devices",
                          headers=auth(cadre, "device-pass-1")).status_code == 403
    assert client.get("/api/v1/field-devices?page=x", headers=auth("huang.jh")).status_code == 400
