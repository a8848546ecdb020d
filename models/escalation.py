"""The escalation chain of a mediation alert, as data, and the pure rule of which step is due.

Step 0 is the alert itself. Each later step fires once `after_s` seconds after the alert was
raised, unless the alert reached the state that stops it (`acknowledged` stops the
"nobody reacted" steps, `resolved` stops everything). Who is notified is named by role
tokens, resolved against the duty rosters when the step fires (sync/alerts/routing.py).
Timers are derived from the stored alert, never held in memory: a restarted worker computes
the same due steps.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate

from .common import parse_time

# who a step notifies: the town's duty officers (falling back to the county's when the town
# has none), the county's duty officers, the town's and the county's leader, and whoever
# acknowledged the alert
TARGETS = ("town_duty", "county_duty", "town_leader", "county_leader", "acknowledger")
STOPS = ("acknowledged", "resolved")
KINDS = ("alert", "escalation", "reminder", "overdue")


@dataclass(frozen=True)
class Step:
    """One step of the chain."""
    step: int
    name: str
    kind: str
    after_s: int
    stop_when: str
    notify: tuple[str, ...]


DEFAULT_CHAIN: tuple[Step, ...] = (
    Step(0, "alert", "alert", 0, "acknowledged", ("town_duty",)),
    Step(1, "unacknowledged_5m", "escalation", 5 * 60, "acknowledged",
         ("town_leader", "county_duty")),
    Step(2, "unacknowledged_30m", "escalation", 30 * 60, "acknowledged", ("county_leader",)),
    Step(3, "resolution_reminder_24h", "reminder", 24 * 3600, "resolved",
         ("town_duty", "acknowledger")),
    Step(4, "overdue_48h", "overdue", 48 * 3600, "resolved",
         ("town_duty", "acknowledger", "town_leader", "county_duty")),
)


class StepSchema(Schema):
    """A step as configured (FIELDSYNC_ESCALATION_CHAIN is a JSON list of these)."""
    step = fields.Integer(required=True, strict=True, validate=validate.Range(0, 20))
    name = fields.String(required=True, validate=validate.Regexp(r"[a-z0-9_]{1,40}\Z"))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    after_s = fields.Integer(required=True, strict=True, validate=validate.Range(0))
    stop_when = fields.String(required=True, validate=validate.OneOf(STOPS))
    notify = fields.List(fields.String(validate=validate.OneOf(TARGETS)), required=True,
                         validate=validate.Length(min=1))


def parse_chain(text: str | None) -> tuple[Step, ...]:
    """The chain from its JSON form (None or empty: the default); raises ValueError."""
    if not text:
        return DEFAULT_CHAIN
    try:
        loaded = StepSchema(many=True).load(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise ValueError(f"bad escalation chain: {exc}") from exc
    steps = tuple(Step(s["step"], s["name"], s["kind"], s["after_s"], s["stop_when"],
                       tuple(s["notify"])) for s in sorted(loaded, key=lambda s: s["step"]))
    numbers = [s.step for s in steps]
    if not steps or numbers[0] != 0 or len(set(numbers)) != len(numbers):
        raise ValueError("bad escalation chain: steps need distinct numbers, starting at 0")
    return steps


def chain_as_json(chain: tuple[Step, ...]) -> list[dict]:
    """The chain in its configured JSON form (for docs and the API)."""
    return [{"step": s.step, "name": s.name, "kind": s.kind, "after_s": s.after_s,
             "stop_when": s.stop_when, "notify": list(s.notify)} for s in chain]


def stopped(alert: dict, step: Step) -> bool:
    """Whether the alert's state stops this step from ever firing."""
    if alert.get("resolved_at"):
        return True
    return step.stop_when == "acknowledged" and bool(alert.get("acknowledged_at"))


def due_steps(alert: dict, now: datetime, chain: tuple[Step, ...] = DEFAULT_CHAIN) -> list[Step]:
    """The steps that should have fired by `now` and are not yet recorded in the alert."""
    done = {int(key) for key in (alert.get("steps") or {})}
    start = parse_time(alert["alerted_at"])
    return [step for step in chain
            if step.step not in done and not stopped(alert, step)
            and (now - start).total_seconds() >= step.after_s]


def next_due_at(alert: dict, chain: tuple[Step, ...] = DEFAULT_CHAIN) -> str | None:
    """When the next step will be due (ISO time), or None when the chain has ended."""
    done = {int(key) for key in (alert.get("steps") or {})}
    start = parse_time(alert["alerted_at"])
    pending = [step for step in chain if step.step not in done and not stopped(alert, step)]
    if not pending:
        return None
    first = min(pending, key=lambda s: s.after_s)
    return (start + timedelta(seconds=first.after_s)).isoformat(timespec="milliseconds")
