"""What a device is told: quarantine feedback it pulls, written-once refusals, the audit trail,
and the hand-off of mediation requests to the alert path."""
from __future__ import annotations

from models.examples import example

VILLAGE = "441226101201"


def household(doc_id: str) -> dict:
    doc = example("household")
    doc.update(_id=doc_id, village_code=VILLAGE)
    return doc


def test_quarantined_household_gets_feedback_and_a_correction_resolves_it(provisioned,
                                                                          make_device):
    phone = make_device("chen.zq", VILLAGE)
    doc = household("household:5d0f1a52-8f7e-4b43-9a37-0a4c2d1e9b01")
    doc["head"]["id_number"] = "441226197803121235"  # wrong check digit
    first = phone.one({"op": "put", "doc": doc})
    pushed = phone.one({"op": "push"})
    assert pushed["ok"] and pushed["denied"] == [] and pushed["docs_written"] == 1, (first, pushed)
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    assert village_db.get(doc["_id"])["head"]["id_number"] == "441226197803121235"  # unchanged

    entries = provisioned.quarantine.open_entries(within="441226")
    assert [(e["target"]["id"], e["target"]["rev"]) for e in entries] == [(doc["_id"], first["rev"])]
    assert any(p["field"] == "head.id_number" for p in entries[0]["problems"])

    assert phone.one({"op": "pull"})["ok"]
    feedback = phone.one({"op": "get", "id": f"feedback:{doc['_id']}:{first['rev']}"})
    assert feedback["target"]["id"] == doc["_id"] and feedback["resolved_at"] is None
    problem = next(p for p in feedback["problems"] if p["field"] == "head.id_number")
    assert problem["message"]["zh"] and problem["message"]["en"]

    corrected = phone.one({"op": "get", "id": doc["_id"]})
    corrected["head"]["id_number"] = "441226197803121236"
    phone.one({"op": "put", "doc": corrected})
    assert phone.one({"op": "push"})["ok"]
    # the correction really landed (pouchdb-server once dropped replicated updates silently)
    assert village_db.get(doc["_id"])["head"]["id_number"] == "441226197803121236"
    assert provisioned.quarantine.open_entries() == []
    assert phone.one({"op": "pull"})["ok"]
    resolved = phone.one({"op": "get", "id": f"feedback:{doc['_id']}:{first['rev']}"})
    assert resolved["resolved_at"] is not None


def test_written_once_documents_cannot_be_rewritten(provisioned, make_device):
    phone = make_device("chen.zq", VILLAGE)
    request = example("mediation_request")
    request.update(_id="mediation:7b1c3f9e-2d4a-4c8b-9e6f-1a2b3c4d5e6f", village_code=VILLAGE)
    phone.one({"op": "put", "doc": request})
    assert phone.one({"op": "push"})["denied"] == []
    stored = phone.one({"op": "get", "id": request["_id"]})
    stored["description"] = "改写后的内容"
    phone.one({"op": "put", "doc": stored})
    pushed = phone.one({"op": "push"})
    assert [(d["id"], d["fieldsync"]["code"]) for d in pushed["denied"]] == [
        (request["_id"], "written_once")]
    server_copy = provisioned.couch.database(provisioned.names.village(VILLAGE)).get(request["_id"])
    assert server_copy["description"] == request["description"]
    rejected = list(provisioned.audit.lines("rejected"))
    assert [(e["subject_id"], e["code"]) for e in rejected] == [(request["_id"], "written_once")]


def test_accepted_mediation_requests_reach_the_alert_path_at_once(provisioned, make_device):
    heard = []
    provisioned.mediation_intake.listeners.append(
        lambda village, doc, rev, received_at: heard.append((village, doc["_id"], rev)))
    phone = make_device("chen.zq", VILLAGE)
    request = example("mediation_request")
    request.update(_id="mediation:0c9d8e7f-6a5b-4c3d-8e1f-2a3b4c5d6e7f", village_code=VILLAGE)
    visit = example("verification_visit")
    visit.update(_id="visit:1c9d8e7f-6a5b-4c3d-8e1f-2a3b4c5d6e7f", village_code=VILLAGE)
    stored = phone.one({"op": "put", "doc": request})
    phone.one({"op": "put", "doc": visit})
    assert phone.one({"op": "push"})["ok"]
    assert heard == [(VILLAGE, request["_id"], stored["rev"])]
    received = [e for e in provisioned.audit.lines("received") if e["subject_id"] == request["_id"]]
    assert received[0]["verdict"] == "accept"
    assert received[0]["device_id"] == phone.device_id
    receipt = provisioned.audit.receipts(request["_id"], [stored["rev"]])[stored["rev"]]
    assert receipt["username"] == "chen.zq" and receipt["received_at"] == received[0]["at"]
