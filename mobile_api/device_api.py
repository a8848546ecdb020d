"""Device-facing API: bootstrap, feedback for the cadre, and the app version gate."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import Blueprint, jsonify, request

from mobile_api.auth import current_principal, login_required
from mobile_api.context import services
from mobile_api.errors import ApiError
from models.form_options import form_options
from models.hierarchy import LEVELS, parent_code
from models.session import is_supported

bp = Blueprint("device", __name__, url_prefix="/api/v1")
GATED_PREFIXES = ("/sync/", "/api/v1/")


@bp.before_app_request
def app_version_gate():
    """426 for an app older than FIELDSYNC_MIN_APP_VERSION (it names the version it needs)."""
    if not request.path.startswith(GATED_PREFIXES):
        return
    version = request.headers.get("X-App-Version")
    minimum = services().settings.min_app_version
    if version and not is_supported(version, minimum):
        raise ApiError(426, "app_version_unsupported", current=version, minimum=minimum)


def _hierarchy_slice(code: str) -> list[dict]:
    directory = services().directory
    chain, current = [], code
    while current:
        unit = directory.jurisdiction(current)
        if unit is None:
            break
        chain.append({"code": unit.code, "name": unit.name, "level": unit.level})
        current = parent_code(current)
    return sorted(chain, key=lambda unit: LEVELS.index(unit["level"]))


@bp.get("/bootstrap")
@login_required
def bootstrap():
    """What an app needs at start: form options, where it sits in the hierarchy, server time."""
    principal = current_principal()
    svc = services()
    now = datetime.now(timezone.utc)
    limits = svc.gateway.limits
    return jsonify({
        "account": {"username": principal.username, "role": principal.role,
                    "jurisdiction": principal.jurisdiction},
        "hierarchy": _hierarchy_slice(principal.jurisdiction),
        "form_options": form_options(),
        "server_time": now.isoformat(timespec="milliseconds"),
        "server_time_ms": int(time.time() * 1000),
        "min_app_version": svc.settings.min_app_version,
        "sync_path": f"/sync/{principal.jurisdiction}" if principal.role == "cadre" else None,
        "limits": {"max_request_bytes": limits.max_request_bytes,
                   "max_attachment_bytes": limits.max_attachment_bytes,
                   "recommended_photo_batch_size": 10},
    })


@bp.get("/feedback")
@login_required
def feedback():
    """Feedback documents for the cadre's village (`?all=1` includes resolved ones)."""
    principal = current_principal()
    if principal.role != "cadre":
        raise ApiError(403, "forbidden")
    db = services().couch.database(services().names.village(principal.jurisdiction))
    items = list(db.docs_with_prefix("feedback:"))
    if request.args.get("all") != "1":
        items = [item for item in items if item.get("resolved_at") is None]
    items.sort(key=lambda item: item.get("created_at", ""), reverse=True)
    return jsonify({"feedback": [{k: v for k, v in item.items() if k != "_rev"} for item in items],
                    "count": len(items)})
