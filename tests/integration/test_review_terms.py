"""The review queue in people's terms: names instead of codes, the field's label, yuan; a value
typed in yuan stored exactly in fen and shown after the decision; duplicates merged with nothing
lost or dismissed with a reason, both audited."""
from __future__ import annotations

import copy

from models.examples import example
from models.identity import check_character
from support.review_data import ADMIN, VILLAGE

HOUSEHOLD = "household:7c2e1d3f-4a5b-4c6d-8e7f-9a0b1c2d3e40"
TWIN = "household:7c2e1d3f-4a5b-4c6d-8e7f-9a0b1c2d3e41"
NAMESAKE = "household:7c2e1d3f-4a5b-4c6d-8e7f-9a0b1c2d3e42"
OTHER_VILLAGE = "441226101202"


def _id(serial: int) -> str:
    first17 = f"44122619780312{serial:03d}"
    return first17 + check_character(first17)


def _household(doc_id: str, village: str, head_id: str, **changes) -> dict:
    doc = example("household")
    doc.update(_id=doc_id, village_code=village, head={"name": "梁国强", "id_number": head_id},
               **changes)
    doc["members"] = [{**doc["members"][0], "id_number": head_id}]
    return doc


def seed(services) -> None:
    """An income disagreement, the same household in two villages, and a namesake."""
    db = services.couch.database(services.names.village(VILLAGE))
    base = _household(HOUSEHOLD, VILLAGE, _id(123), _rev="1-aaaa")
    db.bulk_docs([base], new_edits=False)
    for rev_id, income, stamp in (("bbbb", 400_000, "1714700000000-00000-dev-a"),
                                  ("cccc", 352_000, "1714600000000-00000-dev-b")):
        leaf = copy.deepcopy(base)
        leaf.update(_rev=f"2-{rev_id}", income_per_capita_fen=income,
                    _revisions={"start": 2, "ids": [rev_id, "aaaa"]})
        leaf["field_stamps"]["income_per_capita_fen"] = stamp
        db.bulk_docs([leaf], new_edits=False)
    other = services.couch.database(services.names.village(OTHER_VILLAGE))
    other.create()
    other.put(_household(TWIN, OTHER_VILLAGE, _id(123), phones=["13900001111"], notes="另一村登记"))
    db.put(_household(NAMESAKE, VILLAGE, _id(456), phones=["13900002222"]))
    services.reconciliation.run()


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
