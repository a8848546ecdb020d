"""Worker heartbeats: each worker stamps its own document in the state database; they are also
the worker membership that work is split by (sync/cluster/membership.py)."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from sync.couch.client import Conflict, Database

PREFIX = "heartbeat:"


def beat(db: Database, worker_id: str, **details: object) -> None:
    """Record that `worker_id` is alive now (one document per worker, updated in place)."""
    doc_id = PREFIX + worker_id
    for _ in range(3):
        doc = db.get_or_none(doc_id) or {"_id": doc_id, "type": "worker_heartbeat",
                                         "schema_version": 1, "worker_id": worker_id}
        doc.update(details, beat_at=time.time(),
                   beat_at_iso=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        try:
            db.put(doc)
            return
        except Conflict:  # two processes claiming one id: the next round reads the winner
            continue


def leave(db: Database, worker_id: str) -> None:
    """Remove a stopping worker's heartbeat, so the others take its share of the work at once
    (sync/cluster/membership.py) instead of when it has gone stale."""
    doc = db.get_or_none(PREFIX + worker_id)
    if doc is not None:
        try:
            db.delete(doc["_id"], doc["_rev"])
        except Conflict:  # beaten meanwhile: it goes stale instead
            pass


def heartbeats(db: Database) -> list[dict]:
    """Every worker's latest heartbeat document."""
    return list(db.docs_with_prefix(PREFIX))


def freshest_age(db: Database, now: float | None = None) -> float | None:
    """Seconds since the most recent heartbeat of any worker, or None if none ever beat."""
    beats = [doc.get("beat_at", 0) for doc in heartbeats(db)]
    if not beats:
        return None
    return max(0.0, (now or time.time()) - max(beats))
