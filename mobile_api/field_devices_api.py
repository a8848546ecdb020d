"""`GET /api/v1/field-devices`: the cadres' phones of the caller's villages, for the workbench.

Each device with who holds it, its village and town by name, its last contact, what it said it
still holds at that contact (models/device_status.py: pending and refused counts, since when it
holds work, when everything was last uploaded) and its app version. A town official sees the
devices of the town's villages, a county official those of its towns, the central office all;
`?village=` narrows to one village of the caller's subtree (403 `forbidden` outside it),
`?holding=1` to devices that still hold records, `?page=` / `?per_page=` page the list.
Devices holding work come first (longest first), then the longest silent.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify, request

from mobile_api.alerts_api import official, paging
from mobile_api.context import services
from mobile_api.errors import ApiError
from models.alerts import iso
from models.device_status import holds_work
from models.hierarchy import CODE_RE, HierarchyError, level_of

bp = Blueprint("field_devices", __name__, url_prefix="/api/v1")
FIELDS = ("device_id", "username", "village_code", "platform", "app_version", "first_seen",
          "last_contact", "last_push", "last_pull", "pending_at_last_contact",
          "refused_at_last_contact", "status_reported_at", "all_uploaded_at", "holding_since")


def _is_village(code: object) -> bool:
    try:
        return isinstance(code, str) and level_of(code) == "village"
    except HierarchyError:
        return False


def _name(places: dict, code: str) -> str | None:
    place = places.get(code)
    return place.name if place else None


def _order(device: dict) -> tuple:
    # holding work first, the longest holding first; then the longest silent first
    if holds_work(device):
        return (0, device.get("holding_since") or device.get("last_contact") or "")
    return (1, device.get("last_contact") or "")


def _row(device: dict, accounts: dict, places: dict) -> dict:
    account = accounts.get(device["username"]) or {}
    place = places.get(device["village_code"])
    town = places.get(place.parent or "") if place else None
    return {**{k: device.get(k) for k in FIELDS},
            "display_name": account.get("display_name") or device["username"],
            "phone": account.get("phone"), "village_name": place.name if place else None,
            "town_code": town.code if town else None, "town_name": town.name if town else None,
            "holds_work": holds_work(device), "disabled": bool(account.get("disabled"))}


@bp.get("/field-devices")
def field_devices():
    """The cadres' devices of the caller's villages, paged, with what each still holds."""
    principal = official()
    village = request.args.get("village") or None
    if village is not None:
        if not CODE_RE.match(village) or not _is_village(village):
            raise ApiError(400, "bad_request")
        if not principal.may_see(village):
            raise ApiError(403, "forbidden")
    holding_only = request.args.get("holding") in ("1", "true")
    page, per_page = paging()
    svc = services()
    accounts = svc.directory.account_docs()
    places = svc.directory.jurisdictions()
    in_scope = [d for d in svc.devices.devices()
                if _is_village(d.get("village_code")) and principal.may_see(d["village_code"])
                and (accounts.get(d.get("username") or "") or {}).get("role") == "cadre"]
    choices = [{"code": code, "name": _name(places, code)}
               for code in sorted({d["village_code"] for d in in_scope})]
    visible = [d for d in in_scope if village is None or d["village_code"] == village]
    holding = sum(1 for d in visible if holds_work(d))
    if holding_only:
        visible = [d for d in visible if holds_work(d)]
    visible.sort(key=_order)
    shown = visible[(page - 1) * per_page: page * per_page]
    return jsonify({"devices": [_row(d, accounts, places) for d in shown], "villages": choices,
                    "total": len(visible), "holding": holding, "page": page, "per_page": per_page,
                    "pages": max(1, -(-len(visible) // per_page)),
                    "generated_at": iso(datetime.now(timezone.utc))})
