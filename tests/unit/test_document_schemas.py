"""Schemas of the device-written documents, and the bilingual, flat error descriptions."""
import json
import pathlib
import re
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st
from marshmallow import ValidationError

from models import hlc
from models.examples import EXAMPLE_TYPES, example
from models.household import (HEALTH, INDICATORS, POVERTY_STATUSES, RELATIONS, SCHOOLING, WORK,
                              present_stamped_fields)
from models.identity import check_character
from models.messages import Coded
from models.registry import REGISTRY, load_document, load_input, validation_problems
from models.validation import code_of, describe_errors

FAST = settings(max_examples=60, deadline=None)
def codes_by_field(doc: dict) -> dict[str, str]:
    return {problem["field"]: problem["code"]
            for problem in validation_problems(doc, doc["type"])}


@pytest.mark.parametrize("doc_type", EXAMPLE_TYPES)
def test_examples_are_valid_current_documents(doc_type):
    doc = example(doc_type)
    assert doc["schema_version"] == REGISTRY[doc_type].version
    assert validation_problems(doc, doc_type) == []
    assert load_document(doc)["_id"] == doc["_id"]


@pytest.mark.parametrize("doc_type", EXAMPLE_TYPES)
def test_fields_from_newer_apps_are_kept_at_every_depth(doc_type):
    doc = example(doc_type)
    doc["added_in_v9"] = {"x": [1, 2]}
    part = next(value for value in doc.values() if isinstance(value, dict))
    part["nested_new"] = "kept"
    loaded = load_document(doc)
    assert loaded["added_in_v9"] == {"x": [1, 2]}
    assert any(isinstance(value, dict) and value.get("nested_new") == "kept"
               for value in loaded.values())


def test_api_input_refuses_unknown_fields_at_any_depth():
    request = example("mediation_request")
    request["applicant"]["nickname"] = "x"
    request["surprise"] = 1
    with pytest.raises(ValidationError) as raised:
        load_input("mediation_request", request)
    fields = {(p["field"], p["code"]) for p in describe_errors(raised.value.messages)}
    assert fields == {("applicant.nickname", "unknown_field"), ("surprise", "unknown_field")}


def test_household_errors_name_the_field_and_the_rule():
    household = example("household")
    household["members"][1]["id_number"] = "441226198005062425"
    household["phones"] = ["138 0226 1234", "0758-2221234"]
    household["income_per_capita_fen"] = 8650.5
    household["members"][0]["age"] = 140
    del household["poverty_status"]
    assert codes_by_field(household) == {
        "members.1.id_number": "id_number_checksum",
        "phones.1": "phone_format",
        "income_per_capita_fen": "invalid_type",
        "members.0.age": "out_of_range",
        "poverty_status": "required",
    }


def test_household_stamps_are_checked():
    household = example("household")
    household["field_stamps"]["indicators.safe_housing"] = "yesterday"
    del household["field_stamps"]["phones"]
    household["field_stamps"]["phone"] = hlc.MIGRATED
    assert codes_by_field(household) == {"field_stamps.indicators.safe_housing": "stamp_format",
                                         "field_stamps.phones": "stamp_missing",
                                         "field_stamps.phone": "stamp_unknown_field"}


def test_phones_and_id_numbers_are_read_normalised():
    household = example("household")
    household["phones"] = ["+86 138-0226-1234"]
    household["head"]["id_number"] = "11010519491231002x"
    loaded = load_document(household)
    assert loaded["phones"] == ["13802261234"]
    assert loaded["head"]["id_number"] == "11010519491231002X"


def test_visit_rules():
    visit = example("verification_visit")
    visit["reasons"] = []
    visit["recorded_at"] = "2024-05-02 10:15"
    visit["location"]["lat"] = 123.0
    visit["household_id"] = "visit:fa1901d1-4642-4ee1-b070-08a6bfb5e577"
    assert codes_by_field(visit) == {"reasons": "reasons_required", "recorded_at": "time_format",
                                     "location.lat": "out_of_range",
                                     "household_id": "doc_id_format"}
    visit = example("verification_visit")
    visit["recorded_at"] = "2024-05-02T10:15:00"  # no offset: which clock?
    visit["reasons"] = ["other"]
    visit["notes"] = ""
    assert codes_by_field(visit) == {"recorded_at": "time_format", "notes": "notes_required"}


def test_mediation_and_case_event_rules():
    request = example("mediation_request")
    request["source"] = {"channel": "cadre_device"}
    request["category"] = "邻里纠纷"
    request["description"] = ""
    assert codes_by_field(request) == {"source.device_id": "required", "source.cadre": "required",
                                       "category": "invalid_choice", "description": "length_range"}
    event = example("case_event")
    event["mediator"] = None
    event["request_id"] = "mediation:not-a-uuid"
    assert codes_by_field(event) == {"mediator": "required", "request_id": "doc_id_format"}


def test_describe_errors_is_bilingual_or_in_one_language():
    problems = describe_errors({"a": {"0": {"b": ["Missing data for required field."]}},
                                "_schema": ["id_number_checksum"]})
    assert problems[0]["field"] == "a.0.b" and problems[0]["code"] == "required"
    assert set(problems[0]["message"]) == {"zh", "en"}
    assert problems[1]["field"] == ""
    assert describe_errors({"x": ["Unknown field."]}, lang="en")[0]["message"] == "Unknown field"
    assert code_of("Must be one of: a, b.") == ("invalid_choice", {"choices": "a, b"})
    assert code_of("Not a valid integer.")[0] == "invalid_type"
    assert code_of("something new")[0] == "invalid"


# --- generated households: whatever a well-behaved device writes is valid ----------------------

def _id_number(born: date, sequence: int) -> str:
    first17 = f"441226{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


id_numbers = st.builds(_id_number, st.dates(date(1930, 1, 1), date(2023, 12, 31)),
                       st.integers(0, 999))
names = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=4)
members = st.fixed_dictionaries({
    "name": names, "id_number": st.one_of(st.none(), id_numbers),
    "relation": st.sampled_from(RELATIONS), "age": st.integers(0, 100),
    "schooling": st.sampled_from(SCHOOLING), "health": st.sampled_from(HEALTH),
    "disability_grade": st.one_of(st.none(), st.integers(1, 4)), "work": st.sampled_from(WORK)})
households = st.fixed_dictionaries({
    "head": st.fixed_dictionaries({"name": names, "id_number": id_numbers}),
    "members": st.lists(members, min_size=1, max_size=6),
    "phones": st.lists(st.from_regex(r"\A1[3-9][0-9]{9}\Z"), max_size=3),
    "income_per_capita_fen": st.one_of(st.none(), st.integers(0, 10 ** 8)),
    "poverty_status": st.sampled_from(sorted(POVERTY_STATUSES)),
    "indicators": st.fixed_dictionaries({name: st.one_of(st.none(), st.booleans())
                                         for name in INDICATORS}),
})


def _stamped(content: dict) -> dict:
    household = {**example("household"), **content}
    household.pop("address"), household.pop("notes")
    household["field_stamps"] = {}
    for index, path in enumerate(present_stamped_fields(household)):
        household["field_stamps"][path] = hlc.tick(1714525200000 + index, None, "dev-1")
    return household


@FAST
@given(households)
def test_any_household_a_device_builds_by_the_contract_is_valid(content):
    assert validation_problems(_stamped(content), "household") == []


@FAST
@given(households, st.data())
def test_a_wrong_check_digit_anywhere_is_reported_at_its_path(content, data):
    household = _stamped(content)
    people = [("head", household["head"])] + [
        (f"members.{index}", member) for index, member in enumerate(household["members"])
        if member["id_number"]]
    path, person = data.draw(st.sampled_from(people))
    right = person["id_number"][-1]
    person["id_number"] = person["id_number"][:17] + ("0" if right != "0" else "1")
    problems = validation_problems(household, "household")
    assert {"field": f"{path}.id_number", "code": "id_number_checksum"} in [
        {"field": problem["field"], "code": problem["code"]} for problem in problems]


def test_coded_messages_keep_their_parameters():
    problem = describe_errors({"level": [Coded("division_code_level", code="4412", level="town")]})
    assert problem[0]["code"] == "division_code_level"
    assert "4412" in problem[0]["message"]["en"] and problem[0]["params"]["level"] == "town"


def test_the_device_contract_shows_the_examples_as_they_are():
    contract = (pathlib.Path(__file__).parents[2] / "docs" / "device-contract.md").read_text(
        encoding="utf-8")
    shown = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", contract, re.S)]
    for doc_type in EXAMPLE_TYPES:
        assert example(doc_type) in shown, doc_type
