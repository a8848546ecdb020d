"""Server-owned documents: derived ids, and the documents a quarantined revision produces."""
import pytest
from marshmallow import ValidationError

from models import doc_ids
from models.examples import example
from models.quarantine import (device_write_record, feedback_document, quarantine_entry,
                               revision_line)
from models.registry import REGISTRY, SERVER, classify_device_document, load_document

VILLAGE = "441226100201"
NOW = "2024-05-03T08:41:07.120+00:00"


def test_derived_ids_are_deterministic_and_typed():
    request_id = example("mediation_request")["_id"]
    alert = doc_ids.alert_id(request_id)
    assert alert == f"alert:{request_id}" == doc_ids.alert_id(request_id)
    delivery = doc_ids.delivery_id(alert, "webhook", "town-441226100", 1)
    assert doc_ids.type_of_id(delivery) == "delivery"
    assert doc_ids.type_of_id(doc_ids.quarantine_id(VILLAGE, request_id, "1-a")) == \
        "quarantine_entry"
    assert doc_ids.conflict_archive_id("household:x", "3-c", "phones") == \
        "conflict:household:x:3-c:phones"
    assert doc_ids.type_of_id(doc_ids.review_task_id("duplicate_household", "household:x")) == \
        "review_task"
    assert doc_ids.audit_id("received", request_id, "1-a").startswith("audit:received:")


def test_every_server_type_is_server_owned_and_refused_from_devices():
    for name, spec in REGISTRY.items():
        if spec.owner == SERVER:
            verdict = classify_device_document({"_id": f"{spec.id_prefix}:x"}, VILLAGE)
            assert verdict.code == "server_owned_type", name


def test_a_quarantined_revision_gets_feedback_an_entry_and_a_receipt():
    visit = example("verification_visit")
    visit["verdict"] = "maybe"
    verdict = classify_device_document(visit, VILLAGE)
    feedback = load_document(feedback_document(visit, "1-abc", verdict, VILLAGE, NOW))
    entry = load_document(quarantine_entry(visit, "1-abc", verdict, VILLAGE, NOW))
    receipt = load_document(device_write_record(
        "req-1", VILLAGE, "liang.wei", NOW, {"device_id": "dev-1"},
        [revision_line(visit, "1-abc", verdict)]))
    assert feedback["_id"] == entry["feedback_id"] == f"feedback:{visit['_id']}:1-abc"
    assert feedback["problems"][0]["field"] == "verdict" and feedback["codes"] == ["invalid_choice"]
    assert entry["state"] == "open" and entry["target"]["type"] == "verification_visit"
    assert receipt["details"]["lines"][0]["verdict"] == "quarantine" and receipt["at"] == NOW
    assert receipt["details"]["lines"][0]["subject_rev"] == "1-abc"


@pytest.mark.parametrize("doc", [
    {"_id": "alert:mediation:x", "type": "alert", "schema_version": 1, "request_id": "x",
     "village_code": VILLAGE, "town_code": "441226100000", "county_code": "441226000000",
     "category": "wages", "urgency": "normal", "state": "new", "received_at": NOW,
     "created_at": NOW},
    {"_id": "delivery:a:email:b:0", "type": "delivery", "schema_version": 1, "alert_id": "a",
     "channel": "email", "recipient": "b", "idempotency_key": "delivery:a:email:b:0",
     "state": "pending", "created_at": NOW},
    {"_id": "conflict:household:x:2-a:phones", "type": "conflict_archive", "schema_version": 1,
     "village_code": VILLAGE, "doc_id": "household:x", "losing_rev": "2-a", "field": "phones",
     "losing_value": ["13800000000"], "archived_at": NOW},
    {"_id": "review:duplicate_household:household:x", "type": "review_task",
     "schema_version": 1, "kind": "duplicate_household", "subject_ids": ["household:x"],
     "state": "open", "created_at": NOW},
])
def test_server_schemas_load_their_documents(doc):
    assert load_document(doc)["_id"] == doc["_id"]
    with pytest.raises(ValidationError):
        load_document({**doc, "created_at": "yesterday", "archived_at": "yesterday"})
