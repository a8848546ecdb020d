"""Documents only the server writes: alerts, deliveries, feedback, quarantine entries, conflict
archives, review tasks and audit entries. Ids are derived (models/doc_ids.py), never random, so
a retried write is a 409 rather than a duplicate. Times are server clock, ISO 8601 with offset.
"""
from __future__ import annotations

from marshmallow import fields, validate

from .common import DocumentSchema, DocumentTime, PartSchema, one_of, text

ALERT_STATES = ("new", "alerted", "acknowledged", "resolved")
DELIVERY_CHANNELS = ("inbox", "webhook", "email")
DELIVERY_STATES = ("pending", "delivered", "sent", "failed", "dead")
SEVERITIES = ("error", "warning", "info")
QUARANTINE_STATES = ("open", "resolved", "superseded")
REVIEW_KINDS = ("household_disagreement", "duplicate_household", "quarantine",
                "failed_indicators", "case_outcome_conflict", "photo_reuse",
                "near_duplicate_household")
REVIEW_STATES = ("open", "decided", "dismissed")


def _optional_time() -> DocumentTime:
    return DocumentTime(load_default=None, allow_none=True)


class ProblemSchema(PartSchema):
    """One validation problem as models.validation.describe_errors lists it."""
    field = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class TargetSchema(PartSchema):
    """The revision of a device document some server document is about."""
    id = fields.String(required=True)
    rev = fields.String(required=True)
    type = fields.String(load_default=None, allow_none=True)


class AlertSchema(DocumentSchema):
    """The alert a mediation request raises for the officials of its town."""
    DOC_TYPE = "alert"
    request_id = fields.String(required=True)
    village_code = fields.String(required=True)
    town_code = fields.String(required=True)
    county_code = fields.String(required=True)
    category = fields.String(required=True)
    urgency = fields.String(required=True)
    state = one_of(ALERT_STATES, required=True)
    escalation_level = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 5))
    recorded_at = _optional_time()        # the device's clock, for display only
    received_at = DocumentTime(required=True)
    created_at = DocumentTime(required=True)
    alerted_at = _optional_time()
    acknowledged_at = _optional_time()
    acknowledged_by = fields.String(load_default=None, allow_none=True)
    resolved_at = _optional_time()
    next_escalation_at = _optional_time()
    # the alert path (docs/alerts.md)
    delivered_at = _optional_time()       # first successful webhook/e-mail delivery
    resolved_by = fields.String(load_default=None, allow_none=True)
    outcome = fields.String(load_default=None, allow_none=True)
    detected_by = one_of(("gateway", "sweep"), load_default="gateway")
    steps = fields.Dict(keys=fields.String(), values=fields.Dict(), load_default=dict)
    history = fields.List(fields.Dict(), load_default=list)


class DeliverySchema(DocumentSchema):
    """One message of the outbox: an alert to one recipient over one channel."""
    DOC_TYPE = "delivery"
    alert_id = fields.String(required=True)
    channel = one_of(DELIVERY_CHANNELS, required=True)
    recipient = fields.String(required=True)
    escalation_level = fields.Integer(strict=True, load_default=0)
    idempotency_key = fields.String(required=True)
    state = one_of(DELIVERY_STATES, required=True)
    attempts = fields.Integer(strict=True, load_default=0, validate=validate.Range(0))
    next_attempt_at = _optional_time()
    last_error = text(1000, load_default=None, allow_none=True)
    created_at = DocumentTime(required=True)
    delivered_at = _optional_time()
    step = fields.Integer(strict=True, load_default=0)
    lease_until = _optional_time()        # a claim by one worker (outbox leases)
    leased_by = fields.String(load_default=None, allow_none=True)
    dead_at = _optional_time()


class FeedbackSchema(DocumentSchema):
    """Feedback to the cadre, written into the village database next to the document it is about."""
    DOC_TYPE = "feedback"
    village_code = fields.String(required=True)
    target = fields.Nested(TargetSchema, required=True)
    severity = one_of(SEVERITIES, required=True)
    codes = fields.List(fields.String(), required=True)
    problems = fields.List(fields.Nested(ProblemSchema), load_default=list)
    created_at = DocumentTime(required=True)
    resolved_at = _optional_time()  # set when a later revision of the target passes


class QuarantineEntrySchema(DocumentSchema):
    """A stored document revision that failed validation, as the central office lists it."""
    DOC_TYPE = "quarantine_entry"
    village_code = fields.String(required=True)
    target = fields.Nested(TargetSchema, required=True)
    codes = fields.List(fields.String(), required=True)
    problems = fields.List(fields.Nested(ProblemSchema), load_default=list)
    state = one_of(QUARANTINE_STATES, required=True)
    feedback_id = fields.String(required=True)
    received_at = DocumentTime(required=True)
    resolved_at = _optional_time()
    resolved_by = fields.String(load_default=None, allow_none=True)


class ConflictArchiveSchema(DocumentSchema):
    """A value that lost a merge (a whole revision, or one household field), kept forever."""
    DOC_TYPE = "conflict_archive"
    village_code = fields.String(required=True)
    doc_id = fields.String(required=True)
    losing_rev = fields.String(required=True)
    field = fields.String(load_default=None, allow_none=True)
    losing_value = fields.Raw(load_default=None, allow_none=True)
    losing_stamp = fields.String(load_default=None, allow_none=True)
    winning_rev = fields.String(load_default=None, allow_none=True)
    winning_stamp = fields.String(load_default=None, allow_none=True)
    archived_at = DocumentTime(required=True)


class ReviewTaskSchema(DocumentSchema):
    """Something a person at the central office has to decide."""
    DOC_TYPE = "review_task"
    kind = one_of(REVIEW_KINDS, required=True)
    subject_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    village_code = fields.String(load_default=None, allow_none=True)
    state = one_of(REVIEW_STATES, required=True)
    created_at = DocumentTime(required=True)
    assigned_to = fields.String(load_default=None, allow_none=True)
    decided_at = _optional_time()
    decided_by = fields.String(load_default=None, allow_none=True)
    decision = fields.Dict(load_default=None, allow_none=True)
    notes = text(2000, load_default=None, allow_none=True)


class AuditEntrySchema(DocumentSchema):
    """Who did what to which document, when (server clock); includes each document's receipt."""
    DOC_TYPE = "audit_entry"
    action = fields.String(required=True)
    actor = fields.String(required=True)
    subject_id = fields.String(required=True)
    subject_rev = fields.String(load_default=None, allow_none=True)
    village_code = fields.String(load_default=None, allow_none=True)
    at = DocumentTime(required=True)
    details = fields.Dict(load_default=dict)


alert_schema = AlertSchema()
delivery_schema = DeliverySchema()
feedback_schema = FeedbackSchema()
quarantine_entry_schema = QuarantineEntrySchema()
conflict_archive_schema = ConflictArchiveSchema()
review_task_schema = ReviewTaskSchema()
audit_entry_schema = AuditEntrySchema()
