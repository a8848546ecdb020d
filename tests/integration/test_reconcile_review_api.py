"""The central office's review API over a reconciled conflict: list, decide, sync back."""
from __future__ import annotations

import json

from support.review_data import ADMIN, HOUSEHOLD, RAW_ID, VILLAGE, auth, conflicting_household


def test_office_lists_and_decides_a_disagreement(provisioned, client):
    conflicting_household(provisioned)
    provisioned.reconciliation.run()
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    assert village_db.get(HOUSEHOLD)["poverty_status"] == "lifted"  # the later stamp

    listed = client.get("/api/v1/review/tasks?lang=en", headers=ADMIN)
    assert listed.status_code == 200, listed.json
    [task] = [t for t in listed.json["items"] if t["kind"] == "household_disagreement"]
    assert task["field"] == "poverty_status" and listed.json["total"] >= 1
    archive = client.get(f"/api/v1/review/conflicts?doc_id={HOUSEHOLD}", headers=ADMIN)
    assert archive.status_code == 200 and archive.json["total"] >= 2
    assert RAW_ID not in json.dumps(archive.json, ensure_ascii=False)
    assert "4412**********1236" in json.dumps(archive.json, ensure_ascii=False)

    provisioned.directory.reset_password("chen.zq", "device-pass-1")
    cadre = client.get("/api/v1/review/tasks", headers=auth("chen.zq", "device-pass-1"))
    assert cadre.status_code == 403

    pick = next(i for i, c in enumerate(task["candidates"]) if c["value"] == "at_risk")
    url = f"/api/v1/review/tasks/{task['_id']}/decision?lang=en"
    provisioned.directory.reset_password("huang.jh", "device-pass-1")
    town = auth("huang.jh", "device-pass-1")  # the town sees its task, but may not decide it
    assert [t["_id"] for t in client.get("/api/v1/review/tasks", headers=town).json["items"]] \
        == [task["_id"]]
    assert client.post(url, json={"pick": pick}, headers=town).status_code == 403
    decided = client.post(url, json={"pick": pick}, headers=ADMIN)
    assert decided.status_code == 200, decided.json
    assert decided.json["state"] == "decided" and decided.json["decided_by"] == "admin.zq"
    household = village_db.get(HOUSEHOLD, conflicts=True)
    assert household["poverty_status"] == "at_risk" and "_conflicts" not in household
    stamp = household["field_stamps"]["poverty_status"]
    assert stamp.endswith("-central") and stamp > "1714700000000-00000-dev-a"
    again = client.post(url, json={"pick": pick}, headers=ADMIN)
    assert again.status_code == 409 and again.json["error"] == "review_task_closed"
    bad = client.post(url, json={"pick": 0, "value": "x"}, headers=ADMIN)
    assert bad.status_code in (400, 409)

    provisioned.reconciliation.run()  # the decision reaches the central view like any edit
    central = provisioned.couch.database(provisioned.names.central)
    assert central.get(f"hh:{VILLAGE}:{HOUSEHOLD}")["poverty_status"] == "at_risk"


def test_edited_value_is_validated(provisioned, client):
    conflicting_household(provisioned)
    provisioned.reconciliation.run()
    [task] = client.get("/api/v1/review/tasks?kind=household_disagreement",
                        headers=ADMIN).json["items"]
    url = f"/api/v1/review/tasks/{task['_id']}/decision?lang=en"
    wrong = client.post(url, json={"value": "rich"}, headers=ADMIN)
    assert wrong.status_code == 422 and wrong.json["details"][0]["field"] == "poverty_status"
    right = client.post(url, json={"value": "monitored"}, headers=ADMIN)
    assert right.status_code == 200 and right.json["decision"]["edited"] is True
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    assert village_db.get(HOUSEHOLD)["poverty_status"] == "monitored"


def test_household_search_masks_numbers_and_matches_full_ones_by_hash(provisioned, live_server):
    """Officials search the central view by name or by a full ID number, within their area."""
    import requests

    from server.demo import demo_households
    village = "441226101201"
    households = demo_households(village, 0)
    provisioned.couch.database(provisioned.names.village(village)).bulk_docs(households)
    provisioned.reconciliation.run()
    auth = ("huang.jh", "device-pass-1")
    url = f"{live_server}/api/v1/households"
    by_name = requests.get(url, params={"q": households[1]["head"]["name"][:2]}, auth=auth).json()
    assert [h["household_id"] for h in by_name["households"]] == [households[1]["_id"]]
    number = households[2]["head"]["id_number"]
    by_number = requests.get(url, params={"q": number}, auth=auth)
    assert [h["household_id"] for h in by_number.json()["households"]] == [households[2]["_id"]]
    assert number not in by_number.text and number[:4] + "*" * 10 + number[-4:] in by_number.text
    assert requests.get(url, auth=auth).json()["total"] == 6
    other = requests.get(url, auth=("li.xy", "device-pass-1"))
    assert other.status_code == 403


def test_quarantine_list_is_paginated_and_limited_to_the_jurisdiction(provisioned, client):
    from models.quarantine import quarantine_entry
    from models.registry import QUARANTINE, Verdict
    problem = {"field": "head.id_number", "code": "id_number_checksum",
               "message": {"zh": "校验码错误", "en": "bad check character"}}
    verdict = Verdict(QUARANTINE, "household", "id_number_checksum", (problem,))
    review = provisioned.couch.database(provisioned.names.review)
    for n, village in enumerate((VILLAGE, "441226101202", "441225101201")):
        doc = {"_id": f"household:7c2e1d3f-4a5b-4c6d-8e7f-00000000000{n}"}
        review.put(quarantine_entry(doc, f"1-{n}", verdict, village, f"2026-05-0{n + 1}T08:00:00Z"))
    provisioned.directory.reset_password("liang.lj", "device-pass-1")
    county = auth("liang.lj", "device-pass-1")
    listed = client.get("/api/v1/review/quarantine?limit=1", headers=county).json
    assert listed["total"] == 2 and [e["village_code"] for e in listed["items"]] == [VILLAGE]
    second = client.get("/api/v1/review/quarantine?limit=1&offset=1", headers=county).json
    assert [e["village_code"] for e in second["items"]] == ["441226101202"]
    assert client.get("/api/v1/review/quarantine", headers=ADMIN).json["total"] == 3
    assert client.get("/api/v1/review/quarantine?state=resolved", headers=ADMIN).json["total"] == 0
    provisioned.directory.reset_password("huang.jh", "device-pass-1")
    town = client.get("/api/v1/review/quarantine", headers=auth("huang.jh", "device-pass-1"))
    assert town.status_code == 200  # 新圩镇's two villages, not the other county's
    assert sorted(e["village_code"] for e in town.json["items"]) == [VILLAGE, "441226101202"]
