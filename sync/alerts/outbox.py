"""The outbox: one delivery document per (alert, channel, recipient, step), sent at least once.

Who sends a due delivery is decided by ownership, not by winning a write: deliveries are split
over the live workers by rendezvous hashing (`owns`, sync/cluster/membership.py). The sender
writes a lease into the delivery before sending; that write is a record (a 409 says another
process wrote the delivery meanwhile, so this one leaves it), never a claim: on a cluster a
201 and a 202 can both answer two writers of one lease. A worker killed mid-send leaves a lease
that expires, and the delivery's owner sends again with the same idempotency key, as does a
second sender during a handover: receivers deduplicate on the key (`Idempotency-Key`). Failures
retry at 30 s doubling to 1 h; after 24 h a delivery is dead and listed for people to look at.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Callable

from models.accounts import account_doc_id
from models.alerts import after_failure, iso
from models.doc_ids import delivery_id
from models.escalation import Step
from sync.alerts.channels.base import DeliveryFailed
from sync.alerts.routing import Router
from sync.alerts.store import AlertStore
from sync.couch.client import Conflict, CouchError

log = logging.getLogger("fieldsync.outbox")


def utc(now: datetime | None = None) -> datetime:
    """`now`, or the current time, as an aware UTC datetime."""
    return now or datetime.now(timezone.utc)


def idempotency_key(doc_id: str) -> str:
    """A short stable key for a delivery (what receivers deduplicate on)."""
    return "fsd1-" + hashlib.sha256(doc_id.encode()).hexdigest()[:32]


class Outbox:
    """Plans, claims and sends deliveries."""

    def __init__(self, store: AlertStore, router: Router, channels: dict, lease_s: float = 60.0,
                 owns: Callable[[str], bool] | None = None):
        self.store, self.router, self.channels, self.lease_s = store, router, channels, lease_s
        self.owns = owns  # which deliveries this worker sends (None: all)

    # --- planning ------------------------------------------------------------------------------
    def plan(self, alert: dict, step: Step, recipients: list[dict], now: datetime,
             leased_by: str | None = None) -> list[dict]:
        """The delivery documents of one step (unsaved); `leased_by` pre-claims them."""
        at = iso(now)
        docs = []
        for account in recipients:
            for channel in self.channels.values():
                if not channel.applies(account):
                    continue
                doc_id = delivery_id(alert["_id"], channel.name, account["username"], step.step)
                doc = {"_id": doc_id, "type": "delivery", "schema_version": 1,
                       "alert_id": alert["_id"], "channel": channel.name,
                       "recipient": account["username"], "step": step.step,
                       "escalation_level": step.step, "step_name": step.name,
                       "step_kind": step.kind, "town_code": alert["town_code"],
                       "county_code": alert["county_code"], "idempotency_key": idempotency_key(doc_id),
                       "state": "pending", "attempts": 0, "next_attempt_at": at,
                       "lease_until": None, "leased_by": None, "last_error": None,
                       "created_at": at, "delivered_at": None}
                if channel.immediate:
                    doc.update(state="delivered", delivered_at=at, next_attempt_at=None)
                elif leased_by:
                    doc.update(lease_until=iso(now + timedelta(seconds=self.lease_s)),
                               leased_by=leased_by, attempts=1)
                docs.append(doc)
        return docs

    def store_planned(self, docs: list[dict]) -> list[dict]:
        """Create planned deliveries; returns those this call created (conflicts = done)."""
        if not docs:
            return []
        created = []
        results = {r.get("id"): r for r in self.store.db.bulk_docs(docs)}
        for doc in docs:
            result = results.get(doc["_id"], {})
            if result.get("ok"):
                doc["_rev"] = result["rev"]
                created.append(doc)
            elif result.get("error") != "conflict":
                raise CouchError(None, result.get("error", "?"), result.get("reason", ""))
        return created

    # --- sending --------------------------------------------------------------------------------
    def claim(self, delivery: dict, worker_id: str, now: datetime) -> bool:
        """Record the lease on a due delivery before sending it; False when it is not due, is
        leased, or was written meanwhile (409). True is no exclusive claim (a cluster may also
        have accepted another sender's lease): ownership keeps a second sender rare."""
        at = iso(now)
        if delivery["state"] != "pending" or (delivery.get("next_attempt_at") or "") > at:
            return False
        if delivery.get("lease_until") and delivery["lease_until"] > at:
            return False
        delivery.update(lease_until=iso(now + timedelta(seconds=self.lease_s)),
                        leased_by=worker_id, attempts=int(delivery.get("attempts", 0)) + 1)
        try:
            self.store.db.put(delivery)
            return True
        except Conflict:
            return False

    def send(self, delivery: dict, alert: dict | None = None,
             now: Callable[[], datetime] = utc, written: threading.Event | None = None) -> bool:
        """Send a delivery this process has claimed; record the outcome. True when delivered.

        With `written`, the send started while the delivery was still being written: wait for
        that write, and record the outcome only if this process created the delivery."""
        alert = alert or self.store.get(delivery["alert_id"])
        channel = self.channels.get(delivery["channel"])
        account = self.router.docs([account_doc_id(delivery["recipient"])]).get(
            account_doc_id(delivery["recipient"]))
        try:
            if alert is None:
                raise DeliveryFailed("the alert is gone")
            if channel is None:
                raise DeliveryFailed(f"channel {delivery['channel']} is not configured")
            channel.send(delivery, alert, account)
        except DeliveryFailed as exc:
            changes = after_failure(delivery, now(), str(exc))
            log.warning("delivery %s failed (attempt %s): %s", delivery["_id"],
                        delivery.get("attempts"), exc)
        else:
            changes = {"state": "delivered", "delivered_at": iso(now()), "lease_until": None,
                       "last_error": None}
        if written is not None:
            written.wait(30.0)
            if "_rev" not in delivery:  # someone else raised it first: they record theirs
                return changes.get("state") == "delivered"
        holder = delivery.get("leased_by")
        delivery.update(changes)
        if not self._record(delivery, changes, holder):
            log.warning("delivery %s: lost the lease before recording the outcome",
                        delivery["_id"])
            return changes.get("state") == "delivered"
        if changes.get("state") == "delivered":
            self.note_delivered(delivery["alert_id"], changes["delivered_at"])
            return True
        return False

    def _record(self, delivery: dict, changes: dict, holder: str | None) -> bool:
        """Write an outcome; on a conflict, only if the lease is still ours (False otherwise)."""
        for _ in range(3):
            try:
                self.store.db.put(delivery)
                return True
            except Conflict:
                current = self.store.db.get_or_none(delivery["_id"])
                if (current is None or current.get("state") != "pending"
                        or current.get("leased_by") != holder):
                    return False  # another worker took over: it records instead
                delivery.clear()
                delivery.update(current, **changes)
        return False

    def note_delivered(self, alert_id: str, at: str) -> None:
        """Stamp the alert's first delivery time (once)."""
        def first(alert: dict) -> bool:
            if alert.get("delivered_at") and alert["delivered_at"] <= at:
                return False
            alert["delivered_at"] = at
            return True
        self.store.update(alert_id, first)

    def run_due(self, worker_id: str, max_items: int = 50, now: datetime | None = None) -> int:
        """Claim and send due deliveries; returns how many were attempted."""
        moment = utc(now)
        attempted = 0
        for delivery in self.store.due_deliveries(iso(moment), limit=max_items * 2):
            if attempted >= max_items:
                break
            if self.owns is not None and not self.owns(delivery["_id"]):
                continue  # another live worker's (its handover over, or it is gone: ours)
            if not self.claim(delivery, worker_id, moment):
                continue
            self.send(delivery, now=(lambda: moment) if now else utc)
            attempted += 1
        return attempted


class Dispatcher:
    """Sends freshly raised deliveries at once, off the request thread (web process)."""

    def __init__(self, outbox: Outbox, threads: int = 4):
        self.outbox = outbox
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="alert-dispatch")

    def submit(self, alert: dict, deliveries: list[dict],
               written: threading.Event | None = None) -> None:
        """Send pre-claimed deliveries in the background (the worker retries any failure);
        `written` is set once their outbox documents are stored."""
        for delivery in deliveries:
            if delivery["state"] == "pending":
                self._pool.submit(self._send, alert, delivery, written)

    def _send(self, alert: dict, delivery: dict, written: threading.Event | None) -> None:
        try:
            self.outbox.send(delivery, alert, written=written)
        except Exception:  # the lease expires and the worker sends it
            log.exception("immediate delivery of %s failed", delivery["_id"])

    def close(self) -> None:
        """Finish queued sends and stop the threads."""
        self._pool.shutdown(wait=True)
