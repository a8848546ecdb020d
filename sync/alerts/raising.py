"""Raising an alert for a mediation request, from the gateway at once or from the sweep.

The alert id is derived from the request id (models.doc_ids.alert_id): whoever writes it first
raises the alert, everyone else gets a 409 and stops; on a cluster a racing second writer may be
told 202 instead, and then both "raised" it: still one alert record (one id; the conflict sweeper
merges its two revisions), and the sends of both carry the same idempotency keys. The sweep
raises only for villages its worker owns, so the race is between the gateway and one worker.
The alert, with step 0 of the chain and its recipients, goes to CouchDB in one `_bulk_docs`
together with step 0's deliveries (deterministic ids too), so the first delivery can leave as
soon as that one write returns.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from typing import Callable

from models.alerts import iso
from models.doc_ids import alert_id
from models.escalation import Step, next_due_at
from models.registry import validation_problems
from sync.alerts.outbox import Dispatcher, Outbox, utc
from sync.alerts.routing import Router
from sync.alerts.store import AlertStore

log = logging.getLogger("fieldsync.alerts")


def step_mark(step: Step, recipients: list[dict], now: datetime, fanned_out: bool) -> dict:
    """What the alert records about a step that fired."""
    return {"name": step.name, "kind": step.kind, "at": iso(now),
            "recipients": [account["username"] for account in recipients],
            "fanned_out": fanned_out}


class AlertRaiser:
    """Turns mediation requests into alerts with their first deliveries."""

    def __init__(self, store: AlertStore, router: Router, outbox: Outbox, chain: tuple[Step, ...],
                 dispatcher: Dispatcher | None = None, holder: str | None = None,
                 clock: Callable[[], datetime] = utc):
        self.store, self.router, self.outbox, self.chain = store, router, outbox, chain
        self.dispatcher, self.clock = dispatcher, clock
        self.holder = holder or f"web-{os.getpid()}"

    def on_mediation_request(self, village: str, doc: dict, rev: str, received_at: str) -> None:
        """MediationIntake listener: the gateway or the API accepted a request."""
        self.raise_alert(village, doc, rev, received_at, "gateway")

    def raise_alert(self, village: str, doc: dict, rev: str | None, received_at: str,
                    detected_by: str) -> dict | None:
        """Raise the alert of a request (None when it already existed)."""
        now = self.clock()
        self.router.prefetch(village)
        alert = self._alert(village, doc, rev, received_at, detected_by, now)
        first = self.chain[0]
        recipients = self.router.recipients(first.notify, alert)
        if "town_duty" in first.notify:  # who stood in when the town had nobody on its roster
            alert["routed_by"] = self.router.town_duty(alert["town_code"], alert["county_code"])[1]
        if not recipients:
            log.error("alert %s: no enabled official in town %s or county %s", alert["_id"],
                      alert["town_code"], alert["county_code"])
        alert["steps"] = {str(first.step): step_mark(first, recipients, now, True)}
        alert["next_escalation_at"] = next_due_at(alert, self.chain)
        if not {"webhook", "email"} & set(self.outbox.channels):
            alert["delivered_at"] = alert["alerted_at"]  # the inbox is the only channel
        leased_by = self.holder if self.dispatcher else None
        deliveries = self.outbox.plan(alert, first, recipients, now, leased_by)
        written = threading.Event()
        if self.dispatcher:
            # send while the outbox is being written: a crash before the write lands leaves no
            # alert, so the sweep raises it again with the same ids and idempotency keys
            self.dispatcher.submit(alert, deliveries, written)
        results: dict[str, dict] = {}
        try:
            results = {r.get("id"): r for r in self.store.db.bulk_docs([alert, *deliveries])}
        finally:
            for doc_ in deliveries:
                if results.get(doc_["_id"], {}).get("ok"):
                    doc_["_rev"] = results[doc_["_id"]]["rev"]
            written.set()
        mine = results.get(alert["_id"], {})
        if not mine.get("ok"):
            return None
        alert["_rev"] = mine["rev"]
        if any(results.get(d["_id"], {}).get("error") not in (None, "conflict")
               for d in deliveries):
            self.store.update(alert["_id"], lambda a: a["steps"]["0"].update(fanned_out=False))
        log.info("alert %s raised (%s) for %d officials", alert["_id"], detected_by,
                 len(recipients))
        return alert

    def _alert(self, village: str, doc: dict, rev: str | None, received_at: str,
               detected_by: str, now: datetime) -> dict:
        applicant = doc.get("applicant") or {}
        at = iso(now)
        return {"_id": alert_id(doc["_id"]), "type": "alert", "schema_version": 1,
                "request_id": doc["_id"], "request_rev": rev, **self.router.places(village),
                "category": doc.get("category") or "other",
                "urgency": doc.get("urgency") or "normal",
                "summary": str(doc.get("description") or "")[:140],
                "applicant_name": applicant.get("name"), "applicant_phone": applicant.get("phone"),
                # what a call-back needs besides the applicant: who else is involved, how much
                "other_parties": [{k: party.get(k) for k in ("name", "phone", "relation")}
                                  for party in (doc.get("other_parties") or [])[:20]
                                  if isinstance(party, dict)],
                "amount_in_dispute_fen": doc.get("amount_in_dispute_fen"),
                "channel": (doc.get("source") or {}).get("channel"),
                "cadre": (doc.get("source") or {}).get("cadre"),
                "state": "alerted", "escalation_level": 0, "detected_by": detected_by,
                "recorded_at": doc.get("recorded_at"), "received_at": received_at,
                "created_at": at, "alerted_at": at, "delivered_at": None,
                "acknowledged_at": None, "acknowledged_by": None, "mediator": None,
                "resolved_at": None, "resolved_by": None, "outcome": None, "history": []}


class MediationSweep:
    """The village-feed transition that raises alerts for requests written past the gateway."""
    name = "mediation_alerts"

    def __init__(self, raiser: AlertRaiser):
        self.raiser = raiser

    def filter(self, change: dict) -> bool:
        """A live mediation request (cheap: the id prefix)."""
        return change["id"].startswith("mediation:") and not change.get("deleted")

    def on_match(self, change: dict, village: str) -> None:
        """Raise the alert unless it exists; invalid (quarantined) requests wait for a fix."""
        doc = change.get("doc") or {}
        if self.raiser.store.get(alert_id(change["id"])) is not None:
            return
        if validation_problems(doc, "mediation_request"):
            return
        self.raiser.raise_alert(village, doc, doc.get("_rev"), iso(self.raiser.clock()),
                                "sweep")
