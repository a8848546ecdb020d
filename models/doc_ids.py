"""Document ids: a type prefix, a colon, then a client-made UUID or a server-derived key.

Devices make ids offline as "<prefix>:<uuid>" with a random (v4) or time-ordered (v7) UUID in
lower-case canonical form: 122 random bits, so two phones never collide without talking.
Server documents derive their ids from what they are about (an alert from its request id), so
a retry or a second worker gets a 409 conflict instead of a duplicate.
"""
from __future__ import annotations

import re
import uuid

# document type -> id prefix; the prefix is how the gateway tells a type from an id alone
PREFIXES: dict[str, str] = {
    "household": "household",
    "verification_visit": "visit",
    "mediation_request": "mediation",
    "case_event": "case_event",
    "feedback": "feedback",
    "alert": "alert",
    "delivery": "delivery",
    "quarantine_entry": "quarantine",
    "conflict_archive": "conflict",
    "review_task": "review",
    "audit_entry": "audit",
}
TYPES_BY_PREFIX = {prefix: doc_type for doc_type, prefix in PREFIXES.items()}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def new_doc_id(doc_type: str) -> str:
    """A fresh collision-free id for a client-made document of `doc_type`."""
    return f"{PREFIXES[doc_type]}:{uuid.uuid4()}"


def type_of_id(doc_id: str) -> str | None:
    """The document type an id's prefix names, or None for an unknown prefix."""
    prefix, sep, _ = doc_id.partition(":") if isinstance(doc_id, str) else ("", "", "")
    return TYPES_BY_PREFIX.get(prefix) if sep else None


def is_client_id(doc_id: str, doc_type: str) -> bool:
    """Whether `doc_id` is "<prefix of doc_type>:<canonical lower-case uuid>"."""
    prefix, sep, key = doc_id.partition(":") if isinstance(doc_id, str) else ("", "", "")
    # fullmatch, not `$`: a `$` pattern also matches the key with a "\n" after it
    return bool(sep) and prefix == PREFIXES.get(doc_type) and UUID_RE.fullmatch(key) is not None


def _derived(doc_type: str, *parts: object) -> str:
    return ":".join([PREFIXES[doc_type], *(str(part) for part in parts)])


def feedback_id(target_id: str, target_rev: str) -> str:
    """The feedback document about one revision of a device document."""
    return _derived("feedback", target_id, target_rev)


def alert_id(request_id: str) -> str:
    """The one alert a mediation request raises."""
    return _derived("alert", request_id)


def delivery_id(alert_doc_id: str, channel: str, recipient: str, escalation_level: int) -> str:
    """One delivery of an alert to one recipient over one channel at one escalation level."""
    return _derived("delivery", alert_doc_id, channel, recipient, escalation_level)


def quarantine_id(village_code: str, doc_id: str, doc_rev: str) -> str:
    """The quarantine entry for one revision of a document that failed validation."""
    return _derived("quarantine_entry", village_code, doc_id, doc_rev)


def conflict_archive_id(doc_id: str, losing_rev: str, field: str | None = None) -> str:
    """The archive of a losing revision, or of one losing field value of a merged household."""
    return _derived("conflict_archive", doc_id, losing_rev, *([field] if field else []))


def review_task_id(kind: str, subject_id: str) -> str:
    """The one open review task of `kind` about a subject document."""
    return _derived("review_task", kind, subject_id)


def audit_id(action: str, subject_id: str, discriminator: str) -> str:
    """An audit entry; `discriminator` (a rev, a timestamp) makes repeated actions distinct."""
    return _derived("audit_entry", action, subject_id, discriminator)
