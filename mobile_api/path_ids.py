"""Ids taken from a Flask route's decoded path, checked by the device contract before use.

Flask hands views the path already percent-decoded, so `/api/v1/photos/<v>/%2E%2E/<name>` gives
a document id of `..`. Every id a view passes on towards CouchDB is checked here first, by the
rules of the sync gateway's closed grammar (sync/gateway/paths.py: village codes, document ids
by the device contract, attachment names), and refused with 400 before any upstream call.
"""
from __future__ import annotations

from mobile_api.errors import ApiError
from sync.gateway.paths import VILLAGE_RE, PathRefused, target_of


def checked_village(village: str) -> str:
    """A village code: 12 ASCII digits (400 `division_code_format`)."""
    if not (village.isascii() and VILLAGE_RE.fullmatch(village)):
        raise ApiError(400, "division_code_format")
    return village


def checked_document(village: str, doc_id: str, attachment: str | None = None) -> None:
    """A village, a document id of the device contract and, if given, an attachment name
    (400 `division_code_format`, `bad_doc_id`, `bad_attachment_name` or `bad_sync_path`)."""
    checked_village(village)
    if doc_id.startswith("_"):  # `_changes`, `_local`, `_design`...: never a device's document
        raise ApiError(400, "bad_doc_id")
    try:
        target_of([doc_id] if attachment is None else [doc_id, attachment])
    except PathRefused as exc:
        raise ApiError(exc.status, exc.code, **exc.params) from None
