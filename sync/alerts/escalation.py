"""Escalation: fire the due steps of every unresolved alert, exactly once.

Each alert's escalation is run by the worker that owns it (`owns`, sync/cluster/membership.py).
A step is first recorded in the alert (a write conditional on the revision read: an
acknowledgement that landed in between makes the write fail and the step is re-evaluated; on a
cluster two writers can both be accepted, and the conflict sweeper merges the alert, steps and
history united), then its deliveries are created with deterministic ids, then the step is
marked fanned out. A worker killed between the two writes leaves `fanned_out: false`, which the
next run completes with the recipients recorded in the step.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from models.escalation import Step, due_steps, next_due_at
from sync.alerts.outbox import Outbox, utc
from sync.alerts.raising import step_mark
from sync.alerts.routing import Router
from sync.alerts.store import AlertStore
from sync.couch.client import Conflict

log = logging.getLogger("fieldsync.escalation")


class Escalator:
    """Runs the escalation chain from stored state."""

    def __init__(self, store: AlertStore, router: Router, outbox: Outbox, chain: tuple[Step, ...],
                 owns: Callable[[str], bool] | None = None):
        self.store, self.router, self.outbox, self.chain = store, router, outbox, chain
        self.owns = owns  # which alerts this worker escalates (None: all)
        self._steps = {step.step: step for step in chain}

    def run(self, now: datetime | None = None, max_items: int = 1000) -> int:
        """Fire every due step of every unresolved alert; returns how many steps fired."""
        moment = utc(now)
        fired = 0
        for index, alert in enumerate(self.store.active()):
            if index >= max_items:
                break
            if self.owns is None or self.owns(alert["_id"]):
                fired += self.escalate(alert, moment)
        return fired

    def escalate(self, alert: dict, now: datetime) -> int:
        """Fire the due steps of one alert (and finish any step left half done)."""
        fired = 0
        for _ in range(5):
            self._finish_fan_out(alert)
            due = due_steps(alert, now, self.chain)
            if not due:
                return fired
            step = due[0]
            recipients = self.router.recipients(step.notify, alert)
            alert["steps"][str(step.step)] = step_mark(step, recipients, now, False)
            alert["escalation_level"] = max(alert.get("escalation_level") or 0, step.step)
            alert["next_escalation_at"] = next_due_at(alert, self.chain)
            try:
                self.store.db.put(alert)
            except Conflict:  # another worker or an official got there first: look again
                alert = self.store.get(alert["_id"])
                if alert is None:
                    return fired
                continue
            log.info("alert %s: step %s (%s) to %s", alert["_id"], step.step, step.name,
                     [a["username"] for a in recipients])
            fired += 1
        return fired

    def _finish_fan_out(self, alert: dict) -> None:
        for key, mark in sorted((alert.get("steps") or {}).items()):
            if mark.get("fanned_out"):
                continue
            step = self._steps.get(int(key)) or Step(int(key), mark.get("name", key),
                                                     mark.get("kind", "escalation"), 0,
                                                     "resolved", ())
            accounts = self.router.docs([f"account:{name}" for name in mark["recipients"]])
            recipients = [doc for doc in accounts.values() if doc]
            self.outbox.store_planned(self.outbox.plan(
                alert, step, recipients, datetime.fromisoformat(mark["at"])))

            updated = self.store.update(
                alert["_id"], lambda current, key=key: current["steps"][key].update(fanned_out=True))
            if updated:
                alert.clear()
                alert.update(updated)
