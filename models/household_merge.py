"""Merging conflicting revisions of a household, field by field, losing nothing.

Each stamped path (`head`, `members`, `indicators.safe_housing`, ...) goes to the revision with
the latest hybrid-logical-clock stamp for it; every other value any revision held for that path
is returned as a loser, to be archived. Paths without a stamp (fields a newer app added, the
bookkeeping `village_code`/`type`/`schema_version`) go to the base revision, CouchDB's own
deterministic pick (highest generation, then highest revision id), or to the highest revision
that has them. The result depends only on the set of revisions, never on their order.

A disagreement is a path that two or more revisions changed to different values since their
common ancestor: the later stamp still wins, but a person should look (a review task). Without
an ancestor body (compacted away) every path whose values differ counts as a disagreement.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from .household import INDICATORS, STAMPED_FIELDS

# members that are CouchDB's or the merge's own business, never merged as data
META_KEYS = frozenset({"_id", "_rev", "_revisions", "_conflicts", "_deleted_conflicts",
                       "_revs_info", "_attachments", "_deleted", "field_stamps"})
MISSING = object()


@dataclass(frozen=True)
class Candidate:
    """One value a revision holds for a path, with its stamp (None for unstamped paths)."""
    rev: str
    value: Any
    stamp: str | None
    present: bool = True


@dataclass
class MergeResult:
    """The merged household, the values that lost (by path) and the paths people must review."""
    merged: dict
    base_rev: str
    winners: dict[str, Candidate] = field(default_factory=dict)
    losers_by_field: dict[str, list[Candidate]] = field(default_factory=dict)
    disagreements: dict[str, list[Candidate]] = field(default_factory=dict)


def revision_order(rev: str) -> tuple[int, str]:
    """How CouchDB ranks live leaf revisions: by generation, then by revision id."""
    head, _, tail = (rev or "0-").partition("-")
    return (int(head) if head.isdigit() else 0, tail)


def canonical(value: Any) -> str:
    """A stable text form of a JSON value, for comparing and ordering values."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def get_path(doc: dict, path: str) -> Any:
    """The value at a dotted path, or the MISSING marker."""
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _set_path(doc: dict, path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if not rest:
        if value is MISSING:
            doc.pop(head, None)
        else:
            doc[head] = copy.deepcopy(value)
        return
    child = doc.get(head)
    if not isinstance(child, dict):
        if value is MISSING:
            return
        child = doc[head] = {}
    _set_path(child, rest, value)


def set_value(doc: dict, path: str, value: Any) -> None:
    """Set the value at a dotted path (creating `indicators` if needed)."""
    _set_path(doc, path, value)


def merge_paths(revisions: list[dict]) -> tuple[list[str], list[str]]:
    """The stamped paths and the unstamped data paths any of the revisions holds."""
    stamped = set(STAMPED_FIELDS)
    for rev in revisions:
        stamped.update(k for k in (rev.get("field_stamps") or {}) if isinstance(k, str))
    if any(not isinstance(rev.get("indicators", {}), dict) for rev in revisions):
        # bad data (a quarantined revision): merge `indicators` as one plain value
        stamped = {path for path in stamped if not path.startswith("indicators.")}
    stamped.discard("indicators")
    plain: set[str] = set()
    for rev in revisions:
        for key, value in rev.items():
            if key in META_KEYS or key in stamped:
                continue
            if key == "indicators" and isinstance(value, dict) and \
                    any(p.startswith("indicators.") for p in stamped):
                plain.update(f"indicators.{name}" for name in value
                             if f"indicators.{name}" not in stamped)
            else:
                plain.add(key)
    return sorted(stamped), sorted(plain)


def _candidate(rev: dict, path: str, stamped: bool) -> Candidate:
    value = get_path(rev, path)
    stamp = (rev.get("field_stamps") or {}).get(path) if stamped else None
    return Candidate(rev["_rev"], None if value is MISSING else value,
                     stamp if isinstance(stamp, str) else None, value is not MISSING)


def _rank(candidate: Candidate) -> tuple:
    # stamp first; then the revision order, so an unstamped path goes to the base revision
    # and present values beat absent ones only through that order (never by accident)
    return (candidate.stamp or "", candidate.present, revision_order(candidate.rev),
            canonical(candidate.value))


def _same(a: Candidate, b: Candidate) -> bool:
    return a.present == b.present and canonical(a.value) == canonical(b.value)


def _unique(revisions: list[dict]) -> list[dict]:
    by_rev: dict[str, dict] = {}
    for rev in revisions:
        if not isinstance(rev.get("_rev"), str):
            raise ValueError("every revision to merge needs its _rev")
        by_rev.setdefault(rev["_rev"], rev)
    return [by_rev[r] for r in sorted(by_rev, key=revision_order)]


def _changed(candidate: Candidate, ancestor: dict | None, path: str, stamped: bool) -> bool:
    if ancestor is None:
        return True
    before = _candidate({**ancestor, "_rev": "0-ancestor"}, path, stamped)
    return not (_same(candidate, before) and candidate.stamp == before.stamp)


def merge_households(revisions: list[dict], ancestor: dict | None = None) -> MergeResult:
    """Merge live leaf revisions of one household (in any order) into one document."""
    leaves = _unique(revisions)
    if not leaves:
        raise ValueError("nothing to merge")
    base = max(leaves, key=lambda r: revision_order(r["_rev"]))
    merged = copy.deepcopy({k: v for k, v in base.items() if k not in META_KEYS})
    merged["_id"] = base.get("_id")
    stamps: dict[str, str] = {}
    result = MergeResult(merged=merged, base_rev=base["_rev"])
    stamped_paths, plain_paths = merge_paths(leaves)
    for path in stamped_paths + plain_paths:
        is_stamped = path in stamped_paths
        candidates = [_candidate(rev, path, is_stamped) for rev in leaves]
        winner = max(candidates, key=_rank)
        result.winners[path] = winner
        _set_path(merged, path, winner.value if winner.present else MISSING)
        if is_stamped and winner.stamp:
            stamps[path] = winner.stamp
        losers = [c for c in candidates if not _same(c, winner)]
        if losers:
            result.losers_by_field[path] = losers
        changed = [c for c in candidates if _changed(c, ancestor, path, is_stamped)]
        distinct = {canonical([c.present, c.value]) for c in changed}
        if len(distinct) > 1 and losers:
            result.disagreements[path] = sorted(changed, key=_rank, reverse=True)
    if stamps or "field_stamps" in base:
        merged["field_stamps"] = dict(sorted(stamps.items()))
    if isinstance(merged.get("indicators"), dict):
        merged["indicators"] = {name: merged["indicators"][name] for name in
                                sorted(merged["indicators"], key=_indicator_order)}
    return result


def _indicator_order(name: str) -> tuple[int, str]:
    return (INDICATORS.index(name) if name in INDICATORS else len(INDICATORS), name)


def latest_stamp(household: dict) -> str | None:
    """The latest stamp anywhere in a household (the clock an office edit must pass)."""
    stamps = [s for s in (household.get("field_stamps") or {}).values() if isinstance(s, str)]
    return max(stamps) if stamps else None
