"""The central view: built incrementally from stored checkpoints, idempotent, crash-safe, and
with duplicate households flagged without a raw identity number anywhere in it."""
from __future__ import annotations

import json
import uuid

import pytest

from models.examples import example


@pytest.fixture
def settings(settings, cluster_couch):
    """Every test here runs on a single node and through the cluster proxy (a CouchDB cluster's
    behaviour: tests/support/cluster_proxy.py)."""
    return cluster_couch.settings(settings)

VILLAGE_A, VILLAGE_B = "441226101201", "441226101202"
SHARED_ID = "441226197803121236"  # the example household's head


def new_id(prefix: str) -> str:
    return f"{prefix}:{uuid.uuid4()}"


def household(village: str, head_name: str = "梁国强", head_id: str = SHARED_ID) -> dict:
    doc = example("household")
    doc.update(_id=new_id("household"), village_code=village)
    doc["head"] = {"name": head_name, "id_number": head_id}
    doc["members"][0].update(name=head_name, id_number=head_id)
    return doc


def visit(village: str, household_id: str, recorded_at: str, verdict: str) -> dict:
    doc = example("verification_visit")
    doc.update(_id=new_id("visit"), village_code=village, household_id=household_id,
               recorded_at=recorded_at, verdict=verdict)
    return doc


def seed(services) -> dict:
    """Two villages of one town: a shared identity number, a near-duplicate, visits, a case."""
    for village in (VILLAGE_A, VILLAGE_B):
        services.couch.database(services.names.village(village)).create()
    a_db = services.couch.database(services.names.village(VILLAGE_A))
    b_db = services.couch.database(services.names.village(VILLAGE_B))
    first, copy_in_b = household(VILLAGE_A), household(VILLAGE_B)
    # same head name and birth date (19780312) in the same town, another identity number
    near = household(VILLAGE_A, head_id="441226197803124478")
    for member in near["members"][1:]:
        member["id_number"] = None
    near["members"] = near["members"][:1]
    for doc in (first, near):
        a_db.put(doc)
    b_db.put(copy_in_b)
    old = visit(VILLAGE_A, first["_id"], "2024-05-01T09:00:00+08:00", "pass")
    new = visit(VILLAGE_A, first["_id"], "2024-05-02T10:15:00+08:00", "follow_up")
    a_db.put(new)
    a_db.put(old)  # arrives later but happened earlier
    request = example("mediation_request")
    request.update(_id=new_id("mediation"), village_code=VILLAGE_A)
    a_db.put(request)
    for kind, at in (("contacted", "2024-05-03T17:00:00+08:00"),
                     ("mediator_assigned", "2024-05-04T09:05:00+08:00")):
        event = example("case_event")
        event.update(_id=new_id("case_event"), village_code=VILLAGE_A,
                     request_id=request["_id"], kind=kind, recorded_at=at)
        a_db.put(event)
    return {"first": first, "copy": copy_in_b, "near": near, "new_visit": new,
            "request": request}


def snapshot(db) -> dict:
    return {row["id"]: row["value"]["rev"] for row in db.all_docs()["rows"]}


def test_central_view_is_built_and_duplicates_are_flagged(provisioned):
    seeded = seed(provisioned)
    desk = provisioned.reconciliation
    assert desk.run() >= 8  # and the design documents
    central = provisioned.couch.database(provisioned.names.central)
    entry = central.get(f"hh:{VILLAGE_A}:{seeded['first']['_id']}")
    assert entry["head"] == {"name": "梁国强", "id_masked": "4412**********1236"}
    assert entry["source_rev"] == provisioned.couch.database(
        provisioned.names.village(VILLAGE_A)).get(seeded["first"]["_id"])["_rev"]
    assert entry["failing_indicators"] == ["safe_housing"]
    assert entry["latest_verification"]["id"] == seeded["new_visit"]["_id"]
    assert entry["latest_verification"]["verdict"] == "follow_up"
    case = central.get(f"case:{VILLAGE_A}:{seeded['request']['_id']}")
    assert case["state"]["stage"] == "mediator_assigned" and case["state"]["event_count"] == 2
    assert case["applicant"]["id_masked"].startswith("4412") and case["town_code"] == "441226101000"

    review = provisioned.couch.database(provisioned.names.review)
    tasks = {doc["kind"]: doc for doc in review.docs_with_prefix("review:")}
    duplicate = tasks["duplicate_household"]
    assert duplicate["_id"].startswith("review:duplicate_id:") and duplicate["cross_village"]
    assert sorted(duplicate["subject_ids"]) == sorted([seeded["first"]["_id"],
                                                       seeded["copy"]["_id"]])
    assert {h["id_masked"] for h in duplicate["households"]} == {"4412**********1236"}
    near = tasks["near_duplicate_household"]
    assert near["_id"].startswith("review:near_duplicate:")
    # same head name and birth date in one town: the near copy, and the exact copy as well
    assert sorted(near["subject_ids"]) == sorted(seeded[k]["_id"] for k in ("first", "near", "copy"))

    # the raw number appears nowhere in the central view nor in the duplicate tasks
    everything = json.dumps([row["doc"] for row in central.all_docs(include_docs=True)["rows"]]
                            + [duplicate, near], ensure_ascii=False)
    assert SHARED_ID not in everything and "441226197803124478" not in everything
    assert "4412**********1236" in everything


def test_a_second_pass_and_a_replay_write_nothing(provisioned):
    seed(provisioned)
    desk = provisioned.reconciliation
    first_run = desk.run()
    central = provisioned.couch.database(provisioned.names.central)
    review = provisioned.couch.database(provisioned.names.review)
    before = (snapshot(central), snapshot(review))
    assert desk.run() == 0
    # a crash after the view was written but before the checkpoint: replay everything
    state = provisioned.state_db
    for doc in list(state.docs_with_prefix("checkpoint:reconcile:")):
        state.delete(doc["_id"], doc["_rev"])
    provisioned.__dict__.pop("reconciliation", None)  # the restarted worker
    desk = provisioned.reconciliation
    assert desk.run() == first_run
    assert (snapshot(central), snapshot(review)) == before


def test_interrupted_runs_resume_without_losing_or_double_counting(provisioned):
    seeded = seed(provisioned)
    passes = 0
    while True:  # a fresh worker each time, as after a SIGKILL: only stored state survives
        provisioned.__dict__.pop("reconciliation", None)
        handled = provisioned.reconciliation.run(max_items=3)
        passes += 1
        if handled == 0:
            break
        assert passes < 20
    assert passes >= 3
    central = provisioned.couch.database(provisioned.names.central)
    case = central.get(f"case:{VILLAGE_A}:{seeded['request']['_id']}")
    assert case["state"]["event_count"] == 2 and len(case["events"]) == 2
    entry = central.get(f"hh:{VILLAGE_A}:{seeded['first']['_id']}")
    assert entry["latest_verification"]["id"] == seeded["new_visit"]["_id"]
    households = [d for d in central.docs_with_prefix("hh:")]
    assert len(households) == 3
