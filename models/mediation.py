"""The mediation request (矛盾调解申请): filed on a cadre's device or online by a villager."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .common import (IdNumber, PartSchema, Phone, WrittenOnceSchema, device_id, fen, one_of,
                     text, username)

DOC_TYPE = "mediation_request"
VERSION = 2

# codes; their labels are in the catalogue (codes.category, codes.urgency)
CATEGORIES = ("neighbourhood", "land_forest", "marriage_family", "damages", "wages", "contract",
              "housing_construction", "other")
URGENCIES = ("normal", "urgent", "critical")
CHANNELS = ("cadre_device", "villager_online")


class ApplicantSchema(PartSchema):
    """The person asking for mediation and how to call them back."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = Phone(required=True)
    id_number = IdNumber(load_default=None, allow_none=True)


class PartySchema(PartSchema):
    """Another party to the dispute."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = Phone(load_default=None, allow_none=True)
    relation = text(32, load_default=None, allow_none=True)


class SourceSchema(PartSchema):
    """Where the request was filed: a cadre's device, or a villager's phone online."""
    channel = one_of(CHANNELS, required=True)
    device_id = device_id(load_default=None, allow_none=True)
    cadre = username(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _a_device_request_names_device_and_cadre(self, source: dict, **_: Any) -> None:
        if source.get("channel") == "cadre_device":
            missing = [name for name in ("device_id", "cadre") if not source.get(name)]
            if missing:
                raise ValidationError({name: ["required"] for name in missing})


class MediationRequestSchema(WrittenOnceSchema):
    """A mediation request, schema version 2."""
    DOC_TYPE = DOC_TYPE
    VERSION = VERSION

    applicant = fields.Nested(ApplicantSchema, required=True)
    other_parties = fields.List(fields.Nested(PartySchema), load_default=list,
                                validate=validate.Length(max=20))
    category = one_of(tuple(CATEGORIES), required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    amount_in_dispute_fen = fen(load_default=None, allow_none=True)
    urgency = one_of(tuple(URGENCIES), required=True)
    source = fields.Nested(SourceSchema, required=True)


mediation_request_schema = MediationRequestSchema()
