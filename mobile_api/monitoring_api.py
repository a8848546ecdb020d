"""`GET /api/v1/monitoring`: backlogs, lag and breaches, computed from stored state.

Read-only: nothing here writes. Officials see the figures of the villages, alerts, devices and
jobs within their jurisdiction; the central office sees everything. Worker heartbeats are global
(a worker serves every jurisdiction). docs/operations.md, section "Monitoring", explains each
figure. Cost: one `_changes?limit=1` per visible village and consumer (sequences are opaque on
CouchDB 3.x: "behind" is asked of the changes feed from the stored checkpoint, never compared),
one view query per visible village, plus a few reads of the server databases; fine for a
dashboard polled every minute, not for every second.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify

from mobile_api.alerts_api import official, scope
from mobile_api.context import services
from mobile_api.loop_lag import LOOP_LAG_KEY
from models.alerts import ACK_TARGET_S, RESOLVE_TARGET_S, iso, sla_figures
from models.common import parse_time
from models.device_status import FIELDS as STATUS_FIELDS, holds_work
from sync.directory.access import Principal
from sync.alerts.desk import SWEEP_CONSUMER
from sync.couch.client import NotFound
from sync.feeds.heartbeat import heartbeats
from sync.reconcile.pipeline import CONSUMER as RECONCILE_CONSUMER
from sync.feeds.village_feed import checkpoint_id

bp = Blueprint("monitoring", __name__, url_prefix="/api/v1")
CONSUMERS = (SWEEP_CONSUMER, RECONCILE_CONSUMER)
STALE_DEVICE_H = 72
EVERYTHING = 1_000_000  # "no limit" for the paged store reads


def _age_s(stamp: str | None, now: datetime) -> float | None:
    if not stamp:
        return None
    try:
        return round((now - parse_time(stamp)).total_seconds(), 1)
    except (TypeError, ValueError):
        return None


def _villages(principal: Principal) -> list[str]:
    return [code for code in services().directory.villages() if principal.may_see(code)]


def _feeds(villages: list[str], now: datetime) -> tuple[dict, dict]:
    """Per consumer: villages with changes after the stored checkpoint, asked of each village's
    changes feed from that checkpoint (`pending` on CouchDB 3.x; "some" or "none" elsewhere).
    Returns the figures and {village: whether its database exists}."""
    svc = services()
    present = dict.fromkeys(villages, True)
    dead = list(svc.state_db.docs_with_prefix("dead_letter:"))
    consumers = {}
    for consumer in CONSUMERS:
        behind, never_read, ages, behind_ages = [], 0, [], []
        pending: int | None = 0
        for village in villages:
            if not present[village]:
                continue
            checkpoint = svc.state_db.get_or_none(checkpoint_id(consumer, village))
            age = _age_s(checkpoint.get("updated_at"), now) if checkpoint else None
            if age is not None:
                ages.append(age)
            try:
                left = svc.couch.database(svc.names.village(village)).pending(
                    str(checkpoint.get("since") or "0") if checkpoint else "0")
            except NotFound:  # registered but its database is not created yet
                present[village] = False
                continue
            if left == 0:
                continue  # nothing after the checkpoint (or nothing written yet)
            pending = None if left is None or pending is None else pending + left
            behind.append(village)
            if checkpoint is None:
                never_read += 1
            elif age is not None:
                behind_ages.append(age)
        consumers[consumer] = {
            "villages": len(villages), "behind": len(behind), "behind_villages": behind[:50],
            "never_read": never_read, "pending_changes": pending,
            "oldest_checkpoint_age_s": max(ages, default=None),
            "oldest_behind_checkpoint_age_s": max(behind_ages, default=None),
            "dead_letters": sum(1 for d in dead if d.get("consumer") == consumer
                                and d.get("village_code") in present)}
    return consumers, present


def _conflicts(principal: Principal, present: dict) -> dict:
    svc = services()
    resolver = svc.reconciliation.resolver
    by_village = {}
    for village, exists in present.items():
        if not exists:
            continue
        try:
            count = len(resolver.conflicted_ids(village))
        except NotFound:  # the village design document is not installed yet
            continue
        if count:
            by_village[village] = count
    tasks = [d for d in svc.reconciliation.review_db.docs_with_prefix("review:")
             if d.get("type") == "review_task" and d.get("state") == "open"
             and any(isinstance(c, str) and principal.may_see(c)
                     for c in (d.get("villages") or [d.get("village_code")]))]
    return {"conflicted_documents": sum(by_village.values()), "by_village": by_village,
            "open_review_tasks": len(tasks),
            "open_household_disagreements": sum(1 for t in tasks
                                                if t.get("kind") == "household_disagreement")}


def _outbox(principal: Principal, scope: list, now: datetime) -> dict:
    store = services().alerts.store
    pending = [d for d in store.due_deliveries("\ufff0", EVERYTHING)
               if principal.may_see(d.get("town_code", ""))]
    due = [d for d in pending if (d.get("next_attempt_at") or "") <= iso(now)]
    dead = store.dead_deliveries(scope, EVERYTHING, 0)
    return {"pending": len(pending), "due": len(due), "dead": len(dead),
            "oldest_pending_age_s": max((_age_s(d.get("created_at"), now) or 0
                                         for d in pending), default=None)}


def _sla(principal: Principal, now: datetime) -> dict:
    open_alerts = [a for a in services().alerts.store.active()
                   if principal.may_see(a.get("town_code", ""))]
    overall = sla_figures(open_alerts, now)["overall"]
    return {"open_alerts": len(open_alerts),
            "open_past_ack_target": overall["time_to_acknowledge_s"]["open_past_target"],
            "open_past_resolve_target": overall["time_to_resolve_s"]["open_past_target"],
            "ack_target_s": ACK_TARGET_S, "resolve_target_s": RESOLVE_TARGET_S}


def _photos(principal: Principal) -> dict:
    desk = services().photo_desk
    if principal.role == "central_admin":
        return desk.backlog()
    jobs = [j for j in desk.db.docs_with_prefix("photo_job:")
            if principal.may_see(j.get("village_code", ""))]
    return {"pending": sum(1 for j in jobs if j.get("state") == "pending"),
            "dead": sum(1 for j in jobs if j.get("state") == "dead")}


def _devices(principal: Principal) -> dict:
    registry = services().devices
    visible = [d for d in registry.devices() if principal.may_see(d.get("village_code", ""))]
    stale = [d for d in registry.stale(timedelta(hours=STALE_DEVICE_H))
             if principal.may_see(d.get("village_code", ""))]
    holding = sorted((d for d in visible if holds_work(d)), key=lambda d: d.get("holding_since") or "")
    return {"total": len(visible), "stale": len(stale), "stale_after_h": STALE_DEVICE_H,
            "stale_devices": [{k: d.get(k) for k in ("device_id", "username", "village_code",
                                                     "last_contact")} for d in stale[:50]],
            # devices that last said they hold documents the server does not have, longest first
            "holding_unsent": len(holding),
            "holding_devices": [{k: d.get(k) for k in ("device_id", "username", "village_code",
                                                       "last_contact", *STATUS_FIELDS)}
                                for d in holding[:50]]}


def _held_connections() -> dict:
    """Held requests of THIS web process (each process serves its own connections: with several
    behind one address, each answers for itself; `pid` says which one answered)."""
    import os
    svc = services()
    lag = current_app.extensions.get(LOOP_LAG_KEY)  # set by server/serve.py (gunicorn workers)
    return {"pid": os.getpid(), "longpolls": svc.gateway.held.figures(),
            "reads": svc.gateway.reads.figures(),
            "watchers": svc.gateway.watch.figures(), "streams": svc.alerts.live.budget.figures(),
            "loop_lag": lag.figures() if lag else None}


def _workers() -> dict:
    svc = services()
    stale_after = svc.settings.heartbeat_stale_s
    now = time.time()
    workers = []
    for beat in heartbeats(svc.state_db):
        age = round(max(0.0, now - float(beat.get("beat_at") or 0)), 1)
        workers.append({"worker_id": beat.get("worker_id"), "age_s": age,
                        "beat_at": beat.get("beat_at_iso"), "ok": age <= stale_after})
    workers.sort(key=lambda w: w["age_s"])
    return {"count": len(workers), "alive": sum(1 for w in workers if w["ok"]),
            "freshest_age_s": workers[0]["age_s"] if workers else None,
            "stale_after_s": stale_after, "workers": workers}


@bp.get("/monitoring")
def monitoring():
    """Operational figures for the caller's jurisdiction (officials only)."""
    principal = official()
    now = datetime.now(timezone.utc)
    svc = services()
    feeds, present = _feeds(_villages(principal), now)
    quarantined = [e for e in svc.quarantine.open_entries()
                   if principal.may_see(e.get("village_code", ""))]
    return jsonify({
        "generated_at": iso(now),
        "scope": {"username": principal.username, "role": principal.role,
                  "jurisdiction": principal.jurisdiction},
        "village_feeds": feeds,
        "conflicts": _conflicts(principal, present),
        "outbox": _outbox(principal, scope(principal), now),
        "sla": _sla(principal, now),
        "photos": _photos(principal),
        "quarantine": {"open": len(quarantined)},
        "devices": _devices(principal),
        "workers": _workers(),
        "held_connections": _held_connections(),
    })
