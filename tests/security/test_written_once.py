"""Written once (issue 11, finding 2): no write form rewrites a visit, request or case event.

Table-driven against the live app and the real server, with bodies shaped the way PouchDB sends
them: every write form x (the cadre's own document, a colleague's in the same village) x every
way of naming a revision. Each attempt must be refused per document (`forbidden`, a code, zh and
en text), and the stored document must be unchanged: same winning revision, same content, and no
other leaf (`open_revs=all`), so no conflicting branch was slipped in either. The documented
correction of a quarantined revision still lands, and the audit names the revision CouchDB stores.
"""
from __future__ import annotations

import hashlib
import json
import uuid

import pytest
import requests

from models.examples import example
from support.signing import signed
from sync.couch.client import doc_path

VILLAGE = "441226101201"
OWN = ("chen.zq", "device-pass-1")
COLLEAGUE = ("wang.cz", "colleague-pass-1")
OFFICIAL = ("huang.jh", "device-pass-1")  # town official with a sync grant for the village
WRITTEN_ONCE_TYPES = ("verification_visit", "mediation_request", "case_event")
PREFIX = {"verification_visit": "visit", "mediation_request": "mediation", "case_event": "case_event"}
FORMS = ("put", "put_replicated", "bulk", "bulk_replicated")


@pytest.fixture
def village(provisioned, runner):
    """The example accounts, a second cadre of the same village, and an official allowed to sync it."""
    added = runner.invoke("user", "add", COLLEAGUE[0], "--role", "cadre", "--jurisdiction", VILLAGE,
                          "--name", "王春展", "--password", COLLEAGUE[1])
    assert added.exit_code == 0, added.output
    assert runner.invoke("user", "grant-sync", OFFICIAL[0], VILLAGE).exit_code == 0
    return provisioned


def rev_id(doc: dict | None = None) -> str:
    return hashlib.md5(json.dumps(doc, sort_keys=True).encode() if doc else uuid.uuid4().bytes,
                       usedforsecurity=False).hexdigest()


def device_doc(doc_type: str, **changes) -> dict:
    doc = example(doc_type)
    doc.update(_id=f"{PREFIX[doc_type]}:{uuid.uuid4()}", village_code=VILLAGE)
    doc.update(changes)
    return doc


def replicated(doc: dict, start: int, ids: list[str]) -> dict:
    """The document as PouchDB's replicator sends it: `_rev` plus its `_revisions` history."""
    return {**doc, "_rev": f"{start}-{ids[0]}", "_revisions": {"start": start, "ids": ids}}


def send(base: str, auth: tuple, form: str, doc: dict) -> tuple[int, dict]:
    """Write one document in one of the four write forms; returns (HTTP status, its result row)."""
    url = f"{base}/sync/{VILLAGE}"
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    if form.startswith("put"):
        query = "?new_edits=false" if form == "put_replicated" else ""
        answer = requests.put(f"{url}/{doc_path(doc['_id'])}{query}", data=json.dumps(doc),
                              auth=auth, headers=headers, timeout=30)
        return answer.status_code, answer.json()
    body = {"docs": [doc]}
    if form == "bulk_replicated":
        body["new_edits"] = False
    answer = requests.post(f"{url}/_bulk_docs", data=json.dumps(body), auth=auth, headers=headers,
                           timeout=30)
    rows = answer.json()
    assert answer.status_code == 201 and isinstance(rows, list), (answer.status_code, rows)
    return answer.status_code, (rows[0] if rows else {})


def seed(base: str, auth: tuple, doc: dict) -> str:
    """Store a first revision the way a phone does (replicated), through the gateway, signed by
    `auth`'s account (the document is changed to say so: later attempts build on it)."""
    doc.update(signed(doc, auth[0]))
    rev = rev_id(doc)
    status, row = send(base, auth, "bulk_replicated", replicated(doc, 1, [rev]))
    assert status == 201 and not row.get("error"), row
    return f"1-{rev}"


def stored_state(services, doc_id: str) -> tuple[dict, list[str]]:
    """The winning revision as CouchDB has it, and every leaf of the document (CouchDB directly)."""
    db = services.couch.database(services.names.village(VILLAGE))
    path = f"{db.path}/{doc_path(doc_id)}"
    accept = {"Accept": "application/json"}
    winner = services.couch.json("GET", path, params={"conflicts": "true"}, headers=accept)
    leaves = services.couch.json("GET", path, params={"open_revs": "all"}, headers=accept)
    return winner, sorted(leaf["ok"]["_rev"] for leaf in leaves if "ok" in leaf)


def is_refusal(status: int, row: dict, code: str) -> str | None:
    """What is wrong with a refusal row, or None when it is the refusal expected."""
    fs = row.get("fieldsync") or {}
    messages = fs.get("messages") or {}
    problems = []
    if row.get("error") != "forbidden" or fs.get("code") != code:
        problems.append(f"expected forbidden/{code}, got {row.get('error')}/{fs.get('code')}")
    if not (messages.get("en") and any("\u4e00" <= ch <= "\u9fff" for ch in messages.get("zh", ""))):
        problems.append(f"no zh/en reason: {messages}")
    if status not in (201, 403):
        problems.append(f"HTTP {status}")
    return "; ".join(problems) or None


def attacks(form: str, doc: dict, current: str) -> list[tuple[str, dict, str]]:
    """(name, document as sent, expected code) for every way of naming a revision."""
    gen, cur_id = current.split("-", 1)
    edited = {**doc, "notes": "改写后的内容 rewritten", "_rev": current}
    forged = rev_id()
    if form in ("put", "bulk"):  # interactive edits: the server makes the new revision
        return [
            ("current rev", edited, "written_once"),
            ("forged later rev", {**edited, "_rev": f"2-{forged}"}, "written_once"),
            ("first revision again", {k: v for k, v in edited.items() if k != "_rev"}, "written_once"),
            ("_revisions disagreeing with _rev",
             {**edited, "_revisions": {"start": 2, "ids": [forged, cur_id]}}, "revisions_mismatch"),
            ("deletion", {**edited, "_deleted": True}, "delete_forbidden"),
        ]
    later = replicated(edited, int(gen) + 1, [forged, cur_id])
    return [
        ("current rev, other content", replicated(edited, int(gen), [cur_id]), "written_once"),
        ("forged later rev", later, "written_once"),
        ("forged conflicting first rev", replicated(edited, 1, [forged]), "written_once"),
        ("_revisions disagreeing with _rev", {**later, "_rev": current}, "revisions_mismatch"),
        ("later rev without _revisions", {k: v for k, v in later.items() if k != "_revisions"},
         "written_once"),
        ("history not including the current rev", replicated(edited, 2, [forged, rev_id()]),
         "written_once"),
        ("deletion", {**later, "_deleted": True}, "delete_forbidden"),
        ("no _rev at all", {k: v for k, v in edited.items() if k != "_rev"}, "rev_format"),
    ]


@pytest.mark.parametrize("form", FORMS)
def test_no_write_form_rewrites_a_written_once_document(village, live_server, form):
    failures = []
    for doc_type in WRITTEN_ONCE_TYPES:
        for owner_name, owner in (("own", OWN), ("colleague's", COLLEAGUE)):
            for index in range(len(attacks(form, {}, "1-0"))):
                original = device_doc(doc_type)  # a fresh document for each attempt
                current = seed(live_server, owner, original)
                name, attempt, code = attacks(form, original, current)[index]
                status, row = send(live_server, OWN, form, attempt)
                wrong = is_refusal(status, row, code)
                winner, leaves = stored_state(village, original["_id"])
                if winner["_rev"] != current or leaves != [current] or "_conflicts" in winner:
                    wrong = f"{wrong or ''}; stored now {winner['_rev']}, leaves {leaves}"
                if {k: v for k, v in winner.items() if not k.startswith("_")} != \
                        {k: v for k, v in original.items() if not k.startswith("_")}:
                    wrong = f"{wrong or ''}; content changed"
                if wrong:
                    failures.append(f"{form} {doc_type} {owner_name} {name}: {wrong}")
    assert not failures, "\n".join(failures)


def test_attachment_put_is_refused_and_a_query_cannot_name_the_revision(village, live_server):
    original = device_doc("verification_visit")
    current = seed(live_server, COLLEAGUE, original)
    url = f"{live_server}/sync/{VILLAGE}/{doc_path(original['_id'])}"
    photo = requests.put(f"{url}/house-1.jpg?rev={current}", data=b"\xff\xd8\xff\xe0fake", auth=OWN,
                         headers={"Content-Type": "image/jpeg"}, timeout=30)
    assert photo.status_code == 405
    # CouchDB takes the revision from `?rev=` when the body has none: an edit in disguise
    body = {k: v for k, v in original.items()} | {"notes": "rewritten"}
    smuggled = requests.put(f"{url}?rev={current}", data=json.dumps(body), auth=OWN,
                            headers={"Content-Type": "application/json"}, timeout=30)
    # refused by the path grammar (sync/gateway/paths.py) or, behind it, by the write itself
    assert smuggled.status_code == 400
    assert smuggled.json()["error"] in ("sync_param_unknown", "put_query_unsupported")
    assert stored_state(village, original["_id"])[1] == [current]


def test_one_id_twice_in_a_batch_adds_no_branch(village, live_server):
    doc = device_doc("verification_visit")
    first, second = replicated(doc, 1, [rev_id()]), replicated({**doc, "notes": "x"}, 1, [rev_id()])
    answer = requests.post(f"{live_server}/sync/{VILLAGE}/_bulk_docs", auth=OWN, timeout=30,
                           json={"docs": [first, second], "new_edits": False})
    rows = answer.json()
    assert [(r["id"], r["fieldsync"]["code"]) for r in rows] == [(doc["_id"], "duplicate_in_batch")]
    assert stored_state(village, doc["_id"])[1] == [first["_rev"]]


@pytest.mark.parametrize("doc_id, code", [
    ("visit:FA1901D1-4642-4EE1-B070-08A6BFB5E577", "doc_id_format"),      # case
    ("visit:fa1901d1-4642-4ee1-b070-08a6bfb5e577\n", "doc_id_format"),    # a trailing newline
    ("visit:ｆa1901d1-4642-4ee1-b070-08a6bfb5e577", "doc_id_format"),      # full-width letter
    ("ｖisit:fa1901d1-4642-4ee1-b070-08a6bfb5e577", "unknown_document_type"),
])
def test_ids_that_only_look_like_a_stored_one_are_refused(village, live_server, doc_id, code):
    stored = device_doc("verification_visit", _id="visit:fa1901d1-4642-4ee1-b070-08a6bfb5e577")
    seed(live_server, COLLEAGUE, stored)
    lookalike = replicated({**stored, "_id": doc_id, "notes": "rewritten"}, 1, [rev_id()])
    status, row = send(live_server, OWN, "bulk_replicated", lookalike)
    assert is_refusal(status, row, code) is None, row
    db = village.couch.database(village.names.village(VILLAGE))
    assert [r["id"] for r in db.all_docs()["rows"] if r["id"].startswith(("visit", "ｖ"))] \
        == [stored["_id"]]


def quarantined_visit(base: str) -> tuple[dict, str]:
    """A colleague's visit stored and quarantined (a follow-up verdict without a reason)."""
    doc = device_doc("verification_visit", verdict="follow_up", reasons=[])
    return doc, seed(base, COLLEAGUE, doc)


def audit_revs(services, doc_id: str) -> list[str]:
    return sorted(line["subject_rev"] for line in services.audit.lines("received")
                  if line["subject_id"] == doc_id)


@pytest.mark.parametrize("form", FORMS)
def test_a_cadre_of_the_village_corrects_a_quarantined_revision(village, live_server, form):
    doc, quarantined = quarantined_visit(live_server)
    assert [e["target"]["rev"] for e in village.quarantine.open_entries()] == [quarantined]
    fixed = {**doc, "reasons": ["safe_housing"], "_rev": quarantined}
    if form.endswith("replicated"):
        fixed = replicated(fixed, 2, [rev_id(fixed), quarantined.split("-", 1)[1]])
    status, row = send(live_server, OWN, form, fixed)
    assert status in (201, 200) and not row.get("error"), row
    winner, leaves = stored_state(village, doc["_id"])
    assert winner["reasons"] == ["safe_housing"] and leaves == [winner["_rev"]]
    assert winner["_rev"].startswith("2-")
    if form.endswith("replicated"):
        assert winner["_rev"] == fixed["_rev"]
    # the audit names what CouchDB stores, for the quarantined revision and the correction
    assert audit_revs(village, doc["_id"]) == [quarantined, winner["_rev"]]
    assert village.quarantine.open_entries() == []
    # once corrected, the document is written once again
    again = {**winner, "notes": "a second edit"}
    if form.endswith("replicated"):
        again = replicated(again, 3, [rev_id(), winner["_rev"].split("-", 1)[1],
                                      quarantined.split("-", 1)[1]])
    status, row = send(live_server, OWN, form, again)
    assert is_refusal(status, row, "written_once") is None, row
    assert stored_state(village, doc["_id"])[1] == [winner["_rev"]]


def test_a_correction_must_build_on_the_quarantined_revision_and_come_from_a_cadre(
        village, live_server):
    doc, quarantined = quarantined_visit(live_server)
    q_id = quarantined.split("-", 1)[1]
    fixed = {**doc, "reasons": ["safe_housing"]}
    cases = [
        ("an official with a sync grant", OFFICIAL, "bulk", {**fixed, "_rev": quarantined},
         "correction_forbidden"),
        ("another history", OWN, "bulk_replicated", replicated(fixed, 2, [rev_id(), rev_id()]),
         "correction_base"),
        ("a generation skipped", OWN, "bulk_replicated", replicated(fixed, 3, [rev_id(), "0" * 32, q_id]),
         "correction_base"),
        ("no history", OWN, "bulk_replicated",
         {**fixed, "_rev": f"2-{rev_id()}"}, "correction_base"),
        ("a conflicting first revision", OWN, "bulk_replicated", replicated(fixed, 1, [rev_id()]),
         "correction_base"),
        ("a stale parent", OWN, "put", {**fixed, "_rev": f"1-{rev_id()}"}, "correction_base"),
    ]
    failures = []
    for name, auth, form, attempt, code in cases:
        status, row = send(live_server, auth, form, attempt)
        wrong = is_refusal(status, row, code)
        leaves = stored_state(village, doc["_id"])[1]
        if leaves != [quarantined]:
            wrong = f"{wrong or ''} leaves now {leaves}"
        if wrong:
            failures.append(f"{name}: {wrong}")
    assert not failures, "\n".join(failures)


def test_the_audit_records_the_revision_couchdb_stores(village, live_server):
    """New documents in each form: the audit line's revision is the stored one, never a forged one."""
    failures = []
    for form in FORMS:
        doc = device_doc("mediation_request")
        sent = replicated(doc, 1, [rev_id(doc)]) if form.endswith("replicated") else doc
        status, row = send(live_server, OWN, form, sent)
        winner, leaves = stored_state(village, doc["_id"])
        recorded = audit_revs(village, doc["_id"])
        if row.get("error") or recorded != leaves or leaves != [winner["_rev"]]:
            failures.append(f"{form}: row {row}, audit {recorded}, stored {leaves}")
    assert not failures, "\n".join(failures)


def test_households_stay_editable_by_every_device_of_the_village(village, live_server):
    household = example("household")
    household.update(_id=f"household:{uuid.uuid4()}", village_code=VILLAGE)
    current = seed(live_server, COLLEAGUE, household)
    edited = {**household, "notes": "另一台设备的修改", "_rev": current}
    status, row = send(live_server, OWN, "put", edited)
    assert status == 201 and row["rev"].startswith("2-"), row
    later = replicated({**edited, "notes": "replicated edit"}, 3,
                       [rev_id(), row["rev"].split("-", 1)[1], current.split("-", 1)[1]])
    status, row = send(live_server, COLLEAGUE, "bulk_replicated", later)
    assert not row.get("error"), row
    assert stored_state(village, household["_id"])[0]["_rev"] == later["_rev"]


def test_one_household_twice_in_a_new_edits_batch_sends_the_first_on(village, live_server):
    """CouchDB stores at most one of two new edits of one id; which one a `_bulk_docs` row
    stands for is ambiguous on pouchdb-server, which reorders rows when writes race
    (docs/couchdb-notes.md): the second is refused, and the audit says what was stored."""
    household = example("household")
    household.update(_id=f"household:{uuid.uuid4()}", village_code=VILLAGE)
    first, second = {**household, "notes": "第一份"}, {**household, "notes": "第二份"}
    answer = requests.post(f"{live_server}/sync/{VILLAGE}/_bulk_docs", auth=OWN, timeout=30,
                           json={"docs": [first, second]})
    assert answer.status_code == 201
    rows = answer.json()
    refused = [r for r in rows if r.get("error")]
    assert [(r["id"], r["fieldsync"]["code"]) for r in refused] == [
        (household["_id"], "duplicate_in_batch")]
    assert "出现了不止一次" in refused[0]["fieldsync"]["messages"]["zh"]
    stored, leaves = stored_state(village, household["_id"])
    assert stored["notes"] == "第一份" and len(leaves) == 1
    assert audit_revs(village, household["_id"]) == leaves
    # a refused first copy takes no slot: the valid one after it is stored
    other = example("household")
    other.update(_id=f"household:{uuid.uuid4()}", village_code=VILLAGE)
    rows = requests.post(f"{live_server}/sync/{VILLAGE}/_bulk_docs", auth=OWN, timeout=30,
                         json={"docs": [{**other, "_evil": 1}, other]}).json()
    assert [r.get("fieldsync", {}).get("code") for r in rows if r.get("error")] == ["reserved_field"]
    assert stored_state(village, other["_id"])[0]["notes"] == other["notes"]


def test_one_replicated_revision_twice_is_stored_and_audited_once(village, live_server):
    """The same id and `_rev` twice with other bodies (new_edits=false): one of them is stored
    and, before, both were audited with their own verdicts (attack pass, session 7)."""
    household = example("household")
    household.update(_id=f"household:{uuid.uuid4()}", village_code=VILLAGE)
    first = replicated({**household, "notes": "第一份"}, 1, [rev_id()])
    second = {**first, "notes": "第二份"}
    rows = requests.post(f"{live_server}/sync/{VILLAGE}/_bulk_docs", auth=OWN, timeout=30,
                         json={"docs": [first, second], "new_edits": False}).json()
    assert [(r["id"], r["fieldsync"]["code"]) for r in rows] == [
        (household["_id"], "duplicate_in_batch")]
    stored, leaves = stored_state(village, household["_id"])
    assert stored["notes"] == "第一份" and leaves == [first["_rev"]]
    assert audit_revs(village, household["_id"]) == leaves
