"""`/sync/<village>/...`: the replication endpoint devices use as their CouchDB database URL."""
from __future__ import annotations

import logging
import uuid

from flask import Blueprint, Response, g, jsonify, request

from mobile_api.auth import current_principal
from mobile_api.context import services
from mobile_api.errors import ApiError
from models.device_status import BadStatus, parse_status
from sync.directory.access import AccessDenied, authorize_village
from sync.gateway.forwarding import GatewayError, SyncRequest, iter_body
from sync.gateway.paths import PathRefused, split_target

log = logging.getLogger("fieldsync.gateway")
bp = Blueprint("sync", __name__)
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"]


@bp.get("/sync/")
def welcome():
    """The "server root" PouchDB asks for: its uuid keeps replication checkpoints stable."""
    return jsonify({"couchdb": "Welcome", "vendor": {"name": "fieldsync"},
                    "uuid": services().server_uuid()})


@bp.before_app_request
def _parse_sync_target() -> None:
    """Parse every `/sync/<village>/...` target from the raw bytes the server received, before
    routing can redirect, 404 or decode it: outside the grammar is a 400 (sync/gateway/paths.py)."""
    environ = request.environ
    path_info = environ.get("PATH_INFO", "")
    if not path_info.startswith("/sync/") or path_info == "/sync/":
        return
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    try:
        g.sync_target = split_target(raw, path_info, environ.get("QUERY_STRING", ""),
                                     script_name=environ.get("SCRIPT_NAME", ""))
    except PathRefused as exc:
        log.warning("refused sync path from %s: %s %r (%s)", request.remote_addr, request.method,
                    (raw or path_info)[:300], exc.code)
        raise ApiError(exc.status, exc.code, **exc.params) from None


@bp.route("/sync/<village>", methods=METHODS)
@bp.route("/sync/<village>/", methods=METHODS)
@bp.route("/sync/<village>/<path:rest>", methods=METHODS)
def forward(village: str, rest: str = ""):
    """Authenticate, authorise for this village, then forward to its database."""
    svc = services()
    parsed_village, segments, query = g.sync_target
    if parsed_village != village:  # cannot happen when the raw target and PATH_INFO agree
        raise ApiError(400, "bad_sync_path", position=0)
    principal = current_principal()
    try:
        authorize_village(principal, village)
    except AccessDenied as exc:
        log.warning("denied: %s (%s of %s) asked for village %s: %s %s", principal.username,
                    principal.role, principal.jurisdiction, village, request.method, request.path)
        raise ApiError(exc.status, exc.code, **exc.params) from None
    if not svc.village_exists(village):
        raise ApiError(404, "village_unknown", village=village)
    try:  # what the device says it still holds (docs/device-contract.md §8)
        status = parse_status(request.headers)
    except BadStatus as exc:
        raise ApiError(400, "device_status_format", header=exc.header) from None
    device = {"id": principal.device_id or request.headers.get("X-Device-Id"),
              "platform": request.headers.get("X-Device-Platform"),
              "app_version": request.headers.get("X-App-Version")}
    sync_request = SyncRequest(
        method=request.method, village=village, segments=segments,
        query=query, body=request.get_data(cache=False),
        accept=request.headers.get("Accept"), content_type=request.headers.get("Content-Type"),
        principal=principal, request_id=request.headers.get("X-Request-Id") or uuid.uuid4().hex,
        device=device)
    event = _event(sync_request)
    if event != "push":  # a push is recorded once it has landed (the gateway's after-write hook)
        svc.devices.record(device["id"], event, principal.username, village,
                           device["platform"], device["app_version"], status)
    try:
        forwarded = svc.gateway.handle(sync_request)
    except GatewayError as exc:
        raise ApiError(exc.status, exc.code, None, exc.headers, **exc.params) from None
    response = Response(iter_body(forwarded), status=forwarded.status,
                        headers=forwarded.headers, direct_passthrough=True)
    response.call_on_close(forwarded.close)  # also when the body is never iterated (HEAD)
    response.headers["X-Request-Id"] = sync_request.request_id
    return response


def _event(req: SyncRequest) -> str:
    head = req.segments[0] if req.segments else ""
    if head == "_bulk_docs" or req.method == "PUT" and head != "_local":
        return "push"
    if head in ("_changes", "_bulk_get"):
        return "pull"
    return "contact"
