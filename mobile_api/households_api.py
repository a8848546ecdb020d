"""Household search for officials: the central view, ID numbers masked."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from mobile_api.auth import current_principal
from mobile_api.context import services
from mobile_api.errors import ApiError
from models.hierarchy import prefix
from models.household import POVERTY_STATUSES

bp = Blueprint("households", __name__, url_prefix="/api/v1")
OFFICIALS = ("town_official", "county_official", "central_admin")
MAX_PER_PAGE = 200


@bp.get("/households")
def search():
    """`?q=` a name part or a full ID number, `?status=`, `?page=`, `?per_page=` (≤ 200)."""
    from sync.reconcile.pipeline import search_households
    principal = current_principal()
    if principal.role not in OFFICIALS:
        raise ApiError(403, "forbidden")
    status = request.args.get("status") or None
    if status is not None and status not in POVERTY_STATUSES:
        raise ApiError(400, "bad_request")
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 50))))
    except ValueError:
        raise ApiError(400, "bad_request") from None
    query = (request.args.get("q") or "")[:64]
    found = search_households(services().reconciliation, prefix(principal.jurisdiction),
                              query, status)
    start = (page - 1) * per_page
    names = {code: place.name for code, place in services().directory.jurisdictions().items()}
    shown = [{**h, "village_name": names.get(h.get("village_code"))}
             for h in found[start:start + per_page]]
    return jsonify({"page": page, "per_page": per_page, "total": len(found), "households": shown})
