"""`fieldsync run`: the embedded server (unless one is configured), web and worker, supervised."""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Callable

import requests

from server.bootstrap import build_services
from server.config import Settings, stored_keys
from server.embedded_couchdb import ADMIN_USER, EmbeddedCouchDB
from server.runtime import forget_running, record_running
from server.supervisor import SupervisedProcess
from sync.directory.provisioning import ensure_server_databases

log = logging.getLogger("fieldsync.run")


class AllInOne:
    """Starts every part, waits for a stop request, stops every part (children last-in first-out)."""

    def __init__(self, settings: Settings, demo: bool = False):
        self.settings, self.demo = settings, demo
        self._stop = threading.Event()
        self.children: list = []

    def request_stop(self) -> None:
        self._stop.set()

    def _start_couchdb(self) -> Settings:
        if not self.settings.embedded:
            return self.settings
        embedded = EmbeddedCouchDB(self.settings.data_dir, self.settings.embedded_couchdb_port)
        embedded.start()
        self.children.append(embedded)
        record_running(self.settings, embedded)
        return self.settings.with_couchdb(embedded.url, ADMIN_USER, embedded.password)

    def _wait_healthy(self, base: str, timeout: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stop.is_set():
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            self._stop.wait(0.5)
        return False

    def run(self, echo: Callable[[str], None] = print) -> None:
        """Run until request_stop() (Ctrl-C or SIGTERM)."""
        try:
            settings = stored_keys(self._start_couchdb())  # only `run` may make up keys
            services = build_services(settings)
            ensure_server_databases(services.couch, services.names)
            if self.demo:
                from server.demo import load_demo
                echo(f"demo data: {load_demo(services)} document(s) written")
            env = {**os.environ, **settings.child_env()}
            for part in ("worker", "web"):
                child = SupervisedProcess(part, [sys.executable, "-m", "server", part], env=env)
                child.start()
                self.children.append(child)
            base = f"http://{settings.http_host}:{settings.http_port}"
            if self._wait_healthy(base):
                self._announce(echo, base, settings)
            elif not self._stop.is_set():
                echo(f"fieldsync did not become healthy; see the log above and {base}/healthz")
            self._stop.wait()
        finally:
            for child in reversed(self.children):
                child.stop()
            forget_running(self.settings)
            echo("fieldsync stopped")

    def _announce(self, echo: Callable[[str], None], base: str, settings: Settings) -> None:
        echo("")
        echo(f"fieldsync is running: {base}/")
        echo(f"  health:  {base}/healthz")
        where = "embedded pouchdb-server" if self.settings.embedded else "configured CouchDB"
        echo(f"  couchdb: {settings.couchdb_url} ({where})")
        if self.demo:
            from server.demo import DEMO_PASSWORD, demo_logins
            echo(f"  demo logins (password {DEMO_PASSWORD}):")
            for username, role, place in demo_logins():
                echo(f"    {username:<10} {role:<16} {place}")
        echo("Press Ctrl-C to stop.")
