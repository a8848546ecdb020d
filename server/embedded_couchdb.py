"""The embedded CouchDB-compatible server: pouchdb-server from npm, on loopback, supervised.

Used when FIELDSYNC_COUCHDB_URL is unset (a laptop, a pilot, the test suite). An admin account
is configured at first start so nothing is readable anonymously; its password is kept in
`<data dir>/couchdb/admin-password` (mode 0600) and reused on every start.

pouchdb-server comes from the checkout's node_modules (`npm ci`, which `make` runs); installed
from a wheel, fieldsync installs it on first use into `<data dir>/node` with `npm ci` from the
lock file it ships (server/node/), so the same pinned versions run everywhere.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

from server.supervisor import SupervisedProcess
from sync.couch.client import ADMIN_ONLY_SECURITY, CouchError, CouchServer, RetryPolicy

log = logging.getLogger("fieldsync.embedded_couchdb")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NODE_PARTS = Path(__file__).with_name("node")  # package.json + lock of the embedded server
ADMIN_USER = "fieldsync"
SYSTEM_DATABASES = ("_users", "_replicator")


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be found or did not become ready."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pouchdb_server_command(data_dir: Path) -> tuple[list[str], dict[str, str] | None]:
    """How to start pouchdb-server, and the environment for it.

    FIELDSYNC_POUCHDB_SERVER as given; else our launcher (server/pouchdb_server.js), which
    starts the npm package with one fix: without it, pouchdb-validation 4.x makes the server
    drop every replicated update of an existing document in a database that has a
    validate_doc_update function (see the launcher and decisions.md).
    """
    configured = os.environ.get("FIELDSYNC_POUCHDB_SERVER")
    if configured:
        return [configured], None
    launcher = Path(__file__).with_name("pouchdb_server.js")
    node = shutil.which("node") or "node"
    if (PROJECT_ROOT / "node_modules" / "pouchdb-server").exists():
        return [node, str(launcher)], None
    modules = install_embedded_server(data_dir)
    return [node, str(launcher)], {**os.environ, "NODE_PATH": str(modules)}


def install_embedded_server(data_dir: Path) -> Path:
    """pouchdb-server in `<data dir>/node` (installed with `npm ci` the first time); returns
    its node_modules folder."""
    target = Path(data_dir).resolve() / "node"
    modules = target / "node_modules"
    wanted = (NODE_PARTS / "package-lock.json").read_bytes()
    lock = target / "package-lock.json"
    if (modules / "pouchdb-server").exists() and lock.exists() and lock.read_bytes() == wanted:
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise EmbeddedServerError("the embedded server needs Node.js and npm (not found on PATH);"
                                  " or set FIELDSYNC_COUCHDB_URL to a CouchDB 3.x")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(NODE_PARTS / name, target / name)
    log.warning("installing the embedded server (pouchdb-server, npm ci) into %s; "
                "this happens once", target)
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                          cwd=target, capture_output=True, text=True)
    if done.returncode != 0:
        raise EmbeddedServerError(f"npm ci in {target} failed: {done.stderr.strip()[-2000:]}")
    return modules


class EmbeddedCouchDB:
    """pouchdb-server in a data directory, on a loopback port, restarted if it exits."""

    def __init__(self, data_dir: Path, port: int = 0):
        self.dir = Path(data_dir).resolve() / "couchdb"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = self._admin_password()
        self.child: SupervisedProcess | None = None

    def _admin_password(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        secret = self.dir / "admin-password"
        if secret.exists():
            return secret.read_text().strip()
        password = secrets.token_urlsafe(24)
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password)
        return password

    def _write_config(self) -> Path:
        config_path = self.dir / "config.json"
        config = json.loads(config_path.read_text()) if config_path.exists() else {}
        if ADMIN_USER not in config.get("admins", {}):
            # pouchdb-server replaces the plain password by a pbkdf2 hash when it starts
            config.setdefault("admins", {})[ADMIN_USER] = self.password
        config.setdefault("httpd", {}).update(port=self.port, bind_address="127.0.0.1")
        config.setdefault("log", {}).update(file=str(self.dir / "couchdb.log"))
        config_path.write_text(json.dumps(config, indent=2))
        return config_path

    def client(self) -> CouchServer:
        """An admin client of this server."""
        return CouchServer(self.url, ADMIN_USER, self.password)

    def start(self, ready_timeout: float = 60.0) -> None:
        """Start pouchdb-server, wait until it answers, and lock its system databases."""
        config_path = self._write_config()
        command, env = pouchdb_server_command(self.dir.parent)
        argv = [*command, "--port", str(self.port), "--host", "127.0.0.1",
                "--dir", str(self.dir), "--config", str(config_path), "--no-stdout-logs"]
        self.child = SupervisedProcess("pouchdb-server", argv, cwd=self.dir, env=env,
                                       log_path=self.dir / "stdout.log")
        self.child.start()
        self.wait_ready(ready_timeout)
        couch = self.client()
        for name in SYSTEM_DATABASES:
            db = couch.database(name)
            db.create()
            db.set_security(ADMIN_ONLY_SECURITY)
        log.info("embedded CouchDB-compatible server ready at %s (data in %s)", self.url, self.dir)

    def wait_ready(self, timeout: float) -> None:
        """Poll `GET /` as admin until it answers; raise EmbeddedServerError after `timeout`."""
        couch = CouchServer(self.url, ADMIN_USER, self.password, retry=RetryPolicy(attempts=1))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                couch.info()
                return
            except CouchError:
                time.sleep(0.2)
        raise EmbeddedServerError(f"pouchdb-server did not answer on {self.url} within "
                                  f"{timeout:.0f}s; see {self.dir / 'stdout.log'}")

    def stop(self) -> None:
        """Stop the server (and its supervision)."""
        if self.child is not None:
            self.child.stop()
