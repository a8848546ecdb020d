"""Authorship (attack pass): a phone's document is signed by the account that uploads it.

Found by the attack pass (docs/security.md): with his own password, cadre chen.zq pushed through
/sync a visit signed by li.xy (a cadre of another village), a mediation request signed li.xy, a
request posing as filed online by a villager, and a case event whose actor is the town official
huang.jh; all were stored and the alert named li.xy. Each is now refused per document
(sync/gateway/authorship.py), in both write forms, and nothing of it is stored.
"""
from __future__ import annotations

import hashlib
import json
import uuid

import pytest
import requests

from models.doc_ids import alert_id
from models.examples import example
from sync.couch.client import NotFound

VILLAGE = "441226101201"
OWN = ("chen.zq", "device-pass-1")
COLLEAGUE = {"username": "zhao.lm", "display_name": "赵丽明", "role": "cadre",
             "jurisdiction": VILLAGE, "phone": "13926619876"}


def rev_id() -> str:
    return hashlib.md5(uuid.uuid4().bytes, usedforsecurity=False).hexdigest()


def visit(cadre: str | None = "chen.zq", device: str = "dev-chen-1") -> dict:
    doc = example("verification_visit")
    doc.update(_id=f"visit:{uuid.uuid4()}", village_code=VILLAGE, device_id=device)
    doc.pop("cadre")
    return {**doc, "cadre": cadre} if cadre else doc


def request_doc(cadre: str = "chen.zq", channel: str = "cadre_device", device: str = "dev-chen-1",
                phone: str = "13926611234") -> dict:
    doc = example("mediation_request")
    doc.update(_id=f"mediation:{uuid.uuid4()}", village_code=VILLAGE,
               source={"channel": channel, "device_id": device, "cadre": cadre})
    doc["applicant"] = {**doc["applicant"], "phone": phone}
    return doc


def event(username: str = "chen.zq", role: str = "cadre", device: str | None = "dev-chen-1") -> dict:
    doc = example("case_event")
    doc.update(_id=f"case_event:{uuid.uuid4()}", village_code=VILLAGE,
               request_id=f"mediation:{uuid.uuid4()}",
               actor={"username": username, "role": role, "device_id": device})
    return doc


def push(base: str, auth: tuple, doc: dict, replicated: bool = True) -> dict:
    """One `_bulk_docs` of one document; its result row ({} when a replicated one is stored)."""
    if replicated and "_rev" not in doc:
        doc = {**doc, "_rev": f"1-{rev_id()}"}
    body = {"docs": [doc], "new_edits": False} if replicated else {"docs": [doc]}
    answer = requests.post(f"{base}/sync/{VILLAGE}/_bulk_docs", auth=auth, timeout=60,
                           data=json.dumps(body),
                           headers={"Content-Type": "application/json", "Accept-Language": "en"})
    assert answer.status_code == 201, (answer.status_code, answer.text[:300])
    row = (answer.json() or [{}])[0]
    return {} if row.get("ok") or (replicated and not row) else row


def stored(services, doc_id: str) -> dict | None:
    try:
        return services.couch.database(services.names.village(VILLAGE)).get(doc_id)
    except NotFound:
        return None


FORGERIES = {
    "visit signed by another village's cadre": (lambda: visit("li.xy"), "author_not_signed_in"),
    "visit signed by no one": (lambda: visit(None), "author_not_signed_in"),
    "request signed by another village's cadre": (lambda: request_doc("li.xy"), "author_not_signed_in"),
    "request posing as filed online": (lambda: request_doc(channel="villager_online"),
                                       "channel_not_device"),
    "case event by the town official": (lambda: event("huang.jh", "official", None),
                                        "author_not_signed_in"),
    "case event by himself as an official": (lambda: event(role="official"), "author_not_signed_in"),
}


@pytest.mark.parametrize("replicated", [True, False], ids=["replicated", "interactive"])
@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_document_signed_by_another_is_refused_and_not_stored(provisioned, live_server, forgery,
                                                                 replicated):
    """Failed before the rule: every forgery was stored (row {} / ok) and the request alerted."""
    make, code = FORGERIES[forgery]
    doc = make()
    row = push(live_server, OWN, doc, replicated)
    assert row.get("error") == "forbidden" and row.get("status") == 403, row
    assert row["fieldsync"]["code"] == code and row["reason"].startswith(f"{code}: ")
    assert row["fieldsync"]["messages"]["zh"] and row["fieldsync"]["messages"]["en"]
    assert stored(provisioned, doc["_id"]) is None
    assert provisioned.alerts.store.get(alert_id(doc["_id"])) is None


@pytest.mark.parametrize("make", [visit, request_doc, event], ids=["visit", "request", "event"])
def test_a_document_signed_by_the_pushing_account_is_stored(provisioned, live_server, make):
    doc = make()
    assert push(live_server, OWN, doc) == {}
    assert stored(provisioned, doc["_id"]) is not None


def test_the_alert_names_the_account_that_uploaded_the_request(provisioned, live_server):
    doc = request_doc()
    assert push(live_server, OWN, doc, replicated=False) == {}
    assert provisioned.alerts.store.get(alert_id(doc["_id"]))["cadre"] == "chen.zq"


def test_a_record_edited_offline_before_its_first_upload_is_still_checked(provisioned, live_server):
    """A phone's first upload may be generation 2 (edited before it synced): still a first
    revision for the server, so it must name the uploading account."""
    doc = {**visit("li.xy"), "_rev": f"2-{rev_id()}"}
    doc["_revisions"] = {"start": 2, "ids": [doc["_rev"][2:], rev_id()]}
    row = push(live_server, OWN, doc)
    assert row["fieldsync"]["code"] == "author_not_signed_in"
    assert stored(provisioned, doc["_id"]) is None


def test_a_device_token_binds_the_device_the_document_names(provisioned, live_server):
    """Signed in with a device token, the document's device must be the token's."""
    answer = requests.post(f"{live_server}/api/v1/login", timeout=30, json={
        "username": "chen.zq", "password": "device-pass-1", "device_id": "dev-chen-1",
        "platform": "android-12", "app_version": "1.4.0"})
    assert answer.status_code == 200, answer.text[:300]
    token = ("chen.zq", answer.json()["token"])
    other = visit(device="dev-other-9")
    row = push(live_server, token, other)
    assert row["fieldsync"]["code"] == "device_not_signed_in" and stored(provisioned, other["_id"]) is None
    own = visit()
    assert push(live_server, token, own) == {} and stored(provisioned, own["_id"]) is not None
    # with a password (no device proven) the device is not checked
    assert push(live_server, OWN, visit(device="dev-other-9")) == {}


def quarantined_visit(base: str, services) -> dict:
    """A visit of chen.zq stored and quarantined (its income is negative)."""
    doc = visit()
    doc["income"] = {**(doc.get("income") or {}), "per_capita_fen": -1}
    doc["_rev"] = f"1-{rev_id()}"
    assert push(base, OWN, doc) == {}
    assert [e for e in services.quarantine.open_entries() if e["target"]["id"] == doc["_id"]]
    return doc


def test_a_colleague_of_the_village_corrects_keeping_the_author(provisioned, live_server):
    """Honest work of two cadres of one village: a colleague corrects chen.zq's quarantined
    visit; the correction keeps chen.zq as its author (the audit trail records the colleague)."""
    provisioned.directory.add_account(COLLEAGUE, "device-pass-1")
    doc = quarantined_visit(live_server, provisioned)
    fixed = {**doc, "income": {**doc["income"], "per_capita_fen": 650000}}
    assert push(live_server, ("zhao.lm", "device-pass-1"), fixed, replicated=False) == {}
    assert stored(provisioned, doc["_id"])["cadre"] == "chen.zq"


@pytest.mark.parametrize("replicated", [True, False], ids=["replicated", "interactive"])
def test_a_correction_cannot_change_the_author(provisioned, live_server, replicated):
    provisioned.directory.add_account(COLLEAGUE, "device-pass-1")
    doc = quarantined_visit(live_server, provisioned)
    fixed = {**doc, "cadre": "zhao.lm", "income": {**doc["income"], "per_capita_fen": 650000}}
    if replicated:
        fixed["_revisions"] = {"start": 2, "ids": [rev_id(), doc["_rev"][2:]]}
        fixed["_rev"] = f"2-{fixed['_revisions']['ids'][0]}"
    row = push(live_server, ("zhao.lm", "device-pass-1"), fixed, replicated)
    assert row["fieldsync"]["code"] == "author_changed", row
    assert stored(provisioned, doc["_id"])["_rev"] == doc["_rev"]
