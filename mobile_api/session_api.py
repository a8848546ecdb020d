"""Device sessions: log in for a token (password only), renew it (token only), list and revoke
devices, find stale ones."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request, url_for
from marshmallow import ValidationError

from mobile_api.auth import current_principal, denied, login_required, request_source
from mobile_api.context import services
from mobile_api.errors import ApiError
from mobile_api.json_body import request_json
from models.device_status import FIELDS as STATUS_FIELDS
from models.session import login_schema, renew_schema
from models.validation import describe_errors
from sync.directory.access import AccessDenied, parse_basic
from sync.directory.devices import DeviceTaken

log = logging.getLogger("fieldsync.session")
bp = Blueprint("session", __name__, url_prefix="/api/v1")
MAX_STALE_HOURS = 24 * 365


def load_json(schema):
    """Validate the JSON body with `schema`; 400 for non-JSON, 422 with field details."""
    payload = request_json()
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise ApiError(422, "validation_failed",
                       describe_errors(exc.normalized_messages())) from None


@bp.post("/login")
def login():
    """Exchange a username and password (never a token) for a device token."""
    svc = services()
    body = load_json(login_schema)
    try:
        svc.authenticator.authenticate_password(body["username"], body["password"],
                                                request_source())
    except AccessDenied as exc:
        log.info("login refused for %s from %s: %s", body["username"], request.remote_addr,
                 exc.code)
        raise denied(exc) from None
    account = svc.directory.require_account(body["username"])
    try:
        svc.devices.claim(body["device_id"], account["username"], account["jurisdiction"],
                          body.get("platform"), body.get("app_version"))
    except DeviceTaken:
        log.warning("login of %s from %s refused: device id %s belongs to another account",
                    account["username"], request.remote_addr, body["device_id"])
        raise ApiError(409, "device_id_taken", device_id=body["device_id"]) from None
    svc.directory.readmit_device(account["username"], body["device_id"])  # the password did it
    account = svc.directory.require_account(account["username"])
    return jsonify(_session_answer(account, body["device_id"]))


@bp.post("/token/renew")
def renew_token():
    """A new token for a live, unexpired token of a live device (Basic username:token)."""
    svc = services()
    try:
        username, secret = parse_basic(request.headers.get("Authorization"))
        principal = svc.authenticator.authenticate_token(username, secret)
        if not principal.device_id or svc.devices.owner(principal.device_id) != username:
            raise AccessDenied(401, "token_revoked")
    except AccessDenied as exc:
        log.info("token renewal refused from %s: %s", request.remote_addr, exc.code)
        raise denied(exc) from None
    body = load_json(renew_schema) if request.get_data(cache=True) else {}
    account = svc.directory.require_account(username)
    svc.devices.record(principal.device_id, "contact", username, account["jurisdiction"],
                       body.get("platform"), body.get("app_version"))
    return jsonify(_session_answer(account, principal.device_id))


def _session_answer(account: dict, device_id: str) -> dict:
    """What login and renewal answer: who, the token and its expiry, where to sync."""
    token, expires = services().authenticator.tokens.issue(account, device_id)
    answer = {"username": account["username"], "role": account["role"],
              "jurisdiction": account["jurisdiction"], "display_name": account["display_name"],
              "token": token,
              "expires_at": datetime.fromtimestamp(expires, timezone.utc).isoformat(timespec="seconds"),
              "sync_url": None}
    if account["role"] == "cadre":
        answer["sync_url"] = url_for("sync.welcome", _external=True) + account["jurisdiction"]
    return answer


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
              "last_contact", "last_push", "last_pull", *STATUS_FIELDS)
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
