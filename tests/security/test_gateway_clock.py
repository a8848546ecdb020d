"""The future-stamp rule runs in the gateway, with the server's clock (issue 11, finding 11)."""
from __future__ import annotations

import json
import time
import uuid

import requests

from models.examples import example

VILLAGE = "441226101201"
AUTH = ("chen.zq", "device-pass-1")
DAY_MS = 24 * 3600 * 1000


def household(stamp_ms: int) -> dict:
    doc = example("household")
    doc.update(_id=f"household:{uuid.uuid4()}", village_code=VILLAGE)
    doc["field_stamps"] = {path: f"{stamp_ms:013d}-00000-dev-chen" for path in doc["field_stamps"]}
    return doc


def push(base: str, doc: dict) -> dict:
    """Push one household as PouchDB's replicator does; returns what the server then holds."""
    rev = f"1-{uuid.uuid4().hex}"
    body = {"docs": [{**doc, "_rev": rev, "_revisions": {"start": 1, "ids": [rev[2:]]}}],
            "new_edits": False}
    answer = requests.post(f"{base}/sync/{VILLAGE}/_bulk_docs", data=json.dumps(body), auth=AUTH,
                           headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 201 and not [r for r in answer.json() if r.get("error")]
    return {"rev": rev}


def open_codes(services, doc_id: str) -> list[str]:
    return [code for entry in services.quarantine.open_entries() if entry["target"]["id"] == doc_id
            for code in entry["codes"]]


def test_a_household_stamped_days_ahead_of_the_server_clock_is_quarantined(provisioned, live_server):
    now_ms = int(time.time() * 1000)
    ahead, fine = household(now_ms + 3 * DAY_MS), household(now_ms + 3600 * 1000)
    push(live_server, ahead)
    push(live_server, fine)
    assert open_codes(provisioned, ahead["_id"]) == ["stamp_in_future"]
    assert open_codes(provisioned, fine["_id"]) == []
    db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    assert db.get(ahead["_id"])["field_stamps"] == ahead["field_stamps"]  # stored unchanged
    feedback = [d for d in db.docs_with_prefix(f"feedback:{ahead['_id']}:")]
    assert feedback and feedback[0]["codes"] == ["stamp_in_future"]


def test_the_gateway_clock_is_injectable(provisioned, live_server):
    stamps_ms = 1714525200000  # the example's stamps, 2024-05-01
    provisioned.gateway.clock = lambda: stamps_ms - 2 * DAY_MS
    early = household(stamps_ms)
    push(live_server, early)
    provisioned.gateway.clock = lambda: stamps_ms
    on_time = household(stamps_ms)
    push(live_server, on_time)
    assert open_codes(provisioned, early["_id"]) == ["stamp_in_future"]
    assert open_codes(provisioned, on_time["_id"]) == []
