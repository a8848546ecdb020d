"""Corrections (attack pass): a written-once document gets one revision, and one correction.

The guard of sync/gateway/written_once.py decides on what is stored when the request is read;
CouchDB stores what the request then sends. Replicated writes (`new_edits=false`, what PouchDB
always sends) are never refused by CouchDB for a conflict, so two requests that race past the
guard would both be stored: two first revisions of one new mediation request, or two
corrections of one quarantined revision, each answered as saved. The alert is raised from one,
reconciliation keeps the other (docs/reconciliation.md: the lowest revision id), so the
officials would call a phone number the kept record does not hold. These tests send such pairs
at once, against the live app and the real server, and expect one stored and one refused.
Attacks that already hold are kept: correcting an accepted request (after its alert went out),
correcting another village's request, replaying the quarantined revision after the correction.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid

import requests

from models.doc_ids import alert_id
from models.examples import example
from sync.couch.client import NotFound, doc_path

VILLAGE, OTHER_VILLAGE = "441226101201", "441226101202"
OWN = ("chen.zq", "device-pass-1")
OTHER = ("li.xy", "device-pass-1")  # cadre of the other village of the town
ROUNDS = 6  # a race is tried this many times; one double write is a failure
PHONES = ("13926611234", "13500261234")


def rev_id() -> str:
    return hashlib.md5(uuid.uuid4().bytes, usedforsecurity=False).hexdigest()


def request_doc(village: str = VILLAGE, phone: str = PHONES[0]) -> dict:
    doc = example("mediation_request")
    doc.update(_id=f"mediation:{uuid.uuid4()}", village_code=village)
    doc["applicant"] = {**doc["applicant"], "phone": phone}
    return doc


def replicated(doc: dict, ids: list[str]) -> dict:
    """The revision as PouchDB's replicator sends it: `_rev` and its `_revisions` history."""
    return {**doc, "_rev": f"{len(ids)}-{ids[0]}", "_revisions": {"start": len(ids), "ids": ids}}


def push(base: str, auth: tuple, doc: dict, village: str = VILLAGE) -> dict:
    """One `_bulk_docs` of one document, replicated unless it has no `_revisions` (then an
    interactive edit of `_rev`); its result row ({} when a replicated one is stored)."""
    body = {"docs": [doc], "new_edits": False} if "_revisions" in doc else {"docs": [doc]}
    answer = requests.post(f"{base}/sync/{village}/_bulk_docs", auth=auth, timeout=60,
                           data=json.dumps(body),
                           headers={"Content-Type": "application/json", "Accept-Language": "en"})
    assert answer.status_code == 201, (answer.status_code, answer.text[:300])
    rows = answer.json()
    row = rows[0] if rows else {}
    return {} if row.get("ok") else row


def at_once(base: str, auth: tuple, docs: list[dict]) -> list[dict]:
    """Push each document in its own request, all released at the same moment."""
    start, rows = threading.Barrier(len(docs)), [None] * len(docs)

    def one(i: int) -> None:
        start.wait(timeout=30)
        rows[i] = push(base, auth, docs[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(docs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return rows


def leaves(services, doc_id: str, village: str = VILLAGE) -> list[dict]:
    """Every live leaf of a document, read from CouchDB directly."""
    db = services.couch.database(services.names.village(village))
    try:
        found = services.couch.json("GET", f"{db.path}/{doc_path(doc_id)}", params={"open_revs": "all"},
                                    headers={"Accept": "application/json"})
    except NotFound:
        return []
    return [leaf["ok"] for leaf in found if "ok" in leaf and not leaf["ok"].get("_deleted")]


def code_of(row: dict) -> str | None:
    return (row.get("fieldsync") or {}).get("code")


def race_problem(services, doc_id: str, rows: list[dict], later_codes: tuple[str, ...]) -> str | None:
    """What is wrong after a race: not one leaf, not one refusal, or an alert not from the kept one."""
    stored = leaves(services, doc_id)
    refused = [code_of(row) for row in rows if row]
    if len(stored) != 1 or len(refused) != 1 or refused[0] not in ("written_elsewhere", *later_codes):
        return f"stored {[d['_rev'] for d in stored]}, refusals {refused}"
    alert = services.alerts.store.get(alert_id(doc_id)) or {}
    if alert.get("applicant_phone") != stored[0]["applicant"]["phone"]:
        return f"alert calls {alert.get('applicant_phone')}, record holds {stored[0]['applicant']['phone']}"
    return None


def quarantined_request(base: str, services) -> tuple[dict, str]:
    """A mediation request stored and quarantined: the applicant's phone is not a phone number."""
    doc = request_doc(phone="12345")
    first = rev_id()
    assert push(base, OWN, replicated(doc, [first])) == {}
    assert [e["target"]["rev"] for e in services.quarantine.open_entries()
            if e["target"]["id"] == doc["_id"]] == [f"1-{first}"]
    return doc, first


def test_two_first_revisions_of_one_request_at_once_store_one(provisioned, live_server):
    """Failed before the write claim: 4 of 6 rounds stored both revisions, each answered saved."""
    failures = []
    for _ in range(ROUNDS):
        doc_id = request_doc()["_id"]
        pair = [replicated(request_doc(phone=phone) | {"_id": doc_id}, [rev_id()]) for phone in PHONES]
        problem = race_problem(provisioned, doc_id, at_once(live_server, OWN, pair), ("written_once",))
        if problem:
            failures.append(problem)
    assert not failures, "\n".join(failures)


def test_two_corrections_of_one_quarantined_request_at_once_store_one(provisioned, live_server):
    """Failed before the write claim: every round stored both corrections (two leaves)."""
    failures = []
    for _ in range(ROUNDS):
        doc, first = quarantined_request(live_server, provisioned)
        pair = [replicated({**doc, "applicant": {**doc["applicant"], "phone": phone}}, [rev_id(), first])
                for phone in PHONES]
        problem = race_problem(provisioned, doc["_id"], at_once(live_server, OWN, pair),
                               ("written_once", "correction_base"))
        if problem:
            failures.append(problem)
    assert not failures, "\n".join(failures)


def test_an_edit_and_a_replicated_correction_at_once_store_one(provisioned, live_server):
    """An interactive correction (CouchDB makes the child of `_rev`) beside a replicated one."""
    failures = []
    for _ in range(ROUNDS // 2):
        doc, first = quarantined_request(live_server, provisioned)
        edit = {**doc, "applicant": {**doc["applicant"], "phone": PHONES[0]}, "_rev": f"1-{first}"}
        sent = replicated({**doc, "applicant": {**doc["applicant"], "phone": PHONES[1]}}, [rev_id(), first])
        problem = race_problem(provisioned, doc["_id"], at_once(live_server, OWN, [edit, sent]),
                               ("written_once", "correction_base", None))
        if problem:
            failures.append(problem)
    assert not failures, "\n".join(failures)


def test_a_retry_of_the_same_write_still_passes(provisioned, live_server):
    """The claim tells a retry (the same revision, the same content) from another write."""
    doc = replicated(request_doc(), [rev_id()])
    assert at_once(live_server, OWN, [doc, dict(doc)]) == [{}, {}]
    assert push(live_server, OWN, doc) == {}
    assert [leaf["_rev"] for leaf in leaves(provisioned, doc["_id"])] == [doc["_rev"]]


def test_the_same_revision_id_with_other_content_is_refused(provisioned, live_server):
    doc = replicated(request_doc(), [rev_id()])
    other = {**doc, "applicant": {**doc["applicant"], "phone": PHONES[1]}}
    rows = at_once(live_server, OWN, [doc, other])
    assert sorted(code_of(row) or "" for row in rows)[1:] in (["written_elsewhere"], ["written_once"]), rows
    stored = leaves(provisioned, doc["_id"])
    assert len(stored) == 1
    assert provisioned.alerts.store.get(alert_id(doc["_id"]))["applicant_phone"] == \
        stored[0]["applicant"]["phone"]


def test_an_accepted_request_cannot_be_corrected_after_its_alert(provisioned, live_server):
    """Changing the applicant's phone once the officials were alerted: refused in every form."""
    doc = request_doc()
    first = rev_id()
    assert push(live_server, OWN, replicated(doc, [first])) == {}
    assert provisioned.alerts.store.get(alert_id(doc["_id"]))["applicant_phone"] == PHONES[0]
    changed = {**doc, "applicant": {**doc["applicant"], "phone": PHONES[1]}}
    attempts = [replicated(changed, [rev_id(), first]), replicated(changed, [rev_id()]),
                replicated(changed, [first])]
    codes = [code_of(push(live_server, OWN, attempt)) for attempt in attempts]
    assert codes == ["written_once"] * 3
    assert [leaf["applicant"]["phone"] for leaf in leaves(provisioned, doc["_id"])] == [PHONES[0]]


def test_another_villages_cadre_cannot_correct_or_read_the_request(provisioned, live_server):
    doc, first = quarantined_request(live_server, provisioned)
    fixed = replicated({**doc, "applicant": {**doc["applicant"], "phone": PHONES[1]}}, [rev_id(), first])
    answer = requests.post(f"{live_server}/sync/{VILLAGE}/_bulk_docs", auth=OTHER, timeout=30,
                           json={"docs": [fixed], "new_edits": False})
    assert answer.status_code == 403 and answer.json()["error"] == "village_forbidden"
    for path in (doc_path(doc["_id"]), doc_path(f"feedback:{doc['_id']}:1-{first}")):
        answer = requests.get(f"{live_server}/sync/{VILLAGE}/{path}", auth=OTHER, timeout=30)
        assert answer.status_code == 403, (path, answer.status_code)
    feedback = requests.get(f"{live_server}/api/v1/feedback?all=1", auth=OTHER, timeout=30)
    assert feedback.status_code == 200
    assert doc["_id"] not in json.dumps(feedback.json())
    assert leaves(provisioned, doc["_id"])[0]["_rev"] == f"1-{first}"


def test_the_quarantined_revision_replayed_after_the_correction_changes_nothing(provisioned, live_server):
    doc, first = quarantined_request(live_server, provisioned)
    fixed = replicated({**doc, "applicant": {**doc["applicant"], "phone": PHONES[1]}}, [rev_id(), first])
    assert push(live_server, OWN, fixed) == {}
    assert push(live_server, OWN, replicated(doc, [first])) == {}  # already stored: a retry
    again = replicated({**doc, "applicant": {**doc["applicant"], "phone": PHONES[0]}}, [rev_id(), first])
    assert code_of(push(live_server, OWN, again)) == "written_once"
    assert [leaf["_rev"] for leaf in leaves(provisioned, doc["_id"])] == [fixed["_rev"]]
    assert provisioned.quarantine.open_entries() == []


def test_a_claim_whose_write_never_landed_frees_the_slot_after_its_time(provisioned, live_server):
    """A process that died between claiming and writing (or a write refused upstream) leaves a
    claim: other content is refused while it is young, and may take the slot once it is old."""
    from sync.gateway.written_once import CLAIM_TTL_S, claim_id

    state = provisioned.couch.database(provisioned.names.state)
    young, old = request_doc(), request_doc()
    for doc, age in ((young, 1.0), (old, CLAIM_TTL_S + 5)):
        state.put({"_id": claim_id(VILLAGE, doc["_id"], "0"), "type": "write_claim",
                   "village_code": VILLAGE, "doc_id": doc["_id"], "parent": "0",
                   "fingerprint": "0" * 64, "claimed_at": time.time() - age})
    assert code_of(push(live_server, OWN, replicated(young, [rev_id()]))) == "written_elsewhere"
    assert leaves(provisioned, young["_id"]) == []
    written = replicated(old, [rev_id()])
    assert push(live_server, OWN, written) == {}
    assert [leaf["_rev"] for leaf in leaves(provisioned, old["_id"])] == [written["_rev"]]


def test_the_worker_purges_old_claims_and_a_purged_slot_still_refuses(provisioned, live_server):
    """A claim outlives its write by CLAIM_TTL_S at most: the worker deletes older ones, and the
    stored document then refuses another first revision by itself."""
    from server.worker import Worker
    from sync.gateway.written_once import CLAIM_TTL_S, purge_claims

    doc = replicated(request_doc(), [rev_id()])
    assert push(live_server, OWN, doc) == {}
    state = provisioned.couch.database(provisioned.names.state)
    assert [c["doc_id"] for c in state.docs_with_prefix("write_claim:")] == [doc["_id"]]
    worker = Worker(provisioned, worker_id="claims-housekeeper")
    worker.heartbeat()
    job = {job.name: job for job in worker.jobs()}["write_claim_purge"]
    assert job.func() == 0  # young: kept
    assert purge_claims(state, now=time.time() + CLAIM_TTL_S + 1) == 1
    assert list(state.docs_with_prefix("write_claim:")) == []
    other = replicated({**doc, "applicant": {**doc["applicant"], "phone": PHONES[1]}}, [rev_id()])
    assert code_of(push(live_server, OWN, other)) == "written_once"
    assert [leaf["_rev"] for leaf in leaves(provisioned, doc["_id"])] == [doc["_rev"]]
