"""Test fixtures: a real CouchDB-compatible server for the whole session.

By default the session starts its own pouchdb-server (the embedded server of fieldsync, started
the same way `fieldsync run` starts it) in a temporary directory on a free port. With
FIELDSYNC_TEST_COUCHDB_URL set to an admin URL of a CouchDB 3.x, the same tests run against that
server instead; every database they create carries a unique prefix and is deleted at the end.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from server.bootstrap import Services, build_services
from server.config import Settings
from server.embedded_couchdb import EmbeddedCouchDB
from sync.couch.client import CouchServer, NotFound
from sync.couch.names import DatabaseNames
from sync.directory.provisioning import ensure_server_databases

pytest_plugins = ["support.alerting", "support.report_data", "support.cluster_proxy",
                  "support.web_process"]
SESSION_TAG = uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def couch_admin(tmp_path_factory) -> CouchServer:
    """An admin client of the session's CouchDB server (embedded unless configured)."""
    external = os.environ.get("FIELDSYNC_TEST_COUCHDB_URL")
    if external:
        yield CouchServer(external)
        return
    embedded = EmbeddedCouchDB(tmp_path_factory.mktemp("couchdb-data"))
    embedded.start()
    yield embedded.client()
    embedded.stop()


@pytest.fixture(scope="session")
def couch_url(couch_admin: CouchServer) -> str:
    """The admin URL of the session server, credentials included (for child processes)."""
    from urllib.parse import quote
    head, rest = couch_admin.url.split("://", 1)
    if not couch_admin.username:
        return couch_admin.url
    return (f"{head}://{quote(couch_admin.username, safe='')}:"
            f"{quote(couch_admin.password or '', safe='')}@{rest}")


_prefixes: list[str] = []


@pytest.fixture
def names(couch_admin: CouchServer) -> DatabaseNames:
    """Database names unique to this test (so tests never see each other's data)."""
    prefix = f"t{SESSION_TAG}_{uuid.uuid4().hex[:6]}_"
    _prefixes.append(prefix)
    yield DatabaseNames(prefix)
    for name in couch_admin.all_dbs():
        if name.startswith(prefix):
            try:
                couch_admin.database(name).delete_database()
            except NotFound:
                pass


@pytest.fixture
def settings(couch_admin: CouchServer, names: DatabaseNames, tmp_path: Path) -> Settings:
    """Settings pointing at the session server with this test's database prefix."""
    return Settings(couchdb_url=couch_admin.url, couchdb_user=couch_admin.username,
                    couchdb_password=couch_admin.password, db_prefix=names.prefix, id_hash_key="test-hash",
                    data_dir=tmp_path / "var", secret_key="test-secret", heartbeat_stale_s=60)


@pytest.fixture
def services(settings: Settings) -> Services:
    """Wired services with the server databases created."""
    svc = build_services(settings)
    ensure_server_databases(svc.couch, svc.names)
    yield svc
    if "authenticator" in svc.__dict__:
        svc.authenticator.accounts.stop()


@pytest.fixture
def app(services: Services):
    from server.app import create_app
    flask_app = create_app(services=services)
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running `fieldsync` as a subprocess against the test databases."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env.update(settings.child_env())
    return env


@pytest.fixture
def runner(cli_env: dict[str, str]):
    """Invoke the `fieldsync` click command in-process with the test environment."""
    from click.testing import CliRunner

    from server.cli import main

    class Runner:
        def invoke(self, *args: str, lang: str = "en"):
            return CliRunner().invoke(main, ["--lang", lang, *args], env=cli_env,
                                      catch_exceptions=False)
    return Runner()


def pytest_sessionfinish(session, exitstatus):
    """Drop every database a test left behind (an external server outlives the run)."""
    if not os.environ.get("FIELDSYNC_TEST_COUCHDB_URL") or not _prefixes:
        return
    couch = CouchServer(os.environ["FIELDSYNC_TEST_COUCHDB_URL"])
    for name in couch.all_dbs():
        if name.startswith(f"t{SESSION_TAG}_"):
            couch.database(name).delete_database()



# --- a live web process and PouchDB devices -------------------------------------------------

DEVICE_JS = Path(__file__).resolve().parent / "e2e" / "device" / "device.js"


@pytest.fixture
def live_server(services):
    """The real web app on a free loopback port, in this process (so a test can reach into
    `services`), one thread per connection; yields its base URL. The production server
    (gunicorn, gevent workers, header and I/O timeouts) runs in `start_web` (support/web_process.py)."""
    import threading

    from werkzeug.serving import WSGIRequestHandler, make_server

    from server.app import create_app

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:
            pass

    server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True,
                         request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def provisioned(runner, services):
    """The example hierarchy and accounts, with known passwords for the cadres."""
    examples = Path(__file__).resolve().parent.parent / "docs" / "examples"
    assert runner.invoke("provision", str(examples / "jurisdictions.csv"),
                         str(examples / "accounts.csv")).exit_code == 0
    for username in ("chen.zq", "li.xy", "huang.jh"):
        services.directory.reset_password(username, "device-pass-1")
    # the example holds no password for admin.zq, so that provisioning it on the demo never
    # resets the demo's admin; the tests log in as the central office with this one
    services.directory.reset_password("admin.zq", "change-me-2026")
    return services


class Device:
    """A PouchDB device (node, LevelDB in its own directory) run one script at a time."""

    def __init__(self, directory: Path, remote: str, username: str, password: str,
                 device_id: str):
        self.directory, self.remote = directory, remote
        self.username, self.password, self.device_id = username, password, device_id

    def run(self, *actions: dict, timeout: float = 300) -> list:
        import json
        import subprocess
        script = {"dir": str(self.directory), "remote": self.remote, "username": self.username,
                  "password": self.password, "device_id": self.device_id,
                  "app_version": "1.4.0", "actions": list(actions)}
        done = subprocess.run(["node", str(DEVICE_JS)], input=json.dumps(script),
                              capture_output=True, text=True, timeout=timeout,
                              cwd=DEVICE_JS.parents[3])
        output = json.loads(done.stdout or "{}")
        assert "fatal" not in output and done.returncode == 0, (output, done.stderr[-2000:])
        return output["results"]

    def one(self, action: dict, timeout: float = 300):
        return self.run(action, timeout=timeout)[0]


@pytest.fixture
def make_device(tmp_path, live_server):
    """Factory: make_device(username, village, password=...) -> Device."""
    counter = iter(range(1000))

    def make(username: str, village: str, password: str = "device-pass-1") -> Device:
        n = next(counter)
        return Device(tmp_path / f"device-{n}", f"{live_server}/sync/{village}", username,
                      password, f"dev-{username}-{n}")
    return make
