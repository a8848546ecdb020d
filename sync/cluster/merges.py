"""One deterministic merge per server-owned document type, for conflicts a cluster leaves.

On a cluster two writers of one id can both be told their write succeeded (201 and 202) and
both revisions are stored. Each function here takes every live leaf of such a document and
returns the one body that keeps what each writer meant; whichever worker merges, in whatever
order it reads the leaves, the result is the same. Pure: no I/O (central view entries and
duplicate indexes, which are recomputed, have their merges next to their code).
"""
from __future__ import annotations

import json
from typing import Callable

from models.escalation import Step, next_due_at
from models.household_merge import revision_order

ALERT_STATES = {"alerted": 0, "acknowledged": 1, "resolved": 2}
DELIVERY_STATES = {"pending": 0, "dead": 1, "delivered": 2}


def winner(leaves: list[dict]) -> dict:
    """The leaf CouchDB itself shows (highest generation, then highest revision id)."""
    return max(leaves, key=lambda leaf: revision_order(leaf.get("_rev", "")))


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _earliest(leaves: list[dict], field: str) -> dict | None:
    """The leaf with the earliest non-empty `field`, or None."""
    found = [leaf for leaf in leaves if leaf.get(field)]
    return min(found, key=lambda leaf: (leaf[field], revision_order(leaf["_rev"]))) if found \
        else None


def merge_alert(leaves: list[dict], chain: tuple[Step, ...] | None = None) -> dict:
    """An alert keeps the union of its history and steps and the furthest state: the first
    acknowledgement, delivery and resolution, the latest mediator, the highest escalation."""
    merged = dict(winner(leaves))
    merged["state"] = max((leaf.get("state") or "alerted" for leaf in leaves),
                          key=lambda state: ALERT_STATES.get(state, -1))
    for field, companions in (("acknowledged_at", ("acknowledged_by",)),
                              ("resolved_at", ("resolved_by", "outcome")),
                              ("delivered_at", ())):
        first = _earliest(leaves, field)
        merged[field] = first[field] if first else None
        for companion in companions:
            merged[companion] = first.get(companion) if first else None
    mediators = [leaf["mediator"] for leaf in leaves if isinstance(leaf.get("mediator"), dict)]
    merged["mediator"] = max(mediators, key=lambda m: (str(m.get("assigned_at") or ""),
                                                       _canonical(m))) if mediators else None
    merged["escalation_level"] = max(int(leaf.get("escalation_level") or 0) for leaf in leaves)
    history = {_canonical(entry): entry for leaf in leaves for entry in leaf.get("history") or []}
    merged["history"] = sorted(history.values(), key=lambda e: (str(e.get("at")), _canonical(e)))
    marks: dict[str, list[dict]] = {}
    for leaf in leaves:
        for key, mark in (leaf.get("steps") or {}).items():
            marks.setdefault(key, []).append(mark)
    # of two marks of one step: the one fanned out (its deliveries exist), then the earliest
    merged["steps"] = {key: min(found, key=lambda m: (not m.get("fanned_out"), str(m.get("at")),
                                                      _canonical(m)))
                       for key, found in sorted(marks.items())}
    if chain is not None and merged.get("alerted_at"):
        merged["next_escalation_at"] = next_due_at(merged, chain)
    return merged


def merge_delivery(leaves: list[dict]) -> dict:
    """A delivery that was sent stays sent (with its first delivery time); one that is still
    pending keeps the most attempts and the latest lease."""
    def rank(leaf: dict) -> tuple:
        return (DELIVERY_STATES.get(leaf.get("state"), -1), int(leaf.get("attempts") or 0),
                str(leaf.get("lease_until") or ""), revision_order(leaf["_rev"]))
    merged = dict(max(leaves, key=rank))
    merged["attempts"] = max(int(leaf.get("attempts") or 0) for leaf in leaves)
    if merged.get("state") == "delivered":
        first = _earliest([leaf for leaf in leaves if leaf.get("state") == "delivered"],
                          "delivered_at")
        merged["delivered_at"] = first["delivered_at"] if first else merged.get("delivered_at")
        merged.update(lease_until=None, last_error=None)
    return merged


def merge_photo_job(leaves: list[dict]) -> dict:
    """A photo job keeps the most attempts (its crash guard) and gives up if any leaf did."""
    merged = dict(max(leaves, key=lambda leaf: (leaf.get("state") == "dead",
                                                int(leaf.get("attempts") or 0),
                                                float(leaf.get("lease_until") or 0),
                                                revision_order(leaf["_rev"]))))
    merged["attempts"] = max(int(leaf.get("attempts") or 0) for leaf in leaves)
    return merged


def merge_review_task(leaves: list[dict]) -> dict:
    """A review task keeps the decided state (the first decision) over an open one."""
    decided = [leaf for leaf in leaves if leaf.get("state") not in (None, "open")]
    if decided:
        return dict(min(decided, key=lambda leaf: (str(leaf.get("decided_at") or ""),
                                                   revision_order(leaf["_rev"]))))
    return dict(winner(leaves))


def merge_latest(field: str) -> Callable[[list[dict]], dict]:
    """The leaf with the latest `field` (checkpoints by `updated_at`: a consumer that resumes
    a little early replays changes, which transitions take idempotently; heartbeats by
    `beat_at`)."""
    def merge(leaves: list[dict]) -> dict:
        return dict(max(leaves, key=lambda leaf: (str(leaf.get(field) or ""),
                                                  revision_order(leaf["_rev"]))))
    return merge


def merge_smallest(field: str) -> Callable[[list[dict]], dict]:
    """The leaf with the smallest `field` (the installation's uuid: whichever process reads
    the leaves, the same one; sync/cluster/identity.py)."""
    def merge(leaves: list[dict]) -> dict:
        return dict(min(leaves, key=lambda leaf: (str(leaf.get(field) or ""),
                                                  revision_order(leaf.get("_rev", "")))))
    return merge


def merge_original(leaves: list[dict]) -> dict:
    """Written-once documents (case notes, dead letters, archives): the original, the lowest
    revision, as for a device's written-once documents."""
    return dict(min(leaves, key=lambda leaf: revision_order(leaf["_rev"])))
