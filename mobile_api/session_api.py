"""Device sessions: log in for a token, list and revoke devices, find stale ones."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request, url_for
from marshmallow import ValidationError

from mobile_api.auth import current_principal, denied, login_required
from mobile_api.context import services
from mobile_api.errors import ApiError
from models.session import login_schema
from models.validation import describe_errors
from sync.directory.access import TOKEN_TTL_S, AccessDenied

log = logging.getLogger("fieldsync.session")
bp = Blueprint("session", __name__, url_prefix="/api/v1")
MAX_STALE_HOURS = 24 * 365


def load_json(schema):
    """Validate the JSON body with `schema`; 400 for non-JSON, 422 with field details."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_json")
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise ApiError(422, "validation_failed",
                       describe_errors(exc.normalized_messages())) from None


@bp.post("/login")
def login():
    """Exchange a username and password for a device token (used as the sync password)."""
    svc = services()
    body = load_json(login_schema)
    try:
        svc.authenticator.authenticate(body["username"], body["password"])
    except AccessDenied as exc:
        log.info("login refused for %s from %s: %s", body["username"], request.remote_addr,
                 exc.code)
        raise denied(exc) from None
    svc.directory.readmit_device(body["username"], body["device_id"])
    account = svc.directory.require_account(body["username"])
    token = svc.authenticator.issue_token(account, body["device_id"])
    svc.devices.record(body["device_id"], "contact", account["username"],
                       account["jurisdiction"], body.get("platform"), body.get("app_version"))
    expires = datetime.now(timezone.utc) + timedelta(seconds=TOKEN_TTL_S)
    answer = {"username": account["username"], "role": account["role"],
              "jurisdiction": account["jurisdiction"], "display_name": account["display_name"],
              "token": token, "expires_at": expires.isoformat(timespec="seconds"),
              "sync_url": None}
    if account["role"] == "cadre":
        answer["sync_url"] = url_for("sync.welcome", _external=True) + account["jurisdiction"]
    return jsonify(answer)


@bp.get("/devices")
@login_required
def devices():
    """Devices in the caller's jurisdiction; `?stale_hours=N` lists only those silent for N hours."""
    principal = current_principal()
    try:
        stale_hours = float(request.args.get("stale_hours", "0"))
    except ValueError:
        raise ApiError(400, "bad_request") from None
    if not 0 <= stale_hours <= MAX_STALE_HOURS:
        raise ApiError(400, "bad_request")
    registry = services().devices
    if stale_hours:
        found = registry.stale(timedelta(hours=stale_hours))
    else:
        found = registry.devices()
    if principal.role == "cadre":
        visible = [d for d in found if d.get("username") == principal.username]
    else:
        visible = [d for d in found if principal.may_see(d.get("village_code", ""))]
    fields = ("device_id", "username", "village_code", "platform", "app_version", "first_seen",
              "last_contact", "last_push", "last_pull")
    return jsonify({"devices": [{k: d.get(k) for k in fields} for d in visible],
                    "count": len(visible)})


@bp.delete("/devices/<device_id>/token")
@login_required
def revoke_device(device_id: str):
    """Revoke one device's token: the account's own, or any in an official's jurisdiction."""
    principal = current_principal()
    svc = services()
    device = svc.devices.db.get_or_none(f"device:{device_id}")
    if device is None:
        raise ApiError(404, "not_found")
    own = device.get("username") == principal.username
    if not own and (principal.role == "cadre" or not principal.may_see(device.get("village_code", ""))):
        raise ApiError(403, "forbidden")
    svc.directory.revoke_device(device["username"], device_id)
    log.info("%s revoked the token of device %s (%s)", principal.username, device_id,
             device["username"])
    return jsonify({"ok": True, "device_id": device_id, "username": device["username"]})
