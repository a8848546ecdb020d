"""Which CouchDB a command talks to: the configured one, the running embedded one, or a new one.

`fieldsync run` records its embedded server in `<data dir>/couchdb/runtime.json`, so that
`fieldsync provision` or `fieldsync user` in another terminal reach the same server. With no
server running, a command starts the embedded server for its own duration.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Iterator

from server.config import Settings
from server.embedded_couchdb import ADMIN_USER, EmbeddedCouchDB
from sync.couch.client import CouchError, CouchServer

log = logging.getLogger("fieldsync.runtime")


def runtime_file(settings: Settings) -> Path:
    return Path(settings.data_dir).resolve() / "couchdb" / "runtime.json"


def record_running(settings: Settings, server: EmbeddedCouchDB) -> None:
    """Note where the embedded server of this data directory listens."""
    runtime_file(settings).write_text(json.dumps({"url": server.url, "pid": os.getpid()}))


def forget_running(settings: Settings) -> None:
    with contextlib.suppress(FileNotFoundError):
        runtime_file(settings).unlink()


def _running_embedded(settings: Settings) -> Settings | None:
    path = runtime_file(settings)
    try:
        url = json.loads(path.read_text())["url"]
        password = (path.parent / "admin-password").read_text().strip()
    except (OSError, ValueError, KeyError):
        return None
    try:
        CouchServer(url, ADMIN_USER, password).info()
    except CouchError:
        return None
    return settings.with_couchdb(url, ADMIN_USER, password)


@contextlib.contextmanager
def couchdb_settings(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a reachable CouchDB, starting the embedded one if needed."""
    if not settings.embedded:
        yield settings
        return
    running = _running_embedded(settings)
    if running:
        yield running
        return
    server = EmbeddedCouchDB(settings.data_dir, settings.embedded_couchdb_port)
    server.start()
    try:
        yield settings.with_couchdb(server.url, ADMIN_USER, server.password)
    finally:
        server.stop()
