"""What officials do with an alert: acknowledge, assign a mediator, record case events,
resolve. Each step is stamped in the alert (server clock) and appended to its history; case
events are documents of their own in the alerts database (device documents are never touched).
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from models.alerts import iso
from models.escalation import Step, next_due_at
from sync.alerts.outbox import utc
from sync.alerts.store import AlertStore


class AlertResolved(Exception):
    """The alert is already resolved; nothing more can be done to it."""


class NotAcknowledged(Exception):
    """办结 before 签收: a case is closed only after someone acknowledged it."""


class Casework:
    """Officials' actions on alerts."""

    def __init__(self, store: AlertStore, chain: tuple[Step, ...]):
        self.store, self.chain = store, chain

    def _act(self, alert_id: str, by: str, action: str, now: datetime | None, apply) -> dict | None:
        at = iso(utc(now))

        def change(alert: dict) -> bool | None:
            if alert.get("resolved_at"):
                raise AlertResolved(alert_id)
            details = apply(alert, at)
            if details is False:
                return False
            alert.setdefault("history", []).append({"at": at, "by": by, "action": action,
                                                    **(details or {})})
            alert["next_escalation_at"] = next_due_at(alert, self.chain)
            return None
        return self.store.update(alert_id, change)

    @staticmethod
    def _acknowledge(alert: dict, by: str, at: str) -> None:
        if not alert.get("acknowledged_at"):
            alert.update(acknowledged_at=at, acknowledged_by=by, state="acknowledged")

    def acknowledge(self, alert_id: str, by: str, note: str | None = None,
                    now: datetime | None = None) -> dict | None:
        """Acknowledge (idempotent: a second acknowledgement changes nothing)."""
        def apply(alert: dict, at: str):
            if alert.get("acknowledged_at"):
                return False
            self._acknowledge(alert, by, at)
            return {"note": note}
        return self._act(alert_id, by, "acknowledged", now, apply)

    def assign(self, alert_id: str, by: str, mediator: dict, note: str | None = None,
               now: datetime | None = None) -> dict | None:
        """Assign a mediator (acknowledges the alert if nobody had)."""
        def apply(alert: dict, at: str):
            self._acknowledge(alert, by, at)
            alert.update(mediator={**mediator, "assigned_at": at, "assigned_by": by})
            return {"mediator": mediator, "note": note}
        return self._act(alert_id, by, "mediator_assigned", now, apply)

    def resolve(self, alert_id: str, by: str, outcome: str, note: str | None = None,
                now: datetime | None = None, agreement: str | None = None) -> dict | None:
        """Resolve (only once acknowledged; raises NotAcknowledged): the chain stops."""
        def apply(alert: dict, at: str):
            if not alert.get("acknowledged_at"):
                raise NotAcknowledged(alert_id)
            alert.update(resolved_at=at, resolved_by=by, outcome=outcome, state="resolved",
                         agreement=agreement, resolution_note=note)
            return {"outcome": outcome, "agreement": agreement, "note": note}
        return self._act(alert_id, by, "resolved", now, apply)

    def record_event(self, alert: dict, by: str, event: dict, key: str | None = None,
                     now: datetime | None = None) -> tuple[dict, bool]:
        """Store a case event; the same `key` (Idempotency-Key) stores it once. (doc, created)"""
        if alert.get("resolved_at"):
            raise AlertResolved(alert["_id"])
        safe = re.sub(r"[^A-Za-z0-9_.-]", "", key or "")[:64] or str(uuid.uuid4())
        occurred = event.get("occurred_at")
        doc = {"_id": f"alert_event:{alert['_id']}:{safe}", "type": "alert_case_event",
               "schema_version": 1, "alert_id": alert["_id"], "request_id": alert["request_id"],
               "town_code": alert["town_code"], "kind": event["kind"], "note": event.get("note"),
               "referred_to": event.get("referred_to"),
               "occurred_at": iso(occurred) if occurred else None,
               "recorded_by": by, "recorded_at": iso(utc(now))}
        if self.store.db.create_doc(doc):
            return doc, True
        return self.store.db.get(doc["_id"]), False


def timeline(alert: dict, deliveries: list[dict], case_events: list[dict]) -> list[dict]:
    """Every step of an alert in time order (server clock; the device's time listed first)."""
    entries = [{"at": alert.get("recorded_at"), "what": "recorded_on_device", "clock": "device"},
               {"at": alert.get("received_at"), "what": "received"},
               {"at": alert.get("alerted_at"), "what": "alerted"}]
    for key, mark in sorted((alert.get("steps") or {}).items(), key=lambda kv: int(kv[0])):
        entries.append({"at": mark["at"], "what": "step", "step": int(key), "name": mark["name"],
                        "recipients": mark["recipients"]})
    for delivery in deliveries:
        if delivery.get("delivered_at"):
            entries.append({"at": delivery["delivered_at"], "what": "delivered",
                            "channel": delivery["channel"], "recipient": delivery["recipient"],
                            "step": delivery["step"]})
    entries += [{"at": h["at"], "what": h["action"], "by": h["by"],
                 **{k: v for k, v in h.items() if k not in ("at", "by", "action") and v}}
                for h in alert.get("history") or []]
    entries += [{"at": e["recorded_at"], "what": "case_event", "kind": e["kind"],
                 "by": e["recorded_by"], "note": e.get("note"), "occurred_at": e.get("occurred_at")}
                for e in case_events]
    head, rest = entries[:1], [e for e in entries[1:] if e.get("at")]
    return [e for e in head if e.get("at")] + sorted(rest, key=lambda e: e["at"])
