"""Feedback documents (attack pass): only the server writes them, the device only reads them.

The server writes `feedback:<id>:<rev>` (a quarantined revision) and
`feedback:<household>:<losing rev>:disagreement:<field>` (a household value that lost a merge)
into the village database, where they replicate to the phones. A phone that could write one
could mark its own quarantine resolved, hide the server's feedback from a colleague's phone, or
forge a disagreement naming another device. Every write form is tried with the cadre's own
password against the live app: a new forged document, the server's document with `resolved_at`
set (under its own revision id, as its child, as an interactive edit) and its deletion. Each is
refused per document (`server_owned_type`, zh and en) and the stored document is unchanged.
"""
from __future__ import annotations

import hashlib
import json
import uuid

import requests

from models.examples import example
from sync.couch.client import doc_path

VILLAGE = "441226101201"
OWN = ("chen.zq", "device-pass-1")


def rev_id() -> str:
    return hashlib.md5(uuid.uuid4().bytes, usedforsecurity=False).hexdigest()


def write(base: str, form: str, doc: dict) -> tuple[int, dict]:
    """One document in one write form; (HTTP status, its result row)."""
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    url = f"{base}/sync/{VILLAGE}"
    if form.startswith("put"):
        query = "?new_edits=false" if form == "put_replicated" else ""
        answer = requests.put(f"{url}/{doc_path(doc['_id'])}{query}", data=json.dumps(doc), auth=OWN,
                              headers=headers, timeout=30)
        return answer.status_code, answer.json()
    body = {"docs": [doc], **({"new_edits": False} if form == "bulk_replicated" else {})}
    answer = requests.post(f"{url}/_bulk_docs", data=json.dumps(body), auth=OWN, headers=headers,
                           timeout=30)
    rows = answer.json()
    if isinstance(rows, list):
        return answer.status_code, (rows[0] if rows else {})
    return answer.status_code, rows


def quarantined_visit(base: str, services) -> dict:
    """A visit of the cadre's, quarantined (a follow-up verdict without a reason): its feedback."""
    doc = example("verification_visit")
    doc.update(_id=f"visit:{uuid.uuid4()}", village_code=VILLAGE, verdict="follow_up", reasons=[])
    first = rev_id()
    status, row = write(base, "bulk_replicated", {**doc, "_rev": f"1-{first}",
                                                  "_revisions": {"start": 1, "ids": [first]}})
    assert status == 201 and not row.get("error"), row
    db = services.couch.database(services.names.village(VILLAGE))
    return db.get(f"feedback:{doc['_id']}:1-{first}")


def test_a_phone_cannot_write_resolve_or_delete_feedback(provisioned, live_server):
    stored = quarantined_visit(live_server, provisioned)
    gen, current = stored["_rev"].split("-", 1)
    resolved = {**stored, "resolved_at": "2026-12-02T08:00:00+08:00", "resolved_by_rev": "2-x"}
    child = rev_id()
    forged = {**stored, "_id": f"feedback:household:{uuid.uuid4()}:1-{rev_id()}:disagreement:notes",
              "kind": "household_disagreement"}
    forged.pop("_rev")
    attempts = {
        "put": [resolved, {**resolved, "_deleted": True}, forged],
        "bulk": [resolved, {**resolved, "_deleted": True}, forged],
        "put_replicated": [{**resolved, "_revisions": {"start": int(gen) + 1, "ids": [child, current]},
                            "_rev": f"{int(gen) + 1}-{child}"}],
        "bulk_replicated": [
            {**resolved, "_revisions": {"start": int(gen), "ids": [current]}},  # its own rev id
            {**resolved, "_revisions": {"start": int(gen) + 1, "ids": [child, current]},
             "_rev": f"{int(gen) + 1}-{child}"},
            {**stored, "_deleted": True, "_revisions": {"start": int(gen) + 1, "ids": [child, current]},
             "_rev": f"{int(gen) + 1}-{child}"},
            {**forged, "_rev": f"1-{rev_id()}"}],
    }
    failures = []
    for form, docs in attempts.items():
        for doc in docs:
            status, row = write(live_server, form, doc)
            fs = row.get("fieldsync") or {}
            if status not in (201, 403) or row.get("error") != "forbidden" \
                    or fs.get("code") != "server_owned_type" or not (fs.get("messages") or {}).get("zh"):
                failures.append(f"{form} {doc.get('_rev')} deleted={doc.get('_deleted')}: {status} {row}")
    db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    after = db.get(stored["_id"], conflicts=True)
    assert after["_rev"] == stored["_rev"] and after["resolved_at"] is None and not after.get("_conflicts")
    assert db.get_or_none(forged["_id"]) is None
    assert not failures, "\n".join(failures)
    # and the cadre's feedback list still shows the open feedback
    listed = requests.get(f"{live_server}/api/v1/feedback", auth=OWN, timeout=30).json()
    assert stored["_id"] in json.dumps(listed)
