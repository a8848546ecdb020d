"""Telling the phone whose household value lost a merge that it awaits review.

When two devices changed one household field to different values, the merge keeps the later
stamp for now and opens a review task (sync/reconcile/conflicts.py); the value that lost is
archived in the review database, which no device reads. So the merge also writes one feedback
document per losing value into the village database, where it replicates to every phone of the
village: `feedback:<household id>:<losing rev>:disagreement:<field>`, `kind:
household_disagreement`, naming the device whose edit lost (the node of the losing stamp) and both
values in people's terms in both languages. The field app shows it on the household on that
device only (docs/device-contract.md §6). When the review is decided the feedback gets
`resolved_at` and the value written; a later edit of the household does not resolve it.
"""
from __future__ import annotations

from models import hlc
from models.messages import LANGS, message
from models.review_terms import both_displays, field_label

KIND = "household_disagreement"


def feedback_id_for(doc_id: str, losing_rev: str, path: str) -> str:
    """The one feedback document about one losing value of one household revision."""
    return f"feedback:{doc_id}:{losing_rev}:disagreement:{path}"


def _node(stamp: str | None) -> str | None:
    try:
        return hlc.parse(stamp).node if stamp else None
    except (ValueError, TypeError, AttributeError):
        return None


def disagreement_feedback(village: str, doc_id: str, path: str, loser, winner, author: dict | None,
                          task_id: str, now_iso: str) -> dict:
    """The feedback for the device whose value `loser` (a merge Candidate) lost to `winner`."""
    label = field_label(path)
    yours, kept = both_displays(path, loser.value), both_displays(path, winner.value)
    text = {lang: message("household_disagreement_feedback", lang, field=label[lang],
                          yours=yours[lang], kept=kept[lang]) for lang in LANGS}
    return {
        "_id": feedback_id_for(doc_id, loser.rev, path),
        "type": "feedback", "schema_version": 1, "village_code": village, "kind": KIND,
        "target": {"id": doc_id, "rev": loser.rev, "type": "household"},
        "severity": "warning", "codes": [KIND],
        "problems": [{"field": path, "code": KIND, "message": text}],
        "disagreement": {
            "field": path, "field_label": label, "yours": yours, "kept": kept,
            # the device that set the losing value: its stamp's node, else who wrote the revision
            "device_id": _node(loser.stamp) or (author or {}).get("device_id"),
            "losing_stamp": loser.stamp, "winning_stamp": winner.stamp, "review_task_id": task_id},
        "created_at": now_iso, "resolved_at": None,
    }


def settle_disagreement_feedback(village_db, doc_id: str, task_id: str, value: object,
                                 now_iso: str) -> list[dict]:
    """After a review decision: resolve the open feedback of that task, with the value written."""
    open_items = [d for d in village_db.docs_with_prefix(f"feedback:{doc_id}:")
                  if d.get("kind") == KIND and d.get("resolved_at") is None
                  and (d.get("disagreement") or {}).get("review_task_id") == task_id]
    for item in open_items:
        path = item["disagreement"]["field"]
        item.update(resolved_at=now_iso)
        item["disagreement"]["decided"] = both_displays(path, value)
    if open_items:
        village_db.bulk_docs(open_items)  # a 409 means a second decision pass already did it
    return open_items
