"""A case event: one step in handling a mediation request, written once by whoever took it."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .common import PartSchema, Phone, WrittenOnceSchema, doc_ref, one_of, text

DOC_TYPE = "case_event"
VERSION = 1

# codes; their labels are in the catalogue (codes.kind, codes.role, codes.referred_to)
KINDS = ("contacted", "mediator_assigned", "session_held", "agreement_reached", "failed", "referred")
ROLES = ("cadre", "official", "mediator", "system")
REFERRAL_TARGETS = ("court", "police", "petition_office", "labour_arbitration", "other_office")


class ActorSchema(PartSchema):
    """Who recorded the event: an account, and the device if it was recorded on one."""
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = one_of(ROLES, required=True)
    device_id = fields.String(load_default=None, allow_none=True)


class MediatorSchema(PartSchema):
    """The mediator assigned to a case."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = Phone(load_default=None, allow_none=True)
    username = fields.String(load_default=None, allow_none=True)


class CaseEventSchema(WrittenOnceSchema):
    """A case event, schema version 1; `recorded_at` is when it happened by the author's clock."""
    DOC_TYPE = DOC_TYPE
    VERSION = VERSION

    request_id = doc_ref("mediation_request", required=True)
    kind = one_of(tuple(KINDS), required=True)
    actor = fields.Nested(ActorSchema, required=True)
    mediator = fields.Nested(MediatorSchema, load_default=None, allow_none=True)
    referred_to = one_of(tuple(REFERRAL_TARGETS), load_default=None, allow_none=True)
    notes = text(2000, load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _kind_specific_fields(self, event: dict, **_: Any) -> None:
        if event.get("kind") == "mediator_assigned" and not event.get("mediator"):
            raise ValidationError("required", field_name="mediator")
        if event.get("kind") == "referred" and not event.get("referred_to"):
            raise ValidationError("required", field_name="referred_to")


case_event_schema = CaseEventSchema()
