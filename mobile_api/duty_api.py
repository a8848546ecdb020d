"""Duty rosters: who is on duty for a town or county (alerts are routed by them).

Officials read the rosters within their jurisdiction; county officials edit those of their
county and its towns, the central office any.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from mobile_api.alerts_api import official
from mobile_api.context import services
from mobile_api.errors import ApiError
from mobile_api.session_api import load_json
from models.accounts import account_doc_id
from models.duty_roster import EDITOR_ROLES, ROSTER_LEVELS, duty_roster_input, roster_problems
from models.hierarchy import HierarchyError, level_of
from models.messages import both

bp = Blueprint("duty", __name__, url_prefix="/api/v1/duty-rosters")


def _roster_code(code: str) -> str:
    try:
        level = level_of(code)
    except HierarchyError:
        level = None
    if level not in ROSTER_LEVELS:
        raise ApiError(404, "roster_not_found", None, None, code=code)
    return code


@bp.get("")
def list_rosters():
    """Every town and county roster the caller may see, with who answers its alerts now and a
    warning where nobody is on duty (the alert then goes to the town's officials, then the
    county's), and the officials who may stand on it."""
    principal = official()
    svc = services()
    router = svc.alerts.router
    places = svc.directory.jurisdictions()
    shown = [(code, place) for code, place in sorted(places.items())
             if place.level in ROSTER_LEVELS and principal.may_see(code)]
    accounts = _accounts_named(router, shown)
    person = lambda name: {"username": name,  # noqa: E731
                           "display_name": (accounts.get(name) or {}).get("display_name") or name,
                           "phone": (accounts.get(name) or {}).get("phone")}
    rosters = []
    for code, place in shown:
        roster = router.roster(code)
        on_duty = router.enabled(roster.get("on_duty") or [])
        if place.level == "town":
            answered_by, source = router.town_duty(code, place.parent or "")
        else:
            answered_by = on_duty or router.officials_of(code)
            source = "county_roster" if on_duty else ("county_officials" if answered_by else "nobody")
        rosters.append({
            "code": code, "name": place.name, "level": place.level, "parent": place.parent,
            "parent_name": getattr(places.get(place.parent or ""), "name", None),
            "on_duty": [person(n) for n in on_duty],
            "leader": person(roster["leader"]) if roster.get("leader") else None,
            "mediators": roster.get("mediators") or [],
            "updated_at": roster.get("updated_at"), "updated_by": roster.get("updated_by"),
            "updated_by_name": person(roster["updated_by"])["display_name"]
            if roster.get("updated_by") else None,
            "nobody_on_duty": not on_duty, "answered_by": [person(n) for n in answered_by],
            "answered_by_source": source,
            "eligible": [person(n) for n in router.officials_of(code)],
            "editable": principal.role in EDITOR_ROLES})
    return jsonify({"rosters": rosters,
                    "warnings": [{"code": r["code"], "name": r["name"], "error": "nobody_on_duty",
                                  "messages": both("nobody_on_duty", place=r["name"])}
                                 for r in rosters if r["nobody_on_duty"]]})


def _accounts_named(router, shown: list) -> dict[str, dict]:
    """The accounts a roster list names (on duty, leaders, editors, who answers, who may stand
    on it) in one read, not the whole directory; the officials of every place shown and of the
    towns' counties in one view read (the list then finds them in the router's cache)."""
    router.officials_in([code for code, _ in shown] + [p.parent for _, p in shown if p.parent])
    names: list[str | None] = []
    for code, place in shown:
        roster = router.roster(code)
        names += [*(roster.get("on_duty") or []), roster.get("leader"), roster.get("updated_by"),
                  *router.officials_of(code)]
        if place.level == "town":
            names += router.town_duty(code, place.parent or "")[0]
    return router.accounts(names)


@bp.get("/<code>")
def get_roster(code: str):
    """The roster of a town or county."""
    principal = official()
    code = _roster_code(code)
    if not principal.may_see(code):
        raise ApiError(403, "forbidden")
    roster = services().alerts.router.roster(code)
    return jsonify({k: roster.get(k) for k in ("code", "on_duty", "leader", "mediators",
                                               "updated_at", "updated_by")} | {"code": code})


@bp.put("/<code>")
def put_roster(code: str):
    """Replace a roster: `{"on_duty": [usernames], "leader": username | null}`."""
    principal = official()
    code = _roster_code(code)
    if principal.role not in EDITOR_ROLES or not principal.may_see(code):
        raise ApiError(403, "forbidden")
    body = load_json(duty_roster_input)
    router = services().alerts.router
    names = [*body["on_duty"], *([body["leader"]] if body.get("leader") else [])]
    accounts = {name: services().directory.account(name) for name in dict.fromkeys(names)}
    problems = roster_problems(code, body, accounts)
    if problems:
        raise ApiError(422, "validation_failed", [
            {"field": p["field"], "code": p["code"],
             "message": both(p["code"], username=p["username"], code=code)} for p in problems])
    for name in names:
        router.forget(account_doc_id(name))
    saved = router.save_roster(code, body["on_duty"], body.get("leader"), principal.username,
                               body.get("mediators"))
    return jsonify({k: saved.get(k) for k in ("code", "on_duty", "leader", "mediators",
                                              "updated_at", "updated_by")})
