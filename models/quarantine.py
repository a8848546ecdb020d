"""The two server documents a quarantined device document gets: feedback for the cadre (in the
village database, replicated to the device) and an entry the central office lists."""
from __future__ import annotations

from .doc_ids import feedback_id, quarantine_id
from .registry import Verdict


def _target(doc: dict, rev: str, verdict: Verdict) -> dict:
    return {"id": doc["_id"], "rev": rev, "type": verdict.doc_type}


def feedback_document(doc: dict, rev: str, verdict: Verdict, village_code: str,
                      now_iso: str) -> dict:
    """The feedback document telling the cadre which fields of revision `rev` need correcting."""
    return {
        "_id": feedback_id(doc["_id"], rev),
        "type": "feedback",
        "schema_version": 1,
        "village_code": village_code,
        "target": _target(doc, rev, verdict),
        "severity": "error",
        "codes": verdict.codes,
        "problems": list(verdict.problems),
        "created_at": now_iso,
        "resolved_at": None,
    }


def quarantine_entry(doc: dict, rev: str, verdict: Verdict, village_code: str,
                     received_at: str) -> dict:
    """The central office's record of a stored revision that failed validation."""
    return {
        "_id": quarantine_id(village_code, doc["_id"], rev),
        "type": "quarantine_entry",
        "schema_version": 1,
        "village_code": village_code,
        "target": _target(doc, rev, verdict),
        "codes": verdict.codes,
        "problems": list(verdict.problems),
        "state": "open",
        "feedback_id": feedback_id(doc["_id"], rev),
        "received_at": received_at,
        "resolved_at": None,
        "resolved_by": None,
    }


def revision_line(doc: dict, rev: str | None, verdict: Verdict) -> dict:
    """One line of a device-write audit record: a revision the gateway received and its verdict.

    Device documents are never rewritten, so the server's receipt time of a revision is the
    `at` of the audit record holding this line."""
    return {"subject_id": doc.get("_id", ""), "subject_rev": rev, "action": "received",
            "verdict": verdict.action, "doc_type": verdict.doc_type, "codes": verdict.codes,
            "recorded_at": doc.get("recorded_at")}


def office_write_record(record_id: str, village_code: str, actor: str, at: str, doc_id: str,
                        rev: str, details: dict) -> dict:
    """The audit record of a revision written at the central office (a review decision): like
    a device write's, so the revision's author is found the same way, and its id names the
    village so the worker's feeds look at it (sync/feeds/signals.py)."""
    line = {"subject_id": doc_id, "subject_rev": rev, "action": "received", "verdict": "accept",
            "doc_type": "household", "codes": [], "recorded_at": at}
    return {"_id": f"audit:office:{village_code}:{record_id}", "type": "audit_entry",
            "schema_version": 1, "action": "office_write", "actor": actor,
            "subject_id": doc_id, "subject_rev": rev, "village_code": village_code, "at": at,
            "details": {**details, "device_id": None, "lines": [line]}}


def device_write_record(request_id: str, village_code: str, actor: str, at: str,
                        details: dict, lines: list[dict]) -> dict:
    """The audit record of one device write request: who, from which device, when, and a line
    per revision received or refused. One record per request keeps the audit trail from doubling
    the database's write load (docs/performance.md)."""
    return {"_id": f"audit:write:{village_code}:{request_id}", "type": "audit_entry",
            "schema_version": 1, "action": "device_write", "actor": actor,
            "subject_id": f"request:{request_id}", "subject_rev": None,
            "village_code": village_code, "at": at, "details": {**details, "lines": lines}}
