"""The household (建档立卡户) roster entry: the one record cadres and the central office both edit.

Every editable field carries a hybrid logical clock stamp in `field_stamps`, keyed by field path
("poverty_status", "indicators.safe_housing"), so reconciliation can merge two edits field by
field and archive the losing values. Members and phone numbers are stamped as whole lists.
"""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .common import (HlcStamp, IdNumber, PartSchema, Phone, VillageDocumentSchema, fen, one_of,
                     text)

DOC_TYPE = "household"
VERSION = 2

# the codes of the enumerated fields; their labels are in the catalogue (codes.<group>.<code>,
# models/catalogue/), read through models.messages.label
POVERTY_STATUSES = ("not_lifted", "lifted", "monitored", "at_risk", "sudden_hardship")
# 两不愁三保障 plus safe drinking water; true = secured, false = not, null = not assessed
INDICATORS = ("food_secured", "clothing_secured", "compulsory_education", "basic_medical",
              "safe_housing", "safe_drinking_water")
RELATIONS = ("head", "spouse", "child", "child_in_law", "parent", "grandparent", "grandchild",
             "sibling", "other")
SCHOOLING = ("preschool", "none", "primary", "junior_secondary", "senior_secondary",
             "vocational", "college", "in_school", "dropped_out")
HEALTH = ("healthy", "chronic_illness", "serious_illness", "long_term_care")
WORK = ("farming", "local_employment", "migrant_work", "self_employed", "public_welfare_post",
        "unemployed", "student", "unable_to_work", "retired")
# the fields a `field_stamps` entry may name: each is merged on its own
STAMPED_FIELDS = ("head", "members", "phones", "address", "income_per_capita_fen",
                  "poverty_status", "notes", *(f"indicators.{name}" for name in INDICATORS))


def _is_stamped_field(path: str) -> None:
    if path not in STAMPED_FIELDS:
        raise ValidationError("stamp_unknown_field")


class PersonSchema(PartSchema):
    """The head of household as identified on the roster."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    id_number = IdNumber(required=True)


class MemberSchema(PartSchema):
    """One member of the household."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    id_number = IdNumber(load_default=None, allow_none=True)
    relation = one_of(RELATIONS, required=True)
    age = fields.Integer(strict=True, required=True, validate=validate.Range(0, 130))
    schooling = one_of(SCHOOLING, load_default=None, allow_none=True)
    health = one_of(HEALTH, load_default=None, allow_none=True)
    # 残疾等级 1 (most severe) to 4; null = no disability
    disability_grade = fields.Integer(strict=True, load_default=None, allow_none=True,
                                      validate=validate.Range(1, 4))
    work = one_of(WORK, load_default=None, allow_none=True)


class IndicatorsSchema(PartSchema):
    """The "两不愁三保障" checks plus safe drinking water."""
    food_secured = fields.Boolean(allow_none=True, load_default=None)
    clothing_secured = fields.Boolean(allow_none=True, load_default=None)
    compulsory_education = fields.Boolean(allow_none=True, load_default=None)
    basic_medical = fields.Boolean(allow_none=True, load_default=None)
    safe_housing = fields.Boolean(allow_none=True, load_default=None)
    safe_drinking_water = fields.Boolean(allow_none=True, load_default=None)


class HouseholdSchema(VillageDocumentSchema):
    """A household roster entry, schema version 2."""
    DOC_TYPE = DOC_TYPE
    VERSION = VERSION

    head = fields.Nested(PersonSchema, required=True)
    members = fields.List(fields.Nested(MemberSchema), required=True,
                          validate=validate.Length(min=1, max=30))
    phones = fields.List(Phone(), load_default=list, validate=validate.Length(max=5))
    address = text(200, load_default=None, allow_none=True)
    income_per_capita_fen = fen(load_default=None, allow_none=True)
    poverty_status = one_of(tuple(POVERTY_STATUSES), required=True)
    indicators = fields.Nested(IndicatorsSchema, load_default=dict)
    notes = text(2000, load_default=None, allow_none=True)
    stamps = fields.Dict(keys=fields.String(validate=_is_stamped_field), values=HlcStamp(),
                         data_key="field_stamps", attribute="field_stamps", required=True)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _every_present_field_is_stamped(self, household: dict, original: Any, **_: Any) -> None:
        stamps = original.get("field_stamps") if isinstance(original, dict) else None
        if not isinstance(stamps, dict):
            return
        missing = [path for path in present_stamped_fields(household) if path not in stamps]
        if missing:
            raise ValidationError({path: ["stamp_missing"] for path in missing},
                                  field_name="field_stamps")


def present_stamped_fields(household: dict) -> list[str]:
    """The stamped field paths that hold a value (not missing, not null) in a household."""
    indicators = household.get("indicators") or {}
    paths = [path for path in STAMPED_FIELDS if not path.startswith("indicators.")
             and household.get(path) not in (None, [], {})]
    paths += [f"indicators.{name}" for name in INDICATORS if indicators.get(name) is not None]
    return paths


household_schema = HouseholdSchema()
