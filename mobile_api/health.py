"""`GET /healthz`: is CouchDB reachable and is a worker alive? 200 when both, else 503."""
from __future__ import annotations

from flask import Blueprint, jsonify

from mobile_api.context import services
from sync.couch.client import CouchError
from sync.feeds.heartbeat import freshest_age

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report CouchDB reachability and the age of the freshest worker heartbeat."""
    svc = services()
    report: dict = {"couchdb": {"ok": False}, "worker": {"ok": False, "heartbeat_age_s": None}}
    try:
        info = svc.couch.info()
        report["couchdb"] = {"ok": True, "vendor": (info.get("vendor") or {}).get("name"),
                             "version": info.get("version")}
        age = freshest_age(svc.state_db)
        stale = svc.settings.heartbeat_stale_s
        report["worker"] = {"ok": age is not None and age <= stale,
                            "heartbeat_age_s": None if age is None else round(age, 1),
                            "stale_after_s": stale}
    except CouchError as exc:
        report["couchdb"]["error"] = exc.error
    healthy = report["couchdb"]["ok"] and report["worker"]["ok"]
    report["status"] = "ok" if healthy else "unhealthy"
    return jsonify(report), 200 if healthy else 503
