"""The review queue in people's terms: names instead of codes, the field's label, yuan; a value
typed in yuan stored exactly in fen and shown after the decision; duplicates merged with nothing
lost or dismissed with a reason, both audited."""
from __future__ import annotations

from support.review_data import ADMIN
from support.workbench_data import HOUSEHOLD, NAMESAKE, OTHER_VILLAGE, TWIN, VILLAGE, seed


def tasks(client, kind: str, state: str = "open") -> list[dict]:
    answer = client.get(f"/api/v1/review/tasks?kind={kind}&state={state}", headers=ADMIN)
    return answer.get_json()["items"]


def test_a_disagreement_in_yuan(provisioned, client):
    seed(provisioned)
    [task] = tasks(client, "household_disagreement")
    terms = task["terms"]
    assert terms["field_label"]["zh"] == "家庭人均年收入（元）"
    assert terms["village_name"] == "新圩村" and terms["town_name"] == "新圩镇"
    assert terms["household_head"] == "梁国强"
    assert sorted(c["zh"] for c in terms["candidates"]) == ["3,520.00 元", "4,000.00 元"]
    path = f"/api/v1/review/tasks/{task['_id']}/decision"
    bad = client.post(path, headers=ADMIN, json={"value_yuan": "3520.001"})
    assert bad.status_code == 422 and bad.get_json()["error"] == "yuan_format"
    decided = client.post(path, headers=ADMIN, json={"value_yuan": "3,520"})
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["terms"]["written"]["zh"] == "3,520.00 元"
    stored = provisioned.couch.database(provisioned.names.village(VILLAGE)).get(HOUSEHOLD)
    assert stored["income_per_capita_fen"] == 352_000  # not 3520 fen (¥35.20)
    [done] = tasks(client, "household_disagreement", "decided")
    assert done["terms"]["written"]["en"] == "¥3,520.00"


def test_duplicates_merged_with_nothing_lost_or_dismissed(provisioned, client):
    seed(provisioned)
    [twin_task] = [t for t in tasks(client, "duplicate_household")
                   if {h["household_id"] for h in t["households"]} == {HOUSEHOLD, TWIN}]
    assert {h["village_name"] for h in twin_task["terms"]["households"]} == {"新圩村", "古蓬村"}
    merge = f"/api/v1/review/tasks/{twin_task['_id']}/merge"
    assert client.post(merge, headers=ADMIN, json={"keep": "nobody"}).status_code == 400
    merged = client.post(merge, headers=ADMIN, json={"keep": f"{VILLAGE}/{HOUSEHOLD}"})
    assert merged.status_code == 200, merged.get_json()
    decision = merged.get_json()["decision"]
    assert decision["removed"] == [f"{OTHER_VILLAGE}/{TWIN}"]
    kept = provisioned.couch.database(provisioned.names.village(VILLAGE)).get(HOUSEHOLD)
    assert "13900001111" in kept["phones"] and "另一村登记" in kept["notes"]  # nothing lost
    other = provisioned.couch.database(provisioned.names.village(OTHER_VILLAGE))
    assert other.get_or_none(TWIN) is None
    archive = provisioned.reconciliation.review_db.get(decision["archives"][0])
    assert archive["body"]["phones"] == ["13900001111"] and archive["merged_into"] == HOUSEHOLD

    provisioned.reconciliation.run()  # the worker sees the merge: the namesake stays to decide
    [near] = [t for t in tasks(client, "near_duplicate_household")
              if NAMESAKE in {h["household_id"] for h in t["households"]}]
    assert {h["household_id"] for h in near["households"]} == {HOUSEHOLD, NAMESAKE}
    dismiss = f"/api/v1/review/tasks/{near['_id']}/dismiss"
    assert client.post(dismiss, headers=ADMIN, json={}).get_json()["error"] == \
        "review_reason_required"
    dismissed = client.post(dismiss, headers=ADMIN, json={"reason": "同名同生日，不同人"})
    assert dismissed.status_code == 200 and dismissed.get_json()["state"] == "dismissed"
    provisioned.reconciliation.run()
    still_open = {t["_id"] for kind in ("duplicate_household", "near_duplicate_household")
                  for t in tasks(client, kind)}
    assert twin_task["_id"] not in still_open and near["_id"] not in still_open
    audit = provisioned.couch.database(provisioned.names.audit)
    actions = {line.get("details", {}).get("action") for line in audit.docs_with_prefix("audit:")}
    assert {"merge_kept", "merge_removed", "dismiss_duplicate"} <= actions
