"""The one place that wires fieldsync's parts together from Settings."""
from __future__ import annotations

from dataclasses import dataclass

from server.config import Settings
from sync.couch import CouchServer
from sync.directory import Directory
from sync.naming import DatabaseNames


@dataclass
class Services:
    """Everything a request handler, the worker or a command needs, built once."""
    settings: Settings
    couch: CouchServer
    names: DatabaseNames

    @property
    def directory(self) -> Directory:
        return Directory(self.couch.database(self.names.directory))

    @property
    def state_db(self):
        return self.couch.database(self.names.state)


def build_services(settings: Settings) -> Services:
    """Connect to the configured CouchDB (no request is made yet)."""
    if not settings.couchdb_url:
        raise RuntimeError("no CouchDB configured: set FIELDSYNC_COUCHDB_URL or use `fieldsync run`")
    couch = CouchServer(settings.couchdb_url, settings.couchdb_user, settings.couchdb_password)
    return Services(settings=settings, couch=couch, names=DatabaseNames(settings.db_prefix))
