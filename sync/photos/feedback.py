"""Feedback documents about photos, written into the village database for the cadre."""
from __future__ import annotations

from models.messages import both


def photo_feedback(job: dict, code: str, params: dict, now_iso: str) -> dict:
    """The feedback telling the cadre that one photo of a document was not accepted."""
    return {
        "_id": f"feedback:{job['doc_id']}:{job['rev']}:photo:{job['attachment']}",
        "type": "feedback", "schema_version": 1, "village_code": job["village_code"],
        "target": {"id": job["doc_id"], "rev": job["rev"], "type": job.get("doc_type"),
                   "attachment": job["attachment"]},
        "severity": "error", "codes": [code],
        "problems": [{"field": f"_attachments.{job['attachment']}", "code": code,
                      "message": both(code, **params)}],
        "created_at": now_iso, "resolved_at": None,
    }
