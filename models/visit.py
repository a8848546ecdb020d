"""The verification visit (核查记录): one cadre's check of one household, written once by a device."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .common import PartSchema, WrittenOnceSchema, device_id, doc_ref, fen, one_of, text, username
from .household import INDICATORS, IndicatorsSchema

DOC_TYPE = "verification_visit"
VERSION = 1

# codes; their labels are in the catalogue (codes.verdict, codes.reasons, codes.photo_subject)
VERDICTS = ("pass", "fail", "follow_up")
# why a visit did not pass: a failed indicator, or one of these
REASONS = (*INDICATORS, "income_below_threshold", "income_unverified", "household_absent",
           "roster_mismatch", "documents_missing", "other")
PHOTO_SUBJECTS = ("house", "drinking_water", "household_members", "documents", "income_proof",
                  "other")


class LocationSchema(PartSchema):
    """A GPS fix (WGS 84, as the phone reports it) and its accuracy."""
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 1e5))
    fixed_at = fields.String(load_default=None, allow_none=True)


class IncomeSchema(PartSchema):
    """Income figures for the past 12 months, in fen; per capita is the one the rules use."""
    per_capita_fen = fen(required=True)
    household_size = fields.Integer(strict=True, load_default=None, allow_none=True,
                                    validate=validate.Range(1, 30))
    wages_fen = fen(load_default=None, allow_none=True)
    production_fen = fen(load_default=None, allow_none=True)
    transfers_fen = fen(load_default=None, allow_none=True)
    property_fen = fen(load_default=None, allow_none=True)


class PhotoSchema(PartSchema):
    """A photo taken as evidence: the name of an attachment of this document."""
    attachment = fields.String(required=True, validate=validate.Length(min=1, max=100))
    subject = one_of(PHOTO_SUBJECTS, required=True)
    caption = text(200, load_default=None, allow_none=True)


class VerificationVisitSchema(WrittenOnceSchema):
    """A verification visit, schema version 1."""
    DOC_TYPE = DOC_TYPE
    VERSION = VERSION

    household_id = doc_ref("household", required=True)
    cadre = username(required=True)
    device_id = device_id(required=True)
    location = fields.Nested(LocationSchema, load_default=None, allow_none=True)
    # what the cadre saw for each indicator; null = not checked on this visit
    indicators = fields.Nested(IndicatorsSchema, required=True)
    income = fields.Nested(IncomeSchema, load_default=None, allow_none=True)
    photos = fields.List(fields.Nested(PhotoSchema), load_default=list,
                         validate=validate.Length(max=20))
    verdict = one_of(tuple(VERDICTS), required=True)
    reasons = fields.List(one_of(REASONS), load_default=list)
    notes = text(2000, load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _a_verdict_other_than_pass_has_reasons(self, visit: dict, **_: Any) -> None:
        if visit.get("verdict") in ("fail", "follow_up") and not visit.get("reasons"):
            raise ValidationError("reasons_required", field_name="reasons")
        if "other" in (visit.get("reasons") or []) and not visit.get("notes"):
            raise ValidationError("notes_required", field_name="notes")


verification_visit_schema = VerificationVisitSchema()
