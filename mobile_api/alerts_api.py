"""Officials' alert API: list, read with timeline, acknowledge, assign, case events, resolve,
SLA figures, inbox and dead letters. docs/alerts.md has the examples.

Access is by jurisdiction subtree: a town official sees the alerts of that town, a county
official those of its towns, the central office everything. Cadres have no access.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify, request

from mobile_api.auth import current_principal
from mobile_api.context import services
from mobile_api.errors import ApiError
from mobile_api.session_api import load_json
from models.alerts import (acknowledge_input, assign_input, case_event_input, iso, period_start,
                           resolve_input, sla_figures)
from sync.directory.access import Principal
from sync.alerts.casework import AlertResolved, timeline
from sync.alerts.store import scope_of

bp = Blueprint("alerts", __name__, url_prefix="/api/v1")
OFFICIAL_LEVEL = {"town_official": "town", "county_official": "county", "central_admin": "city"}
MAX_PER_PAGE = 200


def official() -> Principal:
    """The calling official; 403 for anyone else (cadres, villagers)."""
    principal = current_principal()
    if principal.role not in OFFICIAL_LEVEL:
        raise ApiError(403, "forbidden")
    return principal


def scope(principal: Principal) -> list:
    """The alerts view scope of an official."""
    return scope_of(OFFICIAL_LEVEL[principal.role], principal.jurisdiction)


def visible_alert(alert_id: str, principal: Principal) -> dict:
    """The alert if the official may see it: 404 unknown, 403 another jurisdiction's."""
    alert = services().alerts.store.get(alert_id)
    if alert is None or alert.get("type") != "alert":
        raise ApiError(404, "alert_not_found", None, None, id=alert_id)
    if not principal.may_see(alert["town_code"]):
        raise ApiError(403, "forbidden")
    return alert


def _paging() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 50))))
    except ValueError:
        raise ApiError(400, "bad_request") from None
    return page, per_page


@bp.get("/alerts")
def list_alerts():
    """Alerts the caller may see, newest first: `?state=`, `?page=`, `?per_page=`."""
    principal = official()
    state = request.args.get("state") or None
    if state not in (None, "alerted", "acknowledged", "resolved"):
        raise ApiError(400, "bad_request")
    page, per_page = _paging()
    alerts = services().alerts.store.listed(scope(principal), state, per_page,
                                            (page - 1) * per_page)
    return jsonify({"page": page, "per_page": per_page, "alerts": alerts})


@bp.get("/alerts/<alert_id>")
def get_alert(alert_id: str):
    """One alert with its deliveries, case events and timeline."""
    principal = official()
    alert = visible_alert(alert_id, principal)
    store = services().alerts.store
    deliveries, events = store.deliveries_of(alert_id), store.case_notes_of(alert_id)
    return jsonify({"alert": alert, "deliveries": deliveries, "case_events": events,
                    "timeline": timeline(alert, deliveries, events)})


def _acted(action, alert_id: str, *args):
    principal = official()
    visible_alert(alert_id, principal)
    try:
        alert = action(alert_id, principal.username, *args)
    except AlertResolved:
        raise ApiError(409, "alert_already_resolved") from None
    return jsonify({"alert": alert})


@bp.post("/alerts/<alert_id>/acknowledge")
def acknowledge(alert_id: str):
    """Acknowledge: the escalation chain stops."""
    official()  # authenticate before reading the body: 401, not 400/422, for strangers
    body = load_json(acknowledge_input) if request.content_length else {}
    return _acted(services().alerts.casework.acknowledge, alert_id, body.get("note"))


@bp.post("/alerts/<alert_id>/assign")
def assign(alert_id: str):
    """Assign a mediator."""
    official()  # authenticate before reading the body: 401, not 400/422, for strangers
    body = load_json(assign_input)
    return _acted(services().alerts.casework.assign, alert_id, body["mediator"], body.get("note"))


@bp.post("/alerts/<alert_id>/resolve")
def resolve(alert_id: str):
    """Resolve with an outcome: reminders stop."""
    official()  # authenticate before reading the body: 401, not 400/422, for strangers
    body = load_json(resolve_input)
    return _acted(services().alerts.casework.resolve, alert_id, body["outcome"], body.get("note"))


@bp.post("/alerts/<alert_id>/events")
def add_case_event(alert_id: str):
    """Record a case event; an `Idempotency-Key` header makes a retried POST store it once."""
    principal = official()
    alert = visible_alert(alert_id, principal)
    body = load_json(case_event_input)
    try:
        event, created = services().alerts.casework.record_event(
            alert, principal.username, body, request.headers.get("Idempotency-Key"))
    except AlertResolved:
        raise ApiError(409, "alert_already_resolved") from None
    return jsonify({"case_event": event}), 201 if created else 200


@bp.get("/sla")
def sla():
    """Time to alert, to acknowledgement and to resolution, per town and county:
    `?period=1d|7d|30d|90d|365d|all` (default 30d), over alerts received in the period."""
    principal = official()
    period = request.args.get("period", "30d")
    now = datetime.now(timezone.utc)
    try:
        start = period_start(period, now)
    except ValueError:
        raise ApiError(400, "period_invalid", None, None, period=period) from None
    alerts = [a for a in services().alerts.store.in_scope(scope(principal),
                                                          iso(start) if start else None)
              if principal.may_see(a["town_code"])]
    return jsonify({"period": period, "from": iso(start) if start else None, "to": iso(now),
                    **sla_figures(alerts, now)})


@bp.get("/inbox")
def inbox():
    """The caller's inbox items (delivered in-app notifications), newest first."""
    principal = official()
    _, per_page = _paging()
    return jsonify({"items": services().alerts.store.inbox(principal.username, per_page)})


@bp.get("/deliveries/dead")
def dead_letters():
    """Deliveries that gave up after 24 h of retries, newest first."""
    principal = official()
    page, per_page = _paging()
    return jsonify({"page": page, "per_page": per_page,
                    "deliveries": services().alerts.store.dead_deliveries(
                        scope(principal), per_page, (page - 1) * per_page)})
