"""The phone whose household value lost a merge is told so (sync/reconcile/disagreement_feedback.py):
a feedback document in the village database naming its device and both values in people's
terms, kept open by later edits, resolved with the value written when the review is decided."""
from __future__ import annotations

from support.review_data import ADMIN, HOUSEHOLD, VILLAGE, conflicting_household

from sync.clock import utc_now
from sync.reconcile.pipeline import ReconciliationDesk
from sync.gateway.quarantine import QuarantineDesk


def _feedback(provisioned) -> list[dict]:
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    return list(village_db.docs_with_prefix(f"feedback:{HOUSEHOLD}:"))


def test_the_losing_device_gets_feedback_with_both_values(provisioned):
    conflicting_household(provisioned)  # dev-a: lifted (later stamp), dev-b: at_risk
    provisioned.reconciliation.run()
    [item] = _feedback(provisioned)
    assert item["_id"] == f"feedback:{HOUSEHOLD}:2-cccc:disagreement:poverty_status"
    assert item["kind"] == "household_disagreement" and item["resolved_at"] is None
    assert item["target"] == {"id": HOUSEHOLD, "rev": "2-cccc", "type": "household"}
    told = item["disagreement"]
    assert told["device_id"] == "dev-b" and told["field_label"]["zh"] == "脱贫状态"
    assert told["yours"] == {"zh": "边缘易致贫户", "en": told["yours"]["en"]} and told["yours"]["en"]
    assert told["kept"]["zh"] == "已脱贫"
    assert told["review_task_id"].startswith("review:household_disagreement:")
    [problem] = item["problems"]
    assert problem["field"] == "poverty_status" and problem["code"] == "household_disagreement"
    assert problem["message"]["zh"].startswith("你填写的脱贫状态与另一台设备不一致，已提交县级审核")
    assert "“边缘易致贫户”" in problem["message"]["zh"] and "county" in problem["message"]["en"]

    provisioned.reconciliation.run()  # nothing left to merge: still one feedback
    assert len(_feedback(provisioned)) == 1


def test_a_later_edit_leaves_it_open_and_the_decision_resolves_it(provisioned, client):
    conflicting_household(provisioned)
    provisioned.reconciliation.run()
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    # an accepted later revision resolves quarantine feedback, not a disagreement under review
    QuarantineDesk(provisioned.couch, provisioned.names)._resolve(
        village_db, VILLAGE, HOUSEHOLD, village_db.get(HOUSEHOLD)["_rev"], utc_now())
    [item] = _feedback(provisioned)
    assert item["resolved_at"] is None

    task_id = item["disagreement"]["review_task_id"]
    task = client.get("/api/v1/review/tasks?kind=household_disagreement", headers=ADMIN).json["items"][0]
    assert task["_id"] == task_id
    pick = next(i for i, c in enumerate(task["candidates"]) if c["value"] == "at_risk")
    decided = client.post(f"/api/v1/review/tasks/{task_id}/decision", json={"pick": pick}, headers=ADMIN)
    assert decided.status_code == 200, decided.json
    [item] = _feedback(provisioned)
    assert item["resolved_at"] == decided.json["decided_at"]
    assert item["disagreement"]["decided"]["zh"] == "边缘易致贫户"


def test_feedback_two_workers_both_wrote_is_resolved_keeping_the_resolved_one(provisioned):
    """On a cluster two workers merging one household at once each write its feedback (their
    own `created_at`): two first revisions in conflict, and the decision may reach either. The
    reconciliation keeps a resolved one over the original and leaves no conflict."""
    conflicting_household(provisioned)
    provisioned.reconciliation.run()
    [item] = _feedback(provisioned)
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    twin = "1-" + "f" * 32  # sorts after the original: the original-first rule would drop it
    village_db.bulk_docs([{**item, "_rev": twin, "_revisions": {"start": 1, "ids": ["f" * 32]},
                           "created_at": "2026-01-01T00:00:00.000Z", "resolved_at": utc_now()}],
                         new_edits=False)
    assert village_db.get(item["_id"], conflicts=True)["_conflicts"] == [item["_rev"]]

    # a worker starting now (its first pass reads every village) resolves it
    ReconciliationDesk(provisioned.couch, provisioned.names, provisioned.settings.id_hash_key).run()
    kept = village_db.get(item["_id"], conflicts=True)
    assert "_conflicts" not in kept and kept["_rev"] == twin and kept["resolved_at"]
    assert village_db.view("fieldsync", "conflicts")["rows"] == []
    archived = provisioned.couch.database(provisioned.names.review).get(
        f"conflict:{item['_id']}:{item['_rev']}")
    assert archived["losing_body"]["resolved_at"] is None
