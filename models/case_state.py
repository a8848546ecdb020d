"""The state of a mediation case as a pure fold of its events.

Stages form a chain, and the case is at the furthest stage any event reached: a late
"contacted" never moves a settled case back, and the result does not depend on the order in
which events replicate. Among outcomes, failed < referred < agreement_reached (a failed
mediation is often referred; a referral can still end in an agreement). Two different outcomes
on one case are kept visible as `conflicting_outcomes` for a person to look at.
Details that need "the latest" (the mediator) use (recorded_at in UTC, event id) order, so they
too are the same for any arrival order. Copies of one event id count once; of two revisions of
one event (a correction) the later revision counts. Monotonicity is over distinct events.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from .common import parse_time

STAGES = ("new", "contacted", "mediator_assigned", "session_held", "failed", "referred",
          "agreement_reached")
OUTCOMES = frozenset({"failed", "referred", "agreement_reached"})
_RANK = {stage: rank for rank, stage in enumerate(STAGES)}
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class CaseState:
    """What the events of one case add up to."""
    stage: str = "new"
    closed: bool = False
    event_count: int = 0
    first_contacted_at: str | None = None
    mediator: dict | None = None
    sessions: int = 0
    outcomes: tuple[str, ...] = ()
    referred_to: tuple[str, ...] = ()
    last_event_id: str | None = None

    @property
    def conflicting_outcomes(self) -> bool:
        """Whether events disagree on how the case ended."""
        return len(self.outcomes) > 1


def _order_key(event: dict) -> tuple[datetime, str]:
    try:
        moment = parse_time(event.get("recorded_at") or "")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    except ValueError:
        moment = _EARLIEST
    return moment.astimezone(timezone.utc), str(event.get("_id", ""))


def _revision_order(event: dict) -> tuple[int, str, str]:
    rev = str(event.get("_rev") or "0-")
    generation = rev.partition("-")[0]
    return (int(generation) if generation.isdigit() else 0, rev,
            json.dumps(event, sort_keys=True, ensure_ascii=False, default=str))


def fold(events: list[dict]) -> CaseState:
    """The state of a case from its events, in any order; unknown kinds are ignored."""
    unique: dict[str, dict] = {}
    for event in sorted(events, key=_revision_order):  # a corrected revision replaces its event
        unique[str(event.get("_id", ""))] = event
    ordered = sorted(unique.values(), key=_order_key)
    known = [event for event in ordered if event.get("kind") in _RANK]
    if not known:
        return CaseState(event_count=0)
    stage = max((event["kind"] for event in known), key=_RANK.__getitem__)
    contacted = [event for event in known if event["kind"] == "contacted"]
    assigned = [event for event in known if event["kind"] == "mediator_assigned"]
    outcomes = sorted({event["kind"] for event in known if event["kind"] in OUTCOMES},
                      key=_RANK.__getitem__)
    return CaseState(
        stage=stage,
        closed=stage in OUTCOMES,
        event_count=len(known),
        first_contacted_at=contacted[0].get("recorded_at") if contacted else None,
        mediator=assigned[-1].get("mediator") if assigned else None,
        sessions=sum(1 for event in known if event["kind"] == "session_held"),
        outcomes=tuple(outcomes),
        referred_to=tuple(sorted({event.get("referred_to") or "other_office"
                                  for event in known if event["kind"] == "referred"})),
        last_event_id=known[-1].get("_id"),
    )
