"""The review queue page in a real headless Chromium: a town official sees its town's queue but
no way to decide; a county official sees the open review tasks (a household disagreement, a duplicate
household) and a quarantined record of the county,
decides the disagreement by picking a candidate, and the decision reaches the village database."""
from __future__ import annotations

import requests

from models.examples import example
from support.page_runner import run_page_script
from support.review_data import HOUSEHOLD, RAW_ID, VILLAGE, conflicting_household

OTHER_VILLAGE = "441226101202"
PASSWORD = "review-pass-1"
BAD_ID = "441226197803121237"  # a wrong check character: quarantined, not refused


def seed_queue(services, live_server: str) -> None:
    """A disagreement, the same head of household in two villages, and a quarantined record."""
    services.directory.reset_password("liang.lj", PASSWORD)
    conflicting_household(services)
    twin = example("household")
    twin.update(_id="household:7c2e1d3f-4a5b-4c6d-8e7f-000000000002", village_code=OTHER_VILLAGE)
    twin.pop("field_stamps", None)
    other_db = services.couch.database(services.names.village(OTHER_VILLAGE))
    other_db.create()
    other_db.put(twin)
    bad = example("household")
    bad.update(_id="household:7c2e1d3f-4a5b-4c6d-8e7f-000000000003", village_code=VILLAGE)
    bad["head"]["id_number"] = BAD_ID
    bad.pop("field_stamps", None)
    pushed = requests.put(f"{live_server}/sync/{VILLAGE}/{bad['_id']}", json=bad,
                          auth=("chen.zq", "device-pass-1"), timeout=10)
    assert pushed.status_code == 201, pushed.text
    services.reconciliation.run()


def test_county_official_works_through_the_review_queue(provisioned, live_server, tmp_path):
    seed_queue(provisioned, live_server)
    provisioned.directory.reset_password("huang.jh", PASSWORD)
    town = run_page_script("review_page.js", {
        "base": live_server, "official": {"username": "huang.jh", "password": PASSWORD},
        "viewer_only": True})
    assert "household_disagreement" in town["kinds"] and town["decide_forms"] == 0
    assert "由县级或市级用户裁定" in town["disagreement_text"]
    result = run_page_script("review_page.js", {
        "base": live_server, "official": {"username": "liang.lj", "password": PASSWORD},
        "pick": "at_risk", "screenshot": str(tmp_path / "review.png")})
    assert result["title"] == "复核队列" and result["english_title"] == "Review queue"
    # a duplicate task per shared identity number (head and members), a near-duplicate (the same
    # head's name in one village: the quarantined record), one disagreement
    assert set(result["kinds"]) == {"duplicate_household", "near_duplicate_household",
                                    "household_disagreement"}
    assert result["kinds"].count("household_disagreement") == 1
    assert result["quarantine_count"] == 1 and "身份证" in result["quarantine_text"]
    assert "4412**********1236" in result["duplicates_text"]
    assert any("边缘易致贫户 (at_risk)" in text for text in result["candidates"])
    assert result["pick_error"] == "请选择一个值"
    assert "liang.lj" in result["decided_text"] and "at_risk" in result["decided_text"]
    assert RAW_ID not in result["page_text"] and BAD_ID not in result["page_text"]
    assert set(result["filtered_kinds"]) == {"duplicate_household"}
    assert ["Review", "/officials/review?lang=en"] in result["english_nav"]
    assert "/officials/review" in result["officials_nav"] and \
        "/officials/households" in result["officials_nav"]
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    assert village_db.get(HOUSEHOLD)["poverty_status"] == "at_risk"
    assert (tmp_path / "review.png").stat().st_size > 10_000
