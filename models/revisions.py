"""Revision ids and histories as a device sends them (`_rev`, `_revisions`): the grammar and the
rules the gateway's written-once check applies (docs/security.md, "Written once").

CouchDB stores a replicated document (`new_edits: false`) under the history in `_revisions`
when there is one, whatever `_rev` says, and builds an edit's path from `_revisions` too; PouchDB
reads `_rev`. A document whose two disagree would be checked as one revision and stored as
another, so they must agree: `_rev == f"{start}-{ids[0]}"`.
"""
from __future__ import annotations

import re

REV_RE = re.compile(r"([1-9][0-9]{0,9})-([0-9a-f]{1,64})")
REV_ID_RE = re.compile(r"[0-9a-f]{1,64}")


def generation(rev: str) -> int:
    """The generation (the number before the dash) of a well-formed revision."""
    return int(rev.split("-", 1)[0])


def revision_problem(doc: dict, new_edits: bool) -> str | None:
    """The refusal code for a document whose `_rev` or `_revisions` is malformed or whose two
    disagree (`rev_format`, `revisions_mismatch`); None when they are sound. A replicated write
    (`new_edits: false`) must name its revision."""
    rev, revisions = doc.get("_rev"), doc.get("_revisions")
    if rev is None:
        if not new_edits:
            return "rev_format"
        return None if revisions is None else "revisions_mismatch"
    if not isinstance(rev, str) or not REV_RE.fullmatch(rev):
        return "rev_format"
    if revisions is not None and not _agrees(rev, revisions):
        return "revisions_mismatch"
    return None


def _agrees(rev: str, revisions: object) -> bool:
    if not isinstance(revisions, dict) or set(revisions) != {"start", "ids"}:
        return False
    start, ids = revisions["start"], revisions["ids"]
    if type(start) is not int or not isinstance(ids, list) or not 0 < len(ids) <= start:
        return False
    if not all(isinstance(rev_id, str) and REV_ID_RE.fullmatch(rev_id) for rev_id in ids):
        return False
    return f"{start}-{ids[0]}" == rev


def history(doc: dict) -> list[str]:
    """The revision ids of a (sound) document's history, its own first: `_revisions.ids`, or just
    the id of `_rev` when there is no `_revisions`."""
    if isinstance(doc.get("_revisions"), dict):
        return list(doc["_revisions"]["ids"])
    return [doc["_rev"].split("-", 1)[1]]


def extends(doc: dict, current: str, stored_history: list[str]) -> bool:
    """Whether a replicated revision is the child of the stored revision `current`, with a history
    that agrees with `stored_history` (the stored ids, `current`'s first; [] checks the parent
    only).

    A history that names `current` as parent but other ancestors would be stored by CouchDB as a
    second tree, leaving `current` a leaf beside it: a conflict slipped in."""
    if "_revisions" not in doc:
        return False
    sent = history(doc)
    if generation(doc["_rev"]) != generation(current) + 1 or len(sent) < 2 \
            or sent[1] != current.split("-", 1)[1]:
        return False
    overlap = min(len(sent) - 1, len(stored_history))
    return sent[1:1 + overlap] == stored_history[:overlap]
