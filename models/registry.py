"""Every document type in one table, and the gateway's verdict on a document a device sends.

A new document type is a schema module plus one line in REGISTRY. The rules for what is
rejected (the device is told, nothing stored) and what is quarantined (stored, flagged, and the
cadre gets a feedback document) are explained in docs/validation-rules.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import RAISE, Schema, ValidationError

from . import hlc
from .case_event import case_event_schema
from .doc_ids import PREFIXES, is_client_id, type_of_id
from .household import household_schema
from .mediation import mediation_request_schema
from .messages import both, message
from .migrations import MIGRATIONS, MigrationError, upgrade
from .server_docs import (alert_schema, audit_entry_schema, conflict_archive_schema,
                          delivery_schema, feedback_schema, quarantine_entry_schema,
                          review_task_schema)
from .validation import describe_errors, unknown_fields
from .visit import verification_visit_schema

DEVICE, SHARED, SERVER = "device", "shared", "server"
ACCEPT, REJECT, QUARANTINE = "accept", "reject", "quarantine"


@dataclass(frozen=True)
class DocumentType:
    """A document type: its schema, current version, who may write it, its id prefix."""
    name: str
    schema: Schema
    owner: str  # device: written once by its author; shared: cadres and office; server: server

    @property
    def version(self) -> int:
        """The current schema version."""
        return self.schema.VERSION

    @property
    def id_prefix(self) -> str:
        """What ids of this type start with, before the colon."""
        return PREFIXES[self.name]

    @property
    def migrations(self) -> dict[int, object]:
        """The registered migrations, by the version they migrate from."""
        return {version: step for (name, version), step in MIGRATIONS.items() if name == self.name}


REGISTRY: dict[str, DocumentType] = {spec.name: spec for spec in (
    DocumentType("household", household_schema, SHARED),
    DocumentType("verification_visit", verification_visit_schema, DEVICE),
    DocumentType("mediation_request", mediation_request_schema, DEVICE),
    DocumentType("case_event", case_event_schema, DEVICE),
    DocumentType("feedback", feedback_schema, SERVER),
    DocumentType("alert", alert_schema, SERVER),
    DocumentType("delivery", delivery_schema, SERVER),
    DocumentType("quarantine_entry", quarantine_entry_schema, SERVER),
    DocumentType("conflict_archive", conflict_archive_schema, SERVER),
    DocumentType("review_task", review_task_schema, SERVER),
    DocumentType("audit_entry", audit_entry_schema, SERVER),
)}
DEVICE_WRITABLE = frozenset(name for name, spec in REGISTRY.items() if spec.owner != SERVER)


@dataclass(frozen=True)
class Verdict:
    """The gateway's decision on one document: accept, reject (tell the device) or quarantine."""
    action: str
    doc_type: str | None = None
    code: str | None = None
    problems: tuple[dict, ...] = field(default=())

    @property
    def accepted(self) -> bool:
        """Whether the document may be stored without remark."""
        return self.action == ACCEPT

    @property
    def codes(self) -> list[str]:
        """The distinct problem codes, the verdict's own code first."""
        found = [self.code] if self.code else []
        return list(dict.fromkeys(found + [problem["code"] for problem in self.problems]))


def _reject(code: str, doc_type: str | None = None, field_path: str = "_id") -> Verdict:
    problem = {"field": field_path, "code": code, "message": both(code)}
    return Verdict(REJECT, doc_type, code, (problem,))


def _quarantine(doc_type: str, problems: list[dict]) -> Verdict:
    return Verdict(QUARANTINE, doc_type, problems[0]["code"], tuple(problems))


def validation_problems(doc: dict, doc_type: str) -> list[dict]:
    """Problems with a document of a known type after migrating it (empty when it is valid)."""
    spec = REGISTRY[doc_type]
    try:
        upgraded = upgrade(doc, spec.version)
    except MigrationError as exc:
        return describe_errors({exc.field: [exc.code]})
    return describe_errors(spec.schema.validate(upgraded))


def classify_device_document(doc: object, village_code: str, now_ms: int | None = None
                             ) -> Verdict:
    """Accept, reject or quarantine one document a device wrote to `village_code`'s database."""
    doc_id = doc.get("_id") if isinstance(doc, dict) else None
    if not isinstance(doc_id, str) or not doc_id:
        return _reject("malformed_document", field_path="")
    if doc_id.startswith("_design/"):
        return _reject("design_doc_forbidden")
    if doc_id.startswith("_local/"):
        return Verdict(ACCEPT, "_local")  # replication checkpoint: the device's own business
    doc_type = type_of_id(doc_id)
    if doc_type is None:
        return _reject("unknown_document_type")
    if REGISTRY[doc_type].owner == SERVER:
        return _reject("server_owned_type", doc_type)
    if doc.get("_deleted"):
        return _reject("delete_forbidden", doc_type)
    if not is_client_id(doc_id, doc_type):
        return _reject("doc_id_format", doc_type)
    if "type" in doc and doc["type"] != doc_type:
        return _reject("id_type_mismatch", doc_type, "type")
    if isinstance(doc.get("village_code"), str) and doc["village_code"] != village_code:
        return _reject("wrong_village", doc_type, "village_code")
    problems = validation_problems(doc, doc_type)
    if not problems and now_ms is not None and doc_type == "household":
        problems = future_stamp_problems(doc, now_ms)
    return _quarantine(doc_type, problems) if problems else Verdict(ACCEPT, doc_type)


def future_stamp_problems(household: dict, now_ms: int) -> list[dict]:
    """Problems for field stamps more than a day ahead of the server clock (a wrong phone clock)."""
    stamps = household.get("field_stamps") or {}
    return [{"field": f"field_stamps.{path}", "code": "stamp_in_future",
             "message": both("stamp_in_future")}
            for path, stamp in sorted(stamps.items())
            if hlc.is_stamp(stamp) and hlc.is_ahead(stamp, now_ms)]


def load_document(doc: dict) -> dict:
    """A stored document of any type, migrated to its current version and validated, unknown
    fields kept; raises ValidationError (catalogue codes) if it is not valid."""
    doc_type = type_of_id(doc.get("_id", "")) or doc.get("type")
    if doc_type not in REGISTRY:
        raise ValidationError({"_id": ["unknown_document_type"]})
    spec = REGISTRY[doc_type]
    try:
        upgraded = upgrade(doc, spec.version)
    except MigrationError as exc:
        raise ValidationError({exc.field: [exc.code]}) from exc
    return spec.schema.load(upgraded)


def load_input(doc_type: str, payload: dict) -> dict:
    """API input of the current version: like load_document, but unknown keys at any depth fail."""
    spec = REGISTRY[doc_type]
    errors = unknown_fields(spec.schema, payload)
    try:
        loaded = spec.schema.load(payload, unknown=RAISE)
    except ValidationError as exc:
        errors = _merge(exc.messages, errors)
        raise ValidationError(errors) from exc
    if errors:
        raise ValidationError(errors)
    return loaded


def _merge(left: dict, right: dict) -> dict:
    merged = dict(left)
    for key, value in right.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _merge(merged[key], value)
        elif key not in merged:
            merged[key] = value
    return merged


def rejection_row(doc_id: str, verdict: Verdict, lang: str | None = None) -> dict:
    """The per-document error row for a `_bulk_docs` answer; PouchDB shows it as "denied"."""
    reason = "; ".join(f"{problem['field'] or '-'}: {message(problem['code'], lang)}"
                       for problem in verdict.problems)
    return {"id": doc_id, "error": "forbidden", "reason": f"{verdict.code}: {reason}"}
