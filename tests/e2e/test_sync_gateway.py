"""The sync gateway end to end: real PouchDB devices replicating through the real web server."""
from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest
import requests

VILLAGE_A = "441226101201"   # chen.zq's village
VILLAGE_B = "441226101202"   # li.xy's village
EXAMPLES = Path(__file__).resolve().parents[2] / "models" / "examples"


def visit_template(village: str, cadre: str) -> dict:
    """A valid verification visit for `village`, with one photo as an attachment."""
    doc = json.loads((EXAMPLES / "verification_visit.json").read_text(encoding="utf-8"))
    doc.update(village_code=village, cadre=cadre)
    doc["photos"] = [{"attachment": "photo-1.jpg", "subject": "house", "caption": None}]
    del doc["_id"]
    return doc


def mediation_doc(village: str, cadre: str, doc_id: str) -> dict:
    doc = json.loads((EXAMPLES / "mediation_request.json").read_text(encoding="utf-8"))
    doc.update(_id=doc_id, village_code=village)
    doc["source"]["cadre"] = cadre
    return doc


def village_db(services, code):
    return services.couch.database(services.names.village(code))


def count_type(db, doc_type: str) -> int:
    rows = db.all_docs()["rows"]
    return sum(1 for row in rows if row["id"].startswith(doc_type + ":"))


def test_push_and_pull_1000_documents_with_photos(provisioned, make_device):
    phone = make_device("chen.zq", VILLAGE_A)
    made = phone.one({"op": "generate", "count": 1000, "prefix": "visit",
                      "template": visit_template(VILLAGE_A, "chen.zq"), "attachment_bytes": 2048})
    pushed = phone.one({"op": "push", "batch_size": 100})
    assert pushed["ok"] is True, pushed
    assert pushed["docs_written"] == 1000 and pushed["denied"] == []
    db = village_db(provisioned, VILLAGE_A)
    assert count_type(db, "visit") == 1000
    sample = db.get(made["ids"][17], attachments="true")
    assert len(sample["_attachments"]["photo-1.jpg"]["data"]) > 2000

    tablet = make_device("chen.zq", VILLAGE_A)
    pulled = tablet.one({"op": "pull"})
    assert pulled["ok"] is True and pulled["docs_written"] == 1000, pulled
    same = tablet.one({"op": "get", "id": made["ids"][17], "attachments": True})
    assert same["_attachments"]["photo-1.jpg"]["data"] == sample["_attachments"]["photo-1.jpg"]["data"]
    # every accepted write is in the audit trail, once, with who and which device
    lines = list(provisioned.audit.lines("received"))
    entry = next(line for line in lines if line["subject_id"] == made["ids"][17])
    assert entry["actor"] == "chen.zq" and entry["device_id"] == phone.device_id
    assert entry["app_version"] == "1.4.0" and entry["village_code"] == VILLAGE_A
    assert entry["subject_rev"] == sample["_rev"] and entry["request_id"]
    assert sorted(line["subject_id"] for line in lines) == sorted(made["ids"])  # each once
    device = provisioned.devices.devices()
    assert {d["device_id"] for d in device} == {phone.device_id, tablet.device_id}
    assert all(d.get("last_push") for d in device if d["device_id"] == phone.device_id)


def test_push_cut_off_midway_resumes_from_its_checkpoint(provisioned, make_device):
    phone = make_device("chen.zq", VILLAGE_A)
    phone.one({"op": "generate", "count": 300, "prefix": "visit",
               "template": visit_template(VILLAGE_A, "chen.zq")})
    cut = phone.one({"op": "push", "batch_size": 50, "cancel_after_batches": 2})
    assert cut["docs_written"] < 300
    db = village_db(provisioned, VILLAGE_A)
    landed_first = count_type(db, "visit")
    assert 0 < landed_first < 300
    resumed = phone.one({"op": "push", "batch_size": 50})
    assert resumed["ok"] is True
    assert resumed["docs_read"] <= 300 - 50, "the second push starts from the checkpoint"
    assert count_type(db, "visit") == 300
    received = [line["subject_id"] for line in provisioned.audit.lines("received")]
    assert len(received) == len(set(received)) == 300  # nothing recorded twice


def test_two_devices_of_one_village_converge(provisioned, make_device):
    provisioned.directory.add_account({"username": "chen.second", "display_name": "陈二",
                                       "role": "cadre", "jurisdiction": VILLAGE_A,
                                       "phone": None, "disabled": False}, "device-pass-1")
    first, second = make_device("chen.zq", VILLAGE_A), make_device("chen.second", VILLAGE_A)
    first.one({"op": "generate", "count": 20, "prefix": "visit",
               "template": visit_template(VILLAGE_A, "chen.zq")})
    second.one({"op": "generate", "count": 30, "prefix": "visit",
                "template": visit_template(VILLAGE_A, "chen.second")})
    for device in (first, second, first):
        assert device.one({"op": "push"})["ok"] is True
        assert device.one({"op": "pull"})["ok"] is True
    docs_first = first.one({"op": "all_docs"})
    docs_second = second.one({"op": "all_docs"})
    assert docs_first["rows"] == docs_second["rows"]
    assert docs_first["total"] == 50


def test_a_cadre_cannot_reach_another_village(provisioned, make_device, live_server):
    intruder = make_device("chen.zq", VILLAGE_B)
    intruder.one({"op": "generate", "count": 3, "prefix": "visit",
                  "template": visit_template(VILLAGE_B, "chen.zq")})
    push = intruder.one({"op": "push"})
    assert push["ok"] is False and push["error"]["status"] == 403
    pull = intruder.one({"op": "pull"})
    assert pull["ok"] is False and pull["error"]["status"] == 403
    assert count_type(village_db(provisioned, VILLAGE_B), "visit") == 0

    answer = requests.get(f"{live_server}/sync/{VILLAGE_B}/_changes",
                          auth=("chen.zq", "device-pass-1"), headers={"Accept-Language": "en"})
    assert answer.status_code == 403
    body = answer.json()
    assert body["error"] == "village_forbidden"
    assert body["message"] == (f"You may sync your own village ({VILLAGE_A}) only, "
                               f"not village {VILLAGE_B}")
    assert "您只能同步本村" in body["messages"]["zh"]
    # an official has no sync access unless granted
    official = requests.get(f"{live_server}/sync/{VILLAGE_A}/", auth=("huang.jh", "device-pass-1"))
    assert official.status_code == 403


def test_wrong_password_disabled_account_and_revoked_token(provisioned, live_server):
    url = f"{live_server}/sync/{VILLAGE_A}/"
    assert requests.get(url).status_code == 401
    wrong = requests.get(url, auth=("chen.zq", "nope"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_credentials"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    assert requests.get(url, auth=("chen.zq", "device-pass-1")).status_code == 200

    account = provisioned.directory.account("chen.zq")
    token = provisioned.authenticator.issue_token(account, "dev-1")
    assert requests.get(url, auth=("chen.zq", token)).status_code == 200
    provisioned.directory.set_disabled("chen.zq", True)
    disabled = requests.get(url, auth=("chen.zq", "device-pass-1"))
    assert disabled.status_code == 401 and disabled.json()["error"] == "account_disabled"
    provisioned.directory.set_disabled("chen.zq", False)
    assert requests.get(url, auth=("chen.zq", "device-pass-1")).status_code == 200
    revoked = requests.get(url, auth=("chen.zq", token))  # disabling bumped token_generation
    assert revoked.status_code == 401 and revoked.json()["error"] == "token_revoked"


def test_refused_documents_are_reported_per_document_and_the_rest_lands(
        provisioned, make_device):
    phone = make_device("chen.zq", VILLAGE_A)
    good = visit_template(VILLAGE_A, "chen.zq")
    good["_id"] = "visit:0b6f0f8e-4a43-4c55-9f1e-3c1f5b1f4a01"
    other_village = dict(good, _id="visit:0b6f0f8e-4a43-4c55-9f1e-3c1f5b1f4a02",
                         village_code=VILLAGE_B)
    server_owned = {"_id": "alert:forged", "type": "alert", "schema_version": 1}
    design = {"_id": "_design/evil", "views": {}}
    huge = dict(good, _id="visit:0b6f0f8e-4a43-4c55-9f1e-3c1f5b1f4a03")
    huge["_attachments"] = {"photo-1.jpg": {"content_type": "image/jpeg",
                                            "data": "A" * (11 * 1024 * 1024 // 3 * 4)}}
    for doc in (good, other_village, server_owned, design, huge):
        phone.one({"op": "put", "doc": doc})
    pushed = phone.one({"op": "push"})
    assert pushed["ok"] is True, pushed
    codes = {d["id"]: d["fieldsync"]["code"] for d in pushed["denied"]}
    assert codes == {other_village["_id"]: "wrong_village", "alert:forged": "server_owned_type",
                     "_design/evil": "design_doc_forbidden", huge["_id"]: "attachment_too_large"}
    statuses = {d["id"]: d["status"] for d in pushed["denied"]}
    assert statuses[huge["_id"]] == 413
    db = village_db(provisioned, VILLAGE_A)
    assert db.get(good["_id"])["cadre"] == "chen.zq"
    assert db.get_or_none(other_village["_id"]) is None
    # the refused documents stay on the device, untouched
    kept = phone.one({"op": "all_docs"})
    assert {other_village["_id"], "alert:forged", huge["_id"]} <= {r[0] for r in kept["rows"]}


def test_only_replication_endpoints_are_served(provisioned, live_server):
    auth = ("chen.zq", "device-pass-1")
    base = f"{live_server}/sync/{VILLAGE_A}"
    assert requests.get(f"{base}/_all_dbs", auth=auth).json()["error"] == "sync_endpoint_unknown"
    assert requests.get(f"{base}/_design/fieldsync", auth=auth).status_code == 404
    assert requests.delete(f"{base}/", auth=auth).status_code == 405
    assert requests.get(f"{base}/_changes?feed=continuous", auth=auth).status_code == 400
    assert requests.get(f"{base}/_changes?filter=_view", auth=auth).status_code == 400
    info = requests.get(f"{base}/", auth=auth)
    assert info.status_code == 200 and "doc_count" in info.json()
    assert requests.get(f"{live_server}/sync/441226101299/", auth=auth).status_code == 403
    bad = requests.post(f"{base}/_bulk_docs", auth=auth, data=b"{nope",
                        headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_json"


@pytest.fixture
def tight(settings, provisioned):
    """A web server with small limits, to exercise them quickly."""
    import dataclasses
    provisioned.settings = dataclasses.replace(settings, max_request_mb=0.05,
                                               longpoll_cap_s=1.0, max_held_longpolls=1)
    provisioned.__dict__.pop("gateway", None)
    return provisioned


def test_oversized_request_gets_413_naming_the_limit(tight, live_server):
    body = json.dumps({"docs": [{"_id": "visit:x", "pad": "x" * 60_000}]})
    answer = requests.post(f"{live_server}/sync/{VILLAGE_A}/_bulk_docs", data=body,
                           auth=("chen.zq", "device-pass-1"),
                           headers={"Content-Type": "application/json", "Accept-Language": "en"})
    assert answer.status_code == 413
    assert answer.json()["error"] == "payload_too_large"
    assert "52428 bytes" in answer.json()["message"]


@pytest.fixture
def one_held(settings, provisioned, monkeypatch):
    """A web server holding at most one longpoll; `entered` is set once one waits on its village."""
    import dataclasses

    from sync.gateway.longpoll import Waiter
    provisioned.settings = dataclasses.replace(settings, longpoll_cap_s=30.0, max_held_longpolls=1)
    provisioned.__dict__.pop("gateway", None)
    entered, original = threading.Event(), Waiter.wait

    def wait(self, seen, timeout_s):
        entered.set()
        return original(self, seen, timeout_s)
    monkeypatch.setattr(Waiter, "wait", wait)
    provisioned.entered = entered
    return provisioned


def test_a_held_longpoll_is_woken_by_a_push_and_one_past_the_budget_gets_503(one_held, live_server):
    auth = ("chen.zq", "device-pass-1")
    url = f"{live_server}/sync/{VILLAGE_A}/_changes"
    since = requests.get(url, auth=auth).json()["last_seq"]
    held = {}

    def hold():
        held["answer"] = requests.get(url, params={"feed": "longpoll", "since": since,
                                                   "heartbeat": "10000"}, auth=auth, timeout=60)
    thread = threading.Thread(target=hold)
    thread.start()
    assert one_held.entered.wait(30)
    busy = requests.get(url, params={"feed": "longpoll", "since": since}, auth=auth, timeout=30,
                        headers={"Accept-Language": "en"})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "10"
    assert busy.json()["error"] == "too_many_waiting" and "limit 1" in busy.json()["message"]
    doc = mediation_doc(VILLAGE_A, "chen.zq", f"mediation:{uuid.uuid4()}")
    pushed = requests.post(f"{live_server}/sync/{VILLAGE_A}/_bulk_docs", json={"docs": [doc]},
                           auth=auth, timeout=30)
    assert pushed.status_code == 201 and "error" not in pushed.json()[0], pushed.text
    thread.join(timeout=60)
    assert held["answer"].status_code == 200
    assert [row["id"] for row in held["answer"].json()["results"]] == [doc["_id"]]
