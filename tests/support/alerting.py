"""Shared pieces of the alert tests: a real webhook receiver, a real SMTP server, officials
with duty rosters, and a mediation request. A pytest plugin (tests/conftest.py
loads it): the fixtures `webhook`, `mailbox` and
`alerting`, and helpers and constants the alert tests import."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models.alerts import verify_signature
from models.examples import example

VILLAGE = "441226101201"
TOWN = "441226101000"
COUNTY = "441226000000"
SECRET = "webhook-test-secret"
OFFICIALS = [  # username, role, jurisdiction
    ("zhou.tl", "town_official", TOWN),        # town leader
    ("wu.cd", "county_official", COUNTY),      # county duty officer
    ("he.cl", "county_official", COUNTY),      # county leader
    ("ma.other", "town_official", "441226102000"),  # another town's official
]


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records every POST and checks its signature."""

    def __init__(self, secret: str = SECRET, fail_first: int = 0, delay_s: float = 0.0):
        self.secret, self.fail_left, self.delay_s = secret, fail_first, delay_s
        self.posts: list[dict] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.delay_s:
                    threading.Event().wait(receiver.delay_s)
                with receiver.changed:
                    failing = receiver.fail_left > 0
                    receiver.fail_left -= 1 if failing else 0
                    receiver.posts.append({
                        "at": time.monotonic(),  # when it arrived (the handover measurements)
                        "headers": dict(self.headers), "body": body, "json": json.loads(body),
                        "signed": verify_signature(receiver.secret, body,
                                                   self.headers.get("X-Fieldsync-Signature", "")),
                        "answered": 500 if failing else 200})
                    receiver.changed.notify_all()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def accepted(self) -> list[dict]:
        """The POSTs answered 200."""
        with self.changed:
            return [p for p in self.posts if p["answered"] == 200]

    def keys(self) -> list[str]:
        """Idempotency keys of accepted POSTs, in arrival order (duplicates kept)."""
        return [p["headers"]["X-Fieldsync-Delivery"] for p in self.accepted()]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict]:
        """Wait (bounded) until `count` distinct keys were accepted."""
        with self.changed:
            self.changed.wait_for(lambda: len({p["headers"]["X-Fieldsync-Delivery"]
                                               for p in self.posts
                                               if p["answered"] == 200}) >= count, timeout)
        return self.accepted()


class Mailbox:
    """A real SMTP server (aiosmtpd) collecting what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        from server.embedded_couchdb import free_port
        self.messages: list = []
        self.changed = threading.Condition()
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                with mailbox.changed:
                    mailbox.messages.append(envelope)
                    mailbox.changed.notify_all()
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())

    def wait_for(self, count: int, timeout: float = 20.0) -> list:
        with self.changed:
            self.changed.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def mailbox():
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


def configure(services, **overrides) -> None:
    """Point the (not yet used) alert path at test endpoints before anything touches it."""
    services.settings = replace(services.settings, **overrides)
    for cached in ("alerts", "mediation_intake", "gateway"):
        services.__dict__.pop(cached, None)


def add_officials(services) -> None:
    """Officials for routing and escalation, with duty rosters for the town and county."""
    for username, role, jurisdiction in OFFICIALS:
        services.directory.add_account({"username": username, "display_name": username,
                                        "role": role, "jurisdiction": jurisdiction,
                                        "phone": "13900000000"}, "official-pass-1")
    services.directory.update_account("huang.jh", email="huang.jh@town.example")
    services.directory.reset_password("huang.jh", "official-pass-1")
    services.directory.reset_password("liang.lj", "official-pass-1")
    router = services.alerts.router
    router.save_roster(TOWN, ["huang.jh"], "zhou.tl", "test")
    router.save_roster(COUNTY, ["wu.cd"], "he.cl", "test")


@pytest.fixture
def alerting(provisioned, webhook, mailbox):
    """Provisioned services whose alerts go to the test webhook and SMTP server."""
    configure(provisioned, webhook_url=webhook.url, webhook_secret=SECRET,
              smtp_host="127.0.0.1", smtp_port=mailbox.controller.port,
              smtp_from="alerts@fieldsync.test")
    add_officials(provisioned)
    yield provisioned
    provisioned.alerts.close()


@pytest.fixture
def inbox_only(provisioned):
    """Provisioned services with officials on duty; alerts go to the in-app inbox only."""
    configure(provisioned, webhook_url=None, smtp_host=None)
    add_officials(provisioned)
    yield provisioned
    provisioned.alerts.close()


def mediation_request(village: str = VILLAGE, **changes) -> dict:
    """A valid mediation request with a fresh id."""
    doc = example("mediation_request")
    doc.update(_id=f"mediation:{uuid.uuid4()}", village_code=village, **changes)
    return doc


def run_until_idle(worker, now=None, rounds: int = 20) -> list[dict]:
    """Run a worker's alert duties until a round does nothing (bounded)."""
    done = []
    for _ in range(rounds):
        result = worker.run_once(now)
        done.append(result)
        if not any(result.values()):
            return done
    raise AssertionError(f"worker still busy after {rounds} rounds: {done[-3:]}")


@pytest.fixture
def quiet(provisioned, webhook):
    """Alerts to the test webhook, sent only by the worker (no immediate dispatch)."""
    configure(provisioned, webhook_url=webhook.url, webhook_secret=SECRET,
              alert_inline_dispatch=False)
    add_officials(provisioned)
    provisioned.alerts.store.ensure_design()
    return provisioned


def bypass_write(services, doc: dict) -> None:
    """Write straight into the village database, past the gateway."""
    services.couch.database(services.names.village(doc["village_code"])).put(doc)
