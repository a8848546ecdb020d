"""The worker process: heartbeats and the scheduled jobs (APScheduler runs here only).

Stopping: the first SIGTERM/SIGINT finishes the current item and stops; a second stops at once.
Several workers may run against one CouchDB: they split villages, alerts and deliveries by
rendezvous hashing over the live heartbeats (sync/cluster/membership.py), whatever they derive
has deterministic ids, and what two accepted writes leave in conflict on a cluster is merged by
the `server_conflicts` job (sync/cluster/server_conflicts.py).
"""
from __future__ import annotations

import logging
import os
import socket
import threading

import time
from functools import cached_property

from server.bootstrap import Services
from server.scheduler import Job, start_scheduler
from sync.cluster.membership import Membership
from sync.cluster.server_conflicts import ServerConflicts, default_merges
from sync.directory.lockout import LoginThrottle
from sync.gateway.written_once import purge_claims
from sync.feeds.heartbeat import beat, leave
from sync.directory.provisioning import ensure_server_databases

log = logging.getLogger("fieldsync.worker")


def default_worker_id() -> str:
    """host-pid: unique among live workers, readable in the heartbeat list."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Worker:
    """Runs the worker's jobs until told to stop."""

    def __init__(self, services: Services, worker_id: str | None = None,
                 only: list[str] | None = None):
        self.services, self.only = services, list(only or [])
        self.worker_id = worker_id or default_worker_id()
        self.stop_event = threading.Event()
        self.ready = threading.Event()  # cleared by run() while its start-up checks run
        self.ready.set()
        self.started_at = time.time()
        self.membership = self._membership()

    def _membership(self) -> Membership:
        settings = self.services.settings
        # a joining worker takes its share once every member has read its heartbeat twice over
        return Membership(self.services.state_db, self.worker_id,
                          stale_s=settings.heartbeat_stale_s,
                          handover_s=2 * settings.heartbeat_interval_s,
                          refresh_s=min(5.0, settings.heartbeat_interval_s / 2),
                          started_at=self.started_at)

    def owns_village(self, village: str) -> bool:
        """Whether this worker follows a village's feeds (alerts and reconciliation alike)."""
        return self.membership.owns(f"village:{village}")

    def _alert_duties(self):
        """The alert desk, its feed, outbox and escalations limited to this worker's share."""
        alerts = self.services.alerts
        alerts.sweep.owns = self.owns_village
        alerts.outbox.owns = alerts.escalator.owns = self.membership.owns
        return alerts

    @cached_property
    def server_conflicts(self) -> ServerConflicts:
        """The conflict sweeper of the server databases (the central view's own merges are
        applied by reconciliation, which runs it after each pass)."""
        chain = self.services.alerts.chain
        return ServerConflicts(self.services.couch, self.services.names, default_merges(chain))

    def heartbeat(self) -> None:
        """Stamp this worker's heartbeat document (its membership in the work split). While
        the start-up checks run it says `starting` and gives no `started_at`: alive for
        `/healthz` and its peers, but never old enough to be handed a share of the work."""
        ready = self.ready.is_set()
        beat(self.services.state_db, self.worker_id, pid=os.getpid(),
             host=socket.gethostname(), started_at=self.started_at if ready else None,
             starting=not ready)

    def _beat_until(self, done: threading.Event) -> None:
        while not done.wait(self.services.settings.heartbeat_interval_s):
            try:
                self.heartbeat()
            except Exception:  # noqa: BLE001 - the next beat tries again
                log.exception("heartbeat failed during the start-up checks")

    def start_up(self) -> None:
        """The checks before the first job (server databases, the design documents of the alert
        database and of every village: minutes with thousands of villages), beating all along;
        then this worker joins the work split as a newcomer."""
        ensure_server_databases(self.services.couch, self.services.names)  # the state database
        self.ready.clear()
        self.heartbeat()
        checked = threading.Event()
        beating = threading.Thread(target=self._beat_until, args=(checked,), daemon=True,
                                   name="start-up-heartbeat")
        beating.start()
        try:
            self.services.alerts.store.ensure_design()
            self.services.reconciliation.ensure_village_designs()
        finally:
            checked.set()
            beating.join()
        # its age counts from now, for itself and for the others alike (drop before take)
        self.started_at = time.time()
        self.membership = self._membership()
        self.ready.set()
        self.heartbeat()

    def resolve_conflicts(self) -> int:
        """Merge server documents a cluster left in conflict (alerts, deliveries, checkpoints,
        heartbeats, login counters, review tasks, photo jobs, accounts and devices)."""
        names = self.services.names
        return self.server_conflicts.sweep([names.alerts, names.state, names.review,
                                            names.photos, names.directory])

    def jobs(self) -> list[Job]:
        """The scheduled jobs of this worker (one line per job)."""
        settings = self.services.settings
        interval = settings.heartbeat_interval_s
        every = [Job("heartbeat", self.heartbeat, interval),
                 Job("photos", self.process_photos, 2.0),
                 Job("alert_sweep", self.sweep_alerts, settings.alert_sweep_interval_s),
                 Job("alert_deliveries", self.deliver_alerts, settings.delivery_interval_s),
                 Job("alert_escalations", self.escalate_alerts, settings.escalation_interval_s),
                 Job("reconcile", self.reconcile, 5.0),
                 Job("server_conflicts", self.resolve_conflicts, 30.0),
                 Job("lockout_purge", self.purge_lockouts, settings.lockout_purge_interval_s),
                 Job("write_claim_purge", self.purge_write_claims, settings.lockout_purge_interval_s)]
        unknown = set(self.only) - {job.name for job in every}
        if unknown:
            raise ValueError(f"unknown worker jobs: {', '.join(sorted(unknown))}; known: "
                             f"{', '.join(job.name for job in every)}")
        # the heartbeat always runs: the monitoring endpoint lists live workers by it
        return [job for job in every if not self.only or job.name in self.only
                or job.name == "heartbeat"]

    def purge_lockouts(self) -> int:
        """Delete login-failure counters that no longer count (one worker of a cluster does it)."""
        if not self.membership.owns("job:lockout_purge"):
            return 0
        return LoginThrottle(self.services.state_db).purge()

    def purge_write_claims(self) -> int:
        """Delete the gateway's old write claims (sync/gateway/written_once.py; one worker does it)."""
        if not self.membership.owns("job:write_claim_purge"):
            return 0
        return purge_claims(self.services.state_db)

    def reconcile(self) -> int:
        """Resolve conflicts and update the central view from the villages' changes."""
        # a long backlog is worked through in one run (a minute at most, then the schedule
        # lets other work of this thread pool in); a stop request ends it between pages
        desk = self.services.reconciliation
        desk.feed.owns = self.owns_village
        return desk.run(max_seconds=60.0, stop=self.stop_event.is_set)

    def process_photos(self) -> int:
        """Process queued photo evidence (off the request path)."""
        return self.services.photo_desk.process_pending(self.worker_id,
                                                        owns=self.membership.owns)

    def sweep_alerts(self) -> int:
        """Raise alerts for mediation requests written past the gateway."""
        return self._alert_duties().sweep.sweep(max_rounds=3)

    def deliver_alerts(self) -> int:
        """Send due alert deliveries (new, and retries)."""
        return self._alert_duties().outbox.run_due(self.worker_id)

    def escalate_alerts(self) -> int:
        """Fire due escalation steps and reminders."""
        return self._alert_duties().escalator.run()

    def run_once(self, now=None) -> dict:
        """Burst mode: one round of the alert duties and of merging what they left in conflict
        (tests loop it until idle)."""
        self.heartbeat()
        done = self._alert_duties().run_once(self.worker_id, now)
        done["merged"] = self.server_conflicts.sweep([self.services.names.alerts])
        return done

    def run(self) -> None:
        """Run until stop() is called: the heartbeat first, then the start-up checks, then the jobs."""
        scheduler = None
        try:
            self.start_up()
            if self.stop_event.is_set():
                return
            scheduler = start_scheduler(self.jobs())
            log.info("worker %s running %d jobs", self.worker_id, len(self.jobs()))
            self.stop_event.wait()
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)
            leave(self.services.state_db, self.worker_id)  # its share moves on at once
            log.info("worker %s stopped", self.worker_id)

    def stop(self) -> None:
        """Ask the worker to finish what it is doing and stop."""
        self.stop_event.set()
