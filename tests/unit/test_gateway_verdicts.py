"""What the sync gateway does with each document a device sends: accept, reject, quarantine."""
import pytest

from models import hlc
from models.doc_ids import new_doc_id, type_of_id
from models.examples import EXAMPLE_TYPES, example
from models.registry import (ACCEPT, QUARANTINE, REJECT, classify_device_document,
                             rejection_row)

VILLAGE = "441226100201"
NOW_MS = 1714700000000


def verdict_of(doc, now_ms=None):
    verdict = classify_device_document(doc, VILLAGE, now_ms=now_ms)
    return verdict.action, verdict.code


@pytest.mark.parametrize("doc_type", EXAMPLE_TYPES)
def test_valid_documents_are_accepted(doc_type):
    assert verdict_of(example(doc_type), NOW_MS) == (ACCEPT, None)


@pytest.mark.parametrize("doc, code", [
    ("not a document", "malformed_document"),
    ({"type": "household"}, "malformed_document"),
    ({"_id": 42}, "malformed_document"),
    ({"_id": "_design/evil", "views": {}}, "design_doc_forbidden"),
    ({"_id": "_users"}, "unknown_document_type"),
    ({"_id": "photo:1"}, "unknown_document_type"),
    ({"_id": "feedback:visit:1:1-a", "type": "feedback"}, "server_owned_type"),
    ({"_id": "alert:mediation:x"}, "server_owned_type"),
    ({"_id": "visit:1234"}, "doc_id_format"),
    ({"_id": "visit:FA1901D1-4642-4EE1-B070-08A6BFB5E577"}, "doc_id_format"),
])
def test_unidentifiable_or_forbidden_documents_are_rejected(doc, code):
    assert verdict_of(doc) == (REJECT, code)


def test_rejections_for_type_village_and_deletion():
    visit = example("verification_visit")
    assert verdict_of({**visit, "type": "mediation_request"}) == (REJECT, "id_type_mismatch")
    assert verdict_of({**visit, "village_code": "441226100202"}) == (REJECT, "wrong_village")
    tombstone = {"_id": visit["_id"], "_rev": "2-abc", "_deleted": True}
    assert verdict_of(tombstone) == (REJECT, "delete_forbidden")
    row = rejection_row(visit["_id"], classify_device_document(tombstone, VILLAGE), "zh")
    assert row["error"] == "forbidden" and row["reason"].startswith("delete_forbidden: ")


def test_checkpoints_are_accepted_without_validation():
    verdict = classify_device_document({"_id": "_local/abc", "last_seq": 5}, VILLAGE)
    assert verdict.action == ACCEPT and verdict.doc_type == "_local"


def test_content_errors_are_quarantined_with_every_problem():
    request = example("mediation_request")
    request["applicant"]["phone"] = "12345"
    del request["urgency"]
    verdict = classify_device_document(request, VILLAGE)
    assert verdict.action == QUARANTINE
    assert {(p["field"], p["code"]) for p in verdict.problems} == {
        ("applicant.phone", "phone_format"), ("urgency", "required")}
    assert all(set(p["message"]) == {"zh", "en"} for p in verdict.problems)


def test_missing_type_version_or_village_is_quarantined_not_rejected():
    for field in ("type", "schema_version", "village_code"):
        visit = example("verification_visit")
        del visit[field]
        assert verdict_of(visit) == (QUARANTINE, "required"), field


def test_versions_this_server_does_not_know_yet_are_kept():
    household = {**example("household"), "schema_version": 7}
    assert verdict_of(household) == (QUARANTINE, "schema_version_unsupported")


def test_old_versions_are_migrated_and_accepted():
    request = example("mediation_request")
    applicant = request.pop("applicant")
    request.pop("urgency")
    request.update(schema_version=1, applicant_name=applicant["name"],
                   applicant_phone=applicant["phone"])
    assert verdict_of(request) == (ACCEPT, None)


def test_household_stamps_from_a_clock_far_ahead_are_quarantined():
    household = example("household")
    household["field_stamps"]["notes"] = hlc.tick(NOW_MS + 3 * 24 * 3600 * 1000, None, "dev-1")
    assert verdict_of(household, NOW_MS) == (QUARANTINE, "stamp_in_future")
    assert verdict_of(household) == (ACCEPT, None)  # no server time given: not checked


@pytest.mark.parametrize("doc_type", EXAMPLE_TYPES)
def test_new_ids_identify_their_type(doc_type):
    doc = {**example(doc_type), "_id": new_doc_id(doc_type)}
    assert type_of_id(doc["_id"]) == doc_type
    assert verdict_of(doc) == (ACCEPT, None)
