"""The one place that wires fieldsync's parts together from Settings."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

from models.escalation import parse_chain
from models.registry import classify_device_document
from server.config import Settings
from sync.directory.access import Authenticator
from sync.directory.lockout import LoginThrottle
from sync.alerts.channels.configured import build_channels
from sync.alerts.desk import AlertDesk
from sync.gateway.audit import AuditTrail
from sync.gateway.paths import VILLAGE_RE
from sync.cluster.identity import ServerIdentity, proposal
from sync.couch.client import CouchError, CouchServer, Database
from sync.directory.devices import DeviceRegistry
from sync.directory.store import Directory
from sync.gateway.forwarding import GatewayLimits, SyncGateway
from sync.gateway.intake import MediationIntake
from sync.gateway.longpoll import ChangeWatch
from sync.couch.names import DatabaseNames
from sync.photos.queue import PhotoDesk
from sync.photos.upload import PhotoUploads
from sync.gateway.quarantine import QuarantineDesk
from sync.reconcile.pipeline import ReconciliationDesk


@dataclass
class Services:
    """Everything a request handler, the worker or a command needs, built once."""
    settings: Settings
    couch: CouchServer
    names: DatabaseNames
    _known_villages: set = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def directory(self) -> Directory:
        return Directory(self.couch.database(self.names.directory))

    @property
    def state_db(self) -> Database:
        return self.couch.database(self.names.state)

    @cached_property
    def authenticator(self) -> Authenticator:
        if not self.settings.secret_key:
            raise RuntimeError("no FIELDSYNC_SECRET_KEY: device tokens cannot be signed")
        return Authenticator(self.directory, self.settings.secret_key,
                             LoginThrottle(self.state_db))

    @cached_property
    def devices(self) -> DeviceRegistry:
        return DeviceRegistry(self.couch.database(self.names.directory))

    @cached_property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.couch.database(self.names.audit))

    @cached_property
    def quarantine(self) -> QuarantineDesk:
        return QuarantineDesk(self.couch, self.names)

    @cached_property
    def photo_desk(self) -> PhotoDesk:
        return PhotoDesk(self.couch, self.names,
                         max_pixels=int(self.settings.max_photo_megapixels * 1_000_000))

    @cached_property
    def mediation_intake(self) -> MediationIntake:
        return MediationIntake([self.alerts.on_mediation_request])

    @cached_property
    def alerts(self) -> AlertDesk:
        """The mediation alert path (docs/alerts.md)."""
        settings = self.settings
        return AlertDesk(self.couch, self.names, build_channels(settings),
                         parse_chain(settings.escalation_chain), settings.delivery_lease_s,
                         settings.alert_inline_dispatch, settings.max_alert_streams,
                         max_streams_per_account=settings.max_streams_per_account,
                         full_pass_s=settings.full_pass_s)

    @cached_property
    def reconciliation(self) -> ReconciliationDesk:
        """Conflicts, the central view and duplicates (docs/reconciliation.md)."""
        if not self.settings.id_hash_key:
            raise RuntimeError("no FIELDSYNC_ID_HASH_KEY: identity numbers cannot be hashed")
        return ReconciliationDesk(self.couch, self.names, self.settings.id_hash_key,
                                  full_pass_s=self.settings.full_pass_s)

    @cached_property
    def gateway(self) -> SyncGateway:
        """The sync gateway with its after-write hooks, in the order they run."""
        # waking the village's held longpolls first (it costs nothing), then the alert path: a
        # township official must hear of a request within seconds
        watch = ChangeWatch(self.couch, self.names, recheck=self._recheck,
                            max_villages=self.settings.max_held_longpolls)
        hooks = [watch.after_write, self.mediation_intake.after_write, self.audit.record_writes,
                 self.quarantine.after_write, self.photo_desk.enqueue, self._record_push]
        return SyncGateway(self.couch, self.names, gateway_limits(self.settings),
                           classify_device_document, hooks, watch=watch)

    def _recheck(self, principal) -> None:
        """Whether a held request's caller would still be let in (AccessDenied if not)."""
        self.authenticator.recheck(principal)

    @cached_property
    def photo_uploads(self) -> PhotoUploads:
        """Photos uploaded through the API: stored like synced ones, then the same hooks (the
        audit trail, the photo queue, the device registry) as an accepted device write."""
        return PhotoUploads(self.couch, self.names,
                            [self.audit.record_writes, self.photo_desk.enqueue, self._record_push])

    def _record_push(self, batch) -> None:
        req = batch.request
        if batch.written and req.principal:
            self.devices.record(req.device.get("id"), "push", req.principal.username,
                                req.village, req.device.get("platform"),
                                req.device.get("app_version"))

    def village_exists(self, code: str) -> bool:
        """Whether a village is provisioned (positive answers are remembered); a string that
        is not a 12-digit code is no village (and never reaches CouchDB as a document id)."""
        if code in self._known_villages:
            return True
        if not VILLAGE_RE.fullmatch(code):
            return False
        found = self.directory.jurisdiction(code)
        if found is not None and found.level == "village":
            with self._lock:
                self._known_villages.add(code)
            return True
        return False

    @cached_property
    def _identity(self) -> ServerIdentity:
        def propose() -> str:  # the same for every process when CouchDB has a uuid
            try:
                server = self.couch.info().get("uuid")
            except CouchError:
                server = None
            return proposal(server, self.names.prefix)
        return ServerIdentity(self.state_db, propose)

    def server_uuid(self) -> str:
        """A uuid for this installation, stored once, stable across restarts, the same in
        every process even when two started at once on a cluster (sync/cluster/identity.py)."""
        return self._identity.uuid()


def gateway_limits(settings: Settings) -> GatewayLimits:
    """The sync gateway's limits from settings."""
    mib = 1024 * 1024
    return GatewayLimits(max_request_bytes=int(settings.max_request_mb * mib),
                         max_attachment_bytes=int(settings.max_attachment_mb * mib),
                         longpoll_cap_ms=int(settings.longpoll_cap_s * 1000),
                         max_held_longpolls=settings.max_held_longpolls,
                         max_held_per_account=settings.max_held_per_account,
                         max_reads_per_account=settings.max_reads_per_account,
                         reads_wait_s=settings.couchdb_wait_s)


def build_services(settings: Settings) -> Services:
    """Connect to the configured CouchDB (no request is made yet)."""
    if not settings.couchdb_url:
        raise RuntimeError("no CouchDB configured: set FIELDSYNC_COUCHDB_URL or use `fieldsync run`")
    couch = CouchServer(settings.couchdb_url, settings.couchdb_user, settings.couchdb_password,
                        iam_api_key=settings.couchdb_iam_api_key,
                        iam_token_url=settings.couchdb_iam_token_url,
                        pool_size=settings.couchdb_connections, pool_block=True,
                        upload_pool_size=settings.couchdb_upload_connections,
                        pool_wait_s=settings.couchdb_wait_s)
    return Services(settings=settings, couch=couch, names=DatabaseNames(settings.db_prefix))
