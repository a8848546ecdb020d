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
from models.accounts import account_doc_id
from models.alerts import (TABS, acknowledge_input, assign_input, case_event_input, iso,
                           period_start, resolve_input, responsible_levels, sla_figures)
from sync.alerts.casework import AlertResolved, NotAcknowledged, timeline
from sync.alerts.listing import AlertQuery, list_alerts as list_alerts_of
from sync.alerts.store import scope_of
from sync.directory.access import Principal

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


def paging() -> tuple[int, int]:
    """`?page=` and `?per_page=` (at most MAX_PER_PAGE) of a listing; 400 when not numbers."""
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 50))))
    except ValueError:
        raise ApiError(400, "bad_request") from None
    return page, per_page


@bp.get("/alerts")
def list_alerts():
    """Alerts the caller may see, newest first: `?tab=pending|in_progress|overdue|resolved|all`
    (or the older `?state=`), `?mine=1`, `?town=<code>`, `?q=` (search), `?page=`, `?per_page=`;
    answers the page, the total and every tab's count."""
    principal = official()
    state = request.args.get("state") or None
    if state not in (None, "alerted", "acknowledged", "resolved"):
        raise ApiError(400, "bad_request")
    tab = request.args.get("tab") or {None: "all", "alerted": "pending",
                                      "acknowledged": "in_progress", "resolved": "resolved"}[state]
    if tab not in TABS:
        raise ApiError(400, "alert_tab_invalid", None, None, tab=tab[:40])
    view_scope = scope(principal)
    town = request.args.get("town")
    if town:
        if not principal.may_see(town):
            raise ApiError(403, "forbidden")
        view_scope = scope_of("town", town)
    page, per_page = paging()
    mine = principal.username if request.args.get("mine") in ("1", "true") else None
    query = AlertQuery(view_scope, tab, mine, (request.args.get("q") or "").strip()[:64],
                       page, per_page)
    answer = list_alerts_of(services().alerts.store, query, iso(datetime.now(timezone.utc)))
    for alert in answer["alerts"]:
        alert["may_act"] = may_act(principal, alert)
    answer["timezone"] = getattr(services().settings, "timezone", None) or "Asia/Shanghai"
    return jsonify(answer)


def may_act(principal: Principal, alert: dict) -> bool:
    """Whether the caller's level is responsible for the alert (others read it only)."""
    level = OFFICIAL_LEVEL[principal.role]
    return (level in responsible_levels(alert, services().alerts.chain)
            and principal.may_see(alert["town_code"]) and not alert.get("resolved_at"))


def responsible(alert_id: str) -> tuple[Principal, dict]:
    """The caller and the alert, when the caller's level may act on it (403 otherwise)."""
    principal = official()
    alert = visible_alert(alert_id, principal)
    if alert.get("resolved_at"):
        raise ApiError(409, "alert_already_resolved")
    if not may_act(principal, alert):
        raise ApiError(403, "alert_not_responsible")
    return principal, alert


def _mediation_request(alert: dict) -> dict | None:
    """The request as filed (the full description and parties), or None when unreadable."""
    svc = services()
    try:
        doc = svc.couch.database(svc.names.village(alert["village_code"])).get_or_none(
            alert["request_id"])
    except Exception:  # noqa: BLE001 - the alert itself still answers
        return None
    if not doc:
        return None
    return {k: doc.get(k) for k in ("_id", "category", "description", "urgency", "applicant",
                                    "other_parties", "amount_in_dispute_fen", "source",
                                    "recorded_at")}


@bp.get("/alerts/<alert_id>")
def get_alert(alert_id: str):
    """One alert with the request, its deliveries, case events, timeline, the town's mediators
    and whether the caller may act on it."""
    principal = official()
    alert = visible_alert(alert_id, principal)
    svc = services()
    store = svc.alerts.store
    deliveries, events = store.deliveries_of(alert_id), store.case_notes_of(alert_id)
    roster = svc.alerts.router.roster(alert["town_code"])
    steps = timeline(alert, deliveries, events)
    named = {n for e in steps for n in [*(e.get("recipients") or []), e.get("recipient"), e.get("by")]
             if isinstance(n, str)}
    accounts = svc.alerts.router.docs([account_doc_id(n) for n in sorted(named)])
    return jsonify({"alert": alert, "request": _mediation_request(alert),
                    "deliveries": deliveries, "case_events": events, "timeline": steps,
                    "may_act": may_act(principal, alert),
                    "mediators": roster.get("mediators") or [],
                    # the people the timeline names, as people know them
                    "names": {n: (accounts.get(account_doc_id(n)) or {}).get("display_name") or n
                              for n in sorted(named)}})


def _acted(action, alert_id: str, *args, **kwargs):
    principal, _ = responsible(alert_id)
    try:
        alert = action(alert_id, principal.username, *args, **kwargs)
    except AlertResolved:
        raise ApiError(409, "alert_already_resolved") from None
    except NotAcknowledged:
        raise ApiError(409, "alert_not_acknowledged") from None
    return jsonify({"alert": alert})


@bp.post("/alerts/<alert_id>/acknowledge")
def acknowledge(alert_id: str):
    """签收: the escalation chain stops."""
    official()  # authenticate before reading the body: 401, not 400/422, for strangers
    body = load_json(acknowledge_input) if request.content_length else {}
    return _acted(services().alerts.casework.acknowledge, alert_id, body.get("note"))


@bp.post("/alerts/<alert_id>/assign")
def assign(alert_id: str):
    """分派: a mediator from the town's list (any name and phone while the list is empty)."""
    official()  # authenticate before reading the body: 401, not 400/422, for strangers
    body = load_json(assign_input)
    _, alert = responsible(alert_id)
    listed = services().alerts.router.roster(alert["town_code"]).get("mediators") or []
    mediator = body["mediator"]
    if listed and not any(m["name"] == mediator["name"] and m["phone"] == mediator.get("phone")
                          for m in listed):
        raise ApiError(422, "mediator_not_listed", None, None, name=mediator["name"])
    return _acted(services().alerts.casework.assign, alert_id, mediator, body.get("note"))


@bp.post("/alerts/<alert_id>/resolve")
def resolve(alert_id: str):
    """办结 with an outcome, agreement and notes (409 `alert_not_acknowledged` before 签收)."""
    official()  # authenticate before reading the body: 401, not 400/422, for strangers
    body = load_json(resolve_input)
    return _acted(services().alerts.casework.resolve, alert_id, body["outcome"], body.get("note"),
                  agreement=body.get("agreement"))


@bp.post("/alerts/<alert_id>/events")
def add_case_event(alert_id: str):
    """Record a case event; an `Idempotency-Key` header makes a retried POST store it once."""
    principal, alert = responsible(alert_id)
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
    _, per_page = paging()
    return jsonify({"items": services().alerts.store.inbox(principal.username, per_page)})


@bp.get("/deliveries/dead")
def dead_letters():
    """Deliveries that gave up after 24 h of retries, newest first."""
    principal = official()
    page, per_page = paging()
    return jsonify({"page": page, "per_page": per_page,
                    "deliveries": services().alerts.store.dead_deliveries(
                        scope(principal), per_page, (page - 1) * per_page)})
