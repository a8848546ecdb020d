"""Fields and the base schema shared by every document type.

Validators raise ValidationError whose message is a catalogue code (models/messages.py).
Loading returns JSON-ready values (times stay ISO strings, money stays integer fen), so a loaded
document is still a CouchDB document; fields a newer app version added are kept (INCLUDE).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates

from . import hlc
from .doc_ids import is_client_id
from .hierarchy import HierarchyError, level_of
from .identity import id_number_problem, normalise_id_number, normalise_phone

# 10 million yuan in fen: far above any household income or disputed amount we will see
MAX_FEN = 10_000_000 * 100
# ASCII classes and \Z (marshmallow's Regexp uses `match`): `\d` also takes "１２" and "١٢", and
# `$` also matches before a trailing "\n" (tests/security/test_input_patterns.py)
DEVICE_ID_RE = r"[A-Za-z0-9_.:-]{1,64}\Z"
USERNAME_RE = r"[a-z0-9._-]{3,32}\Z"


class DocumentTime(fields.String):
    """An ISO 8601 date-time with an explicit UTC offset, kept as the string written."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError("time_format") from None
        if moment.tzinfo is None or "T" not in text:
            raise ValidationError("time_format")
        return text


def parse_time(value: str) -> datetime:
    """The aware datetime of an ISO 8601 time string as DocumentTime accepts it."""
    return datetime.fromisoformat(value)


class Phone(fields.String):
    """A mainland mobile number; spaces, dashes and +86 are tolerated and normalised away."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        phone = normalise_phone(super()._deserialize(value, attr, data, **kwargs))
        if phone is None:
            raise ValidationError("phone_format")
        return phone


class IdNumber(fields.String):
    """A resident identity number, checked against GB 11643 (area, birth date, check digit)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        id_number = normalise_id_number(super()._deserialize(value, attr, data, **kwargs))
        problem = id_number_problem(id_number)
        if problem:
            raise ValidationError(problem)
        return id_number


def _division_validator(level: str):
    def check(code: str) -> None:
        try:
            actual = level_of(code)
        except HierarchyError as exc:
            raise ValidationError(exc.code) from exc
        if actual != level:
            raise ValidationError("division_code_level")
    return check


def village_code(**kwargs: Any) -> fields.String:
    """A 12-digit division code that must denote a village."""
    return fields.String(validate=_division_validator("village"), **kwargs)


def doc_ref(doc_type: str, **kwargs: Any) -> fields.String:
    """The id of a client-made document of `doc_type` ("<prefix>:<uuid>")."""
    def check(doc_id: str) -> None:
        if not is_client_id(doc_id, doc_type):
            raise ValidationError("doc_id_format")
    return fields.String(validate=check, **kwargs)


def fen(**kwargs: Any) -> fields.Integer:
    """An amount of money in integer fen (1 yuan = 100 fen), never negative."""
    return fields.Integer(strict=True, validate=validate.Range(0, MAX_FEN), **kwargs)


def device_id(**kwargs: Any) -> fields.String:
    """The id a device made for itself at install time; also its clock's node id."""
    return fields.String(validate=validate.Regexp(DEVICE_ID_RE, error="device_id_format"),
                         **kwargs)


def username(**kwargs: Any) -> fields.String:
    """An account name as provisioned."""
    return fields.String(validate=validate.Regexp(USERNAME_RE, error="username_format"), **kwargs)


def text(max_length: int, **kwargs: Any) -> fields.String:
    """Free text up to `max_length` characters."""
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def one_of(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    """One of a fixed set of codes."""
    return fields.String(validate=validate.OneOf(choices), **kwargs)


class HlcStamp(fields.String):
    """A hybrid logical clock stamp (models/hlc.py)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        stamp = super()._deserialize(value, attr, data, **kwargs)
        if not hlc.is_stamp(stamp):
            raise ValidationError("stamp_format")
        return stamp


class PartSchema(Schema):
    """A nested part of a document; unknown keys are kept, as on documents."""

    class Meta:
        unknown = INCLUDE


class DocumentSchema(PartSchema):
    """Fields every stored document has: CouchDB id and rev, type and schema version."""
    DOC_TYPE = ""
    VERSION = 1

    id = fields.String(data_key="_id", attribute="_id", required=True)
    rev = fields.String(data_key="_rev", attribute="_rev")
    type = fields.String(required=True)
    schema_version = fields.Integer(required=True, strict=True)
    # values from older versions that have no place in this one (see models/migrations.py)
    legacy = fields.Dict()

    @validates("type")
    def _type_is_this_one(self, value: str, **_: Any) -> None:
        if value != self.DOC_TYPE:
            raise ValidationError("id_type_mismatch")

    @validates("schema_version")
    def _version_is_current(self, value: int, **_: Any) -> None:
        if value != self.VERSION:  # older versions are migrated before validation
            raise ValidationError("schema_version_unsupported")


class VillageDocumentSchema(DocumentSchema):
    """A document made on a device or by an official: client-made id, the village it is in."""

    village_code = village_code(required=True)

    @validates("id")
    def _id_is_client_made(self, value: str, **_: Any) -> None:
        if not is_client_id(value, self.DOC_TYPE):
            raise ValidationError("doc_id_format")


class WrittenOnceSchema(VillageDocumentSchema):
    """A record written once by its author; `recorded_at` is the author's clock, never trusted
    for ordering (the server's receipt time is in its own audit entry)."""

    recorded_at = DocumentTime(required=True)
