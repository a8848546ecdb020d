"""Pure rules of the alert path: delivery retry schedule, webhook payload and signature, SLA
figures, and the schemas of what officials send to the alerts API.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from marshmallow import Schema, fields, validate

from .case_event import KINDS as CASE_EVENT_KINDS, REFERRAL_TARGETS
from .common import parse_time
from .identity import MOBILE_RE

PAYLOAD_VERSION = 1
FIRST_RETRY_S = 30
MAX_RETRY_S = 3600
DEAD_AFTER_S = 24 * 3600
ACK_TARGET_S = 5 * 60
RESOLVE_TARGET_S = 2 * 24 * 3600
SIGNATURE_HEADER = "X-Fieldsync-Signature"
TIMESTAMP_HEADER = "X-Fieldsync-Timestamp"
DELIVERY_HEADER = "X-Fieldsync-Delivery"


def iso(moment: datetime) -> str:
    """A server time as ISO 8601 UTC with milliseconds and a Z."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Seconds from one stored time to another, or None when either is missing."""
    if not start or not end:
        return None
    return (parse_time(end) - parse_time(start)).total_seconds()


# --- the outbox's retry schedule --------------------------------------------------------------
def retry_delay_s(attempts: int) -> int:
    """The wait after the `attempts`-th failed attempt: 30 s doubling, capped at one hour."""
    return min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), MAX_RETRY_S)


def after_failure(delivery: dict, now: datetime, error: str) -> dict:
    """The fields a failed attempt changes: retry later, or dead once 24 h have passed."""
    attempts = int(delivery.get("attempts", 0))
    age = (now - parse_time(delivery["created_at"])).total_seconds()
    changes = {"last_error": error[:1000], "lease_until": None, "leased_by": None}
    if age >= DEAD_AFTER_S:
        return {**changes, "state": "dead", "dead_at": iso(now)}
    return {**changes, "next_attempt_at": iso(now + timedelta(seconds=retry_delay_s(attempts)))}


# --- webhook ----------------------------------------------------------------------------------
def webhook_payload(alert: dict, delivery: dict, recipient: dict | None, sent_at: str) -> dict:
    """The JSON body posted to a webhook (docs/alerts.md documents every field)."""
    return {
        "version": PAYLOAD_VERSION,
        "event": "mediation_alert",
        "idempotency_key": delivery["idempotency_key"],
        "sent_at": sent_at,
        "step": {"number": delivery["step"], "name": delivery.get("step_name"),
                 "kind": delivery.get("step_kind")},
        "recipient": recipient,
        "alert": {key: alert.get(key) for key in (
            "_id", "request_id", "village_code", "village_name", "town_code", "town_name",
            "county_code", "category", "urgency", "summary", "applicant_phone", "state",
            "recorded_at", "received_at", "alerted_at", "acknowledged_at", "resolved_at")},
    }


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`: the X-Fieldsync-Signature header."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """Check a signature header in constant time (what a receiver does)."""
    return hmac.compare_digest(signature(secret, body), header or "")


# --- SLA ----------------------------------------------------------------------------------------
def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _figures(alerts: list[dict], now: datetime) -> dict:
    to_alert = [s for a in alerts if (s := seconds_between(a.get("received_at"),
                                                            a.get("alerted_at"))) is not None]
    to_ack = [s for a in alerts if (s := seconds_between(a.get("received_at"),
                                                          a.get("acknowledged_at"))) is not None]
    to_resolve = [s for a in alerts if (s := seconds_between(a.get("received_at"),
                                                              a.get("resolved_at"))) is not None]
    now_iso = iso(now)
    late_ack = [a for a in alerts if not a.get("acknowledged_at")
                and (seconds_between(a.get("received_at"), now_iso) or 0) > ACK_TARGET_S]
    late_resolve = [a for a in alerts if not a.get("resolved_at")
                    and (seconds_between(a.get("received_at"), now_iso) or 0) > RESOLVE_TARGET_S]
    within_ack = sum(1 for s in to_ack if s <= ACK_TARGET_S)
    within_resolve = sum(1 for s in to_resolve if s <= RESOLVE_TARGET_S)
    rate = lambda n: round(n / len(alerts), 4) if alerts else None  # noqa: E731
    return {
        "alerts": len(alerts), "acknowledged": len(to_ack), "resolved": len(to_resolve),
        # rates over every alert of the period (one still open counts as not within target)
        "acknowledged_within_target_rate": rate(within_ack),
        "resolved_within_target_rate": rate(within_resolve),
        "overdue": sum(1 for a in alerts if is_overdue(a, now_iso)),
        "time_to_alert_s": {"p50": _quantile(to_alert, 0.5), "p90": _quantile(to_alert, 0.9),
                            "max": max(to_alert, default=None)},
        "time_to_acknowledge_s": {"p50": _quantile(to_ack, 0.5), "p90": _quantile(to_ack, 0.9),
                                  "max": max(to_ack, default=None),
                                  "target_s": ACK_TARGET_S,
                                  "within_target": sum(1 for s in to_ack if s <= ACK_TARGET_S),
                                  "open_past_target": len(late_ack)},
        "time_to_resolve_s": {"p50": _quantile(to_resolve, 0.5),
                              "p90": _quantile(to_resolve, 0.9),
                              "max": max(to_resolve, default=None),
                              "target_s": RESOLVE_TARGET_S,
                              "within_target": sum(1 for s in to_resolve
                                                   if s <= RESOLVE_TARGET_S),
                              "open_past_target": len(late_resolve)},
    }


def sla_figures(alerts: list[dict], now: datetime) -> dict:
    """SLA figures over `alerts`: overall, per county and per town (times from received_at)."""
    by_town: dict[str, list[dict]] = {}
    by_county: dict[str, list[dict]] = {}
    for alert in alerts:
        by_town.setdefault(alert["town_code"], []).append(alert)
        by_county.setdefault(alert["county_code"], []).append(alert)
    return {"overall": _figures(alerts, now),
            "counties": {code: _figures(group, now) for code, group in sorted(by_county.items())},
            "towns": {code: _figures(group, now) for code, group in sorted(by_town.items())}}


PERIOD_DAYS = {"1d": 1, "7d": 7, "30d": 30, "90d": 90, "365d": 365}


def period_start(period: str, now: datetime) -> datetime | None:
    """The start of a reporting period `1d|7d|30d|90d|365d|all`; raises ValueError."""
    if period == "all":
        return None
    if period not in PERIOD_DAYS:
        raise ValueError(period)
    return now - timedelta(days=PERIOD_DAYS[period])


# --- API input ----------------------------------------------------------------------------------
class AcknowledgeInput(Schema):
    """POST /api/v1/alerts/<id>/acknowledge."""
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class MediatorSchema(Schema):
    """Who mediates: a name and a phone, optionally an account."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = fields.String(load_default=None, allow_none=True,
                          validate=validate.Regexp(MOBILE_RE, error="phone_format"))
    username = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=32))


class AssignInput(Schema):
    """POST /api/v1/alerts/<id>/assign."""
    mediator = fields.Nested(MediatorSchema, required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class CaseEventInput(Schema):
    """POST /api/v1/alerts/<id>/events: a step of the case recorded by an official."""
    kind = fields.String(required=True, validate=validate.OneOf(tuple(CASE_EVENT_KINDS)))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    referred_to = fields.String(load_default=None, allow_none=True,
                                validate=validate.OneOf(tuple(REFERRAL_TARGETS)))
    occurred_at = fields.AwareDateTime(load_default=None, allow_none=True)


# the case event kinds that close a case, and two more; labels in the catalogue (codes.outcome)
OUTCOMES = ("agreement_reached", "failed", "referred", "withdrawn", "not_a_dispute")


class ResolveInput(Schema):
    """POST /api/v1/alerts/<id>/resolve (needs a prior acknowledgement)."""
    outcome = fields.String(required=True, validate=validate.OneOf(tuple(OUTCOMES)))
    agreement = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(max=4000))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


# --- the officials' lists -------------------------------------------------------------------
TABS = ("pending", "in_progress", "overdue", "resolved", "all")


def is_overdue(alert: dict, now_iso: str) -> bool:
    """Open and late: not acknowledged within 5 minutes, or not resolved within 2 days."""
    if alert.get("resolved_at"):
        return False
    age = seconds_between(alert.get("received_at"), now_iso) or 0
    return age > RESOLVE_TARGET_S or (not alert.get("acknowledged_at") and age > ACK_TARGET_S)


def in_tab(alert: dict, tab: str, now_iso: str) -> bool:
    """Whether an alert belongs in a list tab: 待签收, 处理中, 超时, 已办结 or all."""
    if tab == "pending":
        return not alert.get("acknowledged_at") and not alert.get("resolved_at")
    if tab == "in_progress":
        return bool(alert.get("acknowledged_at")) and not alert.get("resolved_at")
    if tab == "overdue":
        return is_overdue(alert, now_iso)
    if tab == "resolved":
        return bool(alert.get("resolved_at"))
    return True


def involves(alert: dict, username: str) -> bool:
    """"Mine": the official acknowledged it, assigned it, resolved it or acted on it otherwise
    (being notified is not enough: a duty officer is notified of every alert of the town)."""
    if username in (alert.get("acknowledged_by"), alert.get("resolved_by"),
                    (alert.get("mediator") or {}).get("assigned_by")):
        return True
    return any(h.get("by") == username for h in alert.get("history") or [])


def matches(alert: dict, query: str) -> bool:
    """Search: the query (whitespace-separated parts, all must match) in the applicant's name
    or phone, another party's name, the village or town name, or the summary."""
    haystack = " ".join(str(v or "") for v in (
        alert.get("applicant_name"), alert.get("applicant_phone"), alert.get("village_name"),
        alert.get("town_name"), alert.get("summary"),
        *[p.get("name") for p in alert.get("other_parties") or []])).lower()
    return all(part in haystack for part in query.lower().split())


acknowledge_input = AcknowledgeInput()
assign_input = AssignInput()
case_event_input = CaseEventInput()
resolve_input = ResolveInput()


COUNTY_TARGETS = ("county_duty", "county_leader")


def responsible_levels(alert: dict, chain) -> set[str]:
    """Who may act on an alert: the town always; the county once the alert was escalated to it
    (a fired step notified the county, or nobody in the town could be notified)."""
    levels = {"town"}
    by_number = {step.step: step for step in chain}
    for key in (alert.get("steps") or {}):
        step = by_number.get(int(key))
        if step and set(step.notify) & set(COUNTY_TARGETS):
            levels.add("county")
    if str(alert.get("routed_by") or "").startswith("county"):
        levels.add("county")
    return levels
