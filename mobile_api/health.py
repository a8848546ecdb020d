"""`GET /healthz`: is CouchDB reachable and is a worker alive? 200 when both, else 503.

The check itself (two CouchDB round trips) runs in the background, at most once per
CHECK_EVERY_S: a request answers from the latest finished check at once, so a load balancer's
probe never waits behind a busy CouchDB, and a thousand probes cost one check. A check that has
not finished for OVERDUE_S (CouchDB hangs) makes the answer 503 `check_overdue` rather than an
old "ok". Only the very first request of a process waits for a check.
"""
from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app, jsonify

from mobile_api.context import services
from mobile_api.loop_lag import LOOP_LAG_KEY
from sync.couch.client import CouchError, CouchServer
from sync.feeds.heartbeat import freshest_age

bp = Blueprint("health", __name__)
CHECK_EVERY_S = 1.0
OVERDUE_S = 10.0
PROBE_KEY = "fieldsync_health"


def check(couch: CouchServer, state_db: str, stale: float) -> dict:
    """CouchDB reachability and the age of the freshest worker heartbeat, now."""
    report: dict = {"couchdb": {"ok": False}, "worker": {"ok": False, "heartbeat_age_s": None}}
    try:
        info = couch.info()
        report["couchdb"] = {"ok": True, "vendor": (info.get("vendor") or {}).get("name"),
                             "version": info.get("version")}
        age = freshest_age(couch.database(state_db))
        report["worker"] = {"ok": age is not None and age <= stale,
                            "heartbeat_age_s": None if age is None else round(age, 1),
                            "stale_after_s": stale}
    except CouchError as exc:
        report["couchdb"]["error"] = exc.error
    return report


class HealthProbe:
    """The latest finished check, refreshed by one background check at a time."""

    def __init__(self, svc):
        self.svc = svc
        # a connection of its own: whether CouchDB answers, not whether the shared pool is free
        self.couch = svc.couch.with_own_pool(1)
        self._lock = threading.Lock()
        self._report: dict | None = None
        self._checked_at = 0.0   # monotonic time the latest finished check started
        self._running = False

    def _refresh(self) -> None:
        started = time.monotonic()
        try:
            report = check(self.couch, self.svc.names.state, self.svc.settings.heartbeat_stale_s)
        finally:
            with self._lock:
                self._running = False
        with self._lock:
            if started >= self._checked_at:
                self._report, self._checked_at = report, started

    def report(self) -> dict:
        """The report to answer with (the first call of a process checks in the foreground)."""
        with self._lock:
            report, age = self._report, time.monotonic() - self._checked_at
            start = report is not None and age >= CHECK_EVERY_S and not self._running
            first = report is None and not self._running
            if start or first:
                self._running = True
        if first:
            self._refresh()
            with self._lock:
                report, age = self._report, time.monotonic() - self._checked_at
        elif start:
            threading.Thread(target=self._refresh, daemon=True, name="healthz-check").start()
        if report is None:  # the first check is still running in another request
            report, age = {"couchdb": {"ok": False, "error": "check_pending"},
                           "worker": {"ok": False, "heartbeat_age_s": None}}, 0.0
        elif age > OVERDUE_S:
            report = {**report, "couchdb": {"ok": False, "error": "check_overdue"}}
        return {**report, "checked_s_ago": round(age, 1)}


@bp.get("/healthz")
def healthz():
    """Report CouchDB reachability and the age of the freshest worker heartbeat."""
    probe = current_app.extensions.get(PROBE_KEY)
    if probe is None:
        probe = current_app.extensions.setdefault(PROBE_KEY, HealthProbe(services()))
    report = probe.report()
    lag = current_app.extensions.get(LOOP_LAG_KEY)  # the worker's loop lag (gunicorn workers only)
    if lag is not None:
        report["loop_lag"] = lag.figures()
    healthy = report["couchdb"]["ok"] and report["worker"]["ok"]
    report["status"] = "ok" if healthy else "unhealthy"
    return jsonify(report), 200 if healthy else 503
