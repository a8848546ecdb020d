"""Migrations from every schema version still in the field to the current one.

A migration is a pure function from a document of version N to version N+1, registered per
(type, N). It never drops a value: whatever the new version has no place for, or stores
differently, is copied verbatim under `legacy["v<N>"]`, so the old document can always be
rebuilt. Unknown fields (from apps newer than this server) pass through untouched.
"""
from __future__ import annotations

import copy
from typing import Callable

from . import hlc
from .household import present_stamped_fields
from .identity import normalise_phone

Migration = Callable[[dict], dict]
MIGRATIONS: dict[tuple[str, int], Migration] = {}


class MigrationError(ValueError):
    """A document cannot be brought to the current version; `code` names the message."""

    def __init__(self, code: str, field: str = "schema_version"):
        self.code, self.field = code, field
        super().__init__(f"{field}: {code}")


def migration(doc_type: str, from_version: int) -> Callable[[Migration], Migration]:
    """Register a function as the migration of `doc_type` from `from_version`."""
    def register(function: Migration) -> Migration:
        MIGRATIONS[(doc_type, from_version)] = function
        return function
    return register


def _keep(doc: dict, version: int, *names: str) -> dict:
    """Move `names` out of `doc` into legacy["v<version>"], returning the moved values."""
    moved = {name: doc.pop(name) for name in names if name in doc}
    if moved:
        legacy = doc.setdefault("legacy", {})
        legacy.setdefault(f"v{version}", {}).update(copy.deepcopy(moved))
    return moved


def upgrade(doc: dict, current_version: int) -> dict:
    """`doc` migrated to `current_version` (a copy; `doc` itself when it is already current, so
    callers must not modify the result); raises MigrationError if it cannot be."""
    version = doc.get("schema_version")
    if "schema_version" not in doc:
        raise MigrationError("required")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MigrationError("invalid_type")
    if version > current_version:
        raise MigrationError("schema_version_unsupported")
    if version == current_version:
        return doc  # the common case: no copy of a document that may carry photos
    upgraded = copy.deepcopy(doc)
    while upgraded["schema_version"] < current_version:
        step = MIGRATIONS.get((upgraded.get("type"), upgraded["schema_version"]))
        if step is None:
            raise MigrationError("schema_version_unsupported")
        upgraded = step(upgraded)
    return upgraded


@migration("household", 1)
def household_v1_to_v2(doc: dict) -> dict:
    """v1 had one `phone` string and `income`, the household's total in yuan, and no stamps."""
    moved = _keep(doc, 1, "phone", "income")
    phone = normalise_phone(moved.get("phone")) if moved.get("phone") else None
    doc["phones"] = [phone] if phone else []
    members = doc.get("members")
    income = moved.get("income")
    if isinstance(income, (int, float)) and not isinstance(income, bool) and income >= 0 \
            and isinstance(members, list) and members:
        doc["income_per_capita_fen"] = round(income * 100 / len(members))
    # values from before stamps existed lose any merge against a real edit
    stamps = doc.setdefault("field_stamps", {})
    for path in present_stamped_fields(doc):
        stamps.setdefault(path, hlc.MIGRATED)
    doc["schema_version"] = 2
    return doc


@migration("mediation_request", 1)
def mediation_request_v1_to_v2(doc: dict) -> dict:
    """v1 had flat `applicant_name`/`applicant_phone`, `amount` in yuan and no urgency."""
    moved = _keep(doc, 1, "applicant_name", "applicant_phone", "amount")
    applicant = doc.setdefault("applicant", {})
    if isinstance(applicant, dict):
        if "applicant_name" in moved:
            applicant.setdefault("name", moved["applicant_name"])
        if "applicant_phone" in moved:
            phone = moved["applicant_phone"]
            applicant.setdefault("phone", normalise_phone(phone) or phone)
    amount = moved.get("amount")
    if isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount >= 0:
        doc.setdefault("amount_in_dispute_fen", round(amount * 100))
    doc.setdefault("urgency", "normal")  # v1 apps had no way to flag urgency
    doc["schema_version"] = 2
    return doc
