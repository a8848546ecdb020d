"""Device bootstrap, feedback list, the app version gate and villagers' online filing."""
from __future__ import annotations

import requests

from models.examples import example

VILLAGE = "441226101201"
AUTH = ("chen.zq", "device-pass-1")


def test_bootstrap_gives_forms_hierarchy_and_time(provisioned, live_server):
    body = requests.get(f"{live_server}/api/v1/bootstrap", auth=AUTH).json()
    assert [u["level"] for u in body["hierarchy"]] == ["city", "county", "town", "village"]
    assert body["hierarchy"][-1] == {"code": VILLAGE, "name": "新圩村", "level": "village"}
    categories = {c["code"]: c["zh"] for c in body["form_options"]["mediation_request"]["category"]}
    assert categories["land_forest"] == "土地山林"
    assert body["sync_path"] == f"/sync/{VILLAGE}" and body["server_time_ms"] > 0


def test_old_apps_get_426_with_the_version_they_need(settings, provisioned, live_server):
    provisioned.settings = settings.__class__(**{**settings.__dict__, "min_app_version": "1.3.0"})
    old = requests.get(f"{live_server}/sync/{VILLAGE}/", auth=AUTH,
                       headers={"X-App-Version": "1.2.9", "Accept-Language": "en"})
    assert old.status_code == 426
    assert old.json()["error"] == "app_version_unsupported"
    assert "please update to 1.3.0" in old.json()["message"]
    current = requests.get(f"{live_server}/sync/{VILLAGE}/", auth=AUTH,
                           headers={"X-App-Version": "1.10.0"})
    assert current.status_code == 200


def test_feedback_list_for_the_cadre(provisioned, live_server, make_device):
    phone = make_device("chen.zq", VILLAGE)
    household = example("household")
    household.update(_id="household:6d0f1a52-8f7e-4b43-9a37-0a4c2d1e9b01", village_code=VILLAGE)
    household["phones"] = ["12345"]
    phone.one({"op": "put", "doc": household})
    assert phone.one({"op": "push"})["ok"]
    listing = requests.get(f"{live_server}/api/v1/feedback", auth=AUTH).json()
    assert listing["count"] == 1
    assert listing["feedback"][0]["target"]["id"] == household["_id"]
    official = requests.get(f"{live_server}/api/v1/feedback", auth=("huang.jh", "device-pass-1"))
    assert official.status_code == 403


def test_villagers_file_mediation_requests_online(provisioned, live_server):
    heard = []
    provisioned.mediation_intake.listeners.append(
        lambda village, doc, rev, received_at: heard.append(doc["_id"]))
    form = {"village_code": VILLAGE, "category": "neighbourhood", "urgency": "urgent",
            "description": "邻居加建围墙占用通道。",
            "applicant": {"name": "何永明", "phone": "139 2661 1234"}}
    filed = requests.post(f"{live_server}/api/v1/public/mediation-requests", json=form)
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    stored = provisioned.couch.database(provisioned.names.village(VILLAGE)).get(request_id)
    assert stored["source"] == {"channel": "villager_online"}
    assert heard == [request_id]

    bad = requests.post(f"{live_server}/api/v1/public/mediation-requests",
                        json={**form, "village_code": "441226101299", "category": "x",
                              "applicant": {"name": "何", "phone": "123"}, "extra": 1})
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["details"]}
    assert {"village_code", "category", "applicant.phone", "extra"} <= fields

    statuses = [requests.post(f"{live_server}/api/v1/public/mediation-requests",
                              json=form).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]  # three a day per phone number
    limited = requests.post(f"{live_server}/api/v1/public/mediation-requests", json=form)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
