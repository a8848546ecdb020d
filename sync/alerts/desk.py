"""The alert path assembled: what the web process, the worker and the API use."""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from functools import cached_property

from models.escalation import Step
from sync.alerts.casework import Casework
from sync.alerts.escalation import Escalator
from sync.alerts.live import LiveFeed
from sync.alerts.outbox import Dispatcher, Outbox
from sync.alerts.raising import AlertRaiser, MediationSweep
from sync.alerts.routing import Router
from sync.alerts.store import AlertStore
from sync.couch.client import CouchServer
from sync.directory.store import Directory
from sync.couch.names import DatabaseNames
from sync.feeds.village_feed import VillageFeed

SWEEP_CONSUMER = "alerts"
log = logging.getLogger("fieldsync.alerts")


class AlertDesk:
    """Raising, routing, delivering and escalating alerts against one CouchDB."""

    def __init__(self, couch: CouchServer, names: DatabaseNames, channels: dict,
                 chain: tuple[Step, ...], lease_s: float = 60.0, inline_dispatch: bool = True,
                 max_streams: int = 500, full_pass_s: float = 1800.0,
                 max_streams_per_account: int = 8):
        self.couch, self.names, self.channels, self.chain = couch, names, channels, chain
        self.full_pass_s, self.max_streams_per_account = full_pass_s, max_streams_per_account
        self.lease_s, self.inline_dispatch, self.max_streams = lease_s, inline_dispatch, max_streams

    @cached_property
    def store(self) -> AlertStore:
        return AlertStore(self.couch.database(self.names.alerts))

    @cached_property
    def router(self) -> Router:
        return Router(self.couch.database(self.names.directory))

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.store, self.router, self.channels, self.lease_s)

    @cached_property
    def dispatcher(self) -> Dispatcher | None:
        return Dispatcher(self.outbox) if self.inline_dispatch else None

    @cached_property
    def raiser(self) -> AlertRaiser:
        threading.Thread(target=self._warm, name="alerts-warm", daemon=True).start()
        return AlertRaiser(self.store, self.router, self.outbox, self.chain, self.dispatcher,
                           holder=f"web-{os.getpid()}")

    def _warm(self) -> None:
        try:
            self.router.warm()
        except Exception:  # noqa: BLE001 - only an optimisation: alerts read what they need
            log.warning("could not warm the routing cache", exc_info=True)

    @cached_property
    def escalator(self) -> Escalator:
        return Escalator(self.store, self.router, self.outbox, self.chain)

    @cached_property
    def sweep(self) -> VillageFeed:
        return VillageFeed(self.couch, self.names,
                           Directory(self.couch.database(self.names.directory)),
                           self.couch.database(self.names.state), SWEEP_CONSUMER,
                           [MediationSweep(self.raiser_for_worker)], include_docs=False,
                           full_pass_s=self.full_pass_s)

    @cached_property
    def raiser_for_worker(self) -> AlertRaiser:
        """The worker raises without the inline dispatcher: its delivery job sends."""
        return AlertRaiser(self.store, self.router, self.outbox, self.chain, None,
                           holder=f"worker-{os.getpid()}")

    @cached_property
    def casework(self) -> Casework:
        return Casework(self.store, self.chain)

    @cached_property
    def live(self) -> LiveFeed:
        return LiveFeed(self.store.db, self.max_streams, self.max_streams_per_account)

    def on_mediation_request(self, village: str, doc: dict, rev: str, received_at: str) -> None:
        """MediationIntake listener (gateway and API): raise the alert at once."""
        self.raiser.on_mediation_request(village, doc, rev, received_at)

    def run_once(self, worker_id: str, now: datetime | None = None) -> dict:
        """One round of every worker duty (burst mode for tests and `until_idle` loops)."""
        return {"swept": self.sweep.sweep(),
                "escalated": self.escalator.run(now),
                "delivered": self.outbox.run_due(worker_id, now=now)}

    def close(self) -> None:
        """Let queued immediate deliveries finish."""
        if "dispatcher" in self.__dict__ and self.dispatcher:
            self.dispatcher.close()
