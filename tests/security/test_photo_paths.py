"""Ids from Flask's decoded path never reach CouchDB unchecked (issue 17 leftovers).

Flask decodes the path before routing, so `/api/v1/photos/<v>/%2E%2E/<name>` hands the view a
document id of `..`. The photo endpoints check every id by the device contract's rules
(sync/gateway/paths.py) and answer 400 with a code before any upstream call; the upload's
attachment name follows the same rule (it used to accept `..`, which the CouchDB client refused
with BadPath: a 500). A BadPath that still reaches Flask is a 400 `bad_path`, never a 500.
"""
from __future__ import annotations

import base64

import pytest

from models.examples import example
from sync.couch.client import CouchServer
from support.images import jpeg

VILLAGE = "441226101201"
VISIT = "visit:00000000-0000-4000-8000-00000000b001"
CADRE = {"Authorization": "Basic " + base64.b64encode(b"chen.zq:device-pass-1").decode()}
PHOTO = {"data": jpeg(), "headers": {**CADRE, "Content-Type": "image/jpeg"}}


@pytest.fixture
def sent(provisioned, monkeypatch):
    """The village with one visit; then every request the CouchDB client sends, recorded."""
    db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    db.create()
    doc = example("verification_visit")
    doc.update(_id=VISIT, village_code=VILLAGE, photos=[])
    db.put(doc)
    paths: list[str] = []
    original = CouchServer.request

    def recording(self, method, path, **kwargs):
        paths.append(path)
        return original(self, method, path, **kwargs)
    monkeypatch.setattr(CouchServer, "request", recording)
    return paths


def _after_auth(paths: list[str]) -> list[str]:
    """What was sent beyond the login's own reads (the account, the lockout state)."""
    return [p for p in paths if VILLAGE in p or "photo" in p]


SERVED_BAD = [  # (path after /api/v1/photos/, status, code)
    (f"{VILLAGE}/%2E%2E/p.jpg", 400, "bad_sync_path"),
    (f"{VILLAGE}/./p.jpg", 400, "bad_sync_path"),
    (f"{VILLAGE}/{VISIT}/%2E%2E", 400, "bad_sync_path"),
    (f"{VILLAGE}/{VISIT}/..", 400, "bad_sync_path"),
    (f"{VILLAGE}/{VISIT}/.hidden", 400, "bad_attachment_name"),
    (f"{VILLAGE}/{VISIT}/a%5Cb.jpg", 400, "bad_sync_path"),
    (f"{VILLAGE}/{VISIT}/a%00.jpg", 400, "bad_sync_path"),
    (f"{VILLAGE}/{VISIT}/%E7%85%A7.jpg", 400, "bad_sync_path"),
    (f"{VILLAGE}/_changes/p.jpg", 400, "bad_doc_id"),
    (f"{VILLAGE}/_design%2Ffieldsync/p.jpg", 404, "not_found"),  # Flask: %2F is a separator
    (f"{VILLAGE}/nodoctype/p.jpg", 400, "bad_doc_id"),
    (f"{VILLAGE}/visit:a:b%3F/p.jpg", 400, "bad_sync_path"),
    (f"44122610120%31/{VISIT}/p.jpg", None, None),  # the same village, encoded: allowed
    (f"４４１２２６１０１２０１/{VISIT}/p.jpg", 400, "division_code_format"),
    (f"..%2F{VILLAGE}/{VISIT}/p.jpg", 404, "not_found"),
]


@pytest.mark.parametrize("path,status,code", SERVED_BAD)
def test_served_photo_ids_are_checked_before_any_upstream_call(client, sent, path, status, code):
    answer = client.get(f"/api/v1/photos/{path}", headers=CADRE)
    if status is None:  # a valid id of a photo that does not exist
        assert answer.status_code == 404 and answer.json["error"] == "not_found"
        return
    assert (answer.status_code, answer.json["error"]) == (status, code), answer.json
    assert answer.json["messages"]["zh"] and answer.json["messages"]["en"]
    assert _after_auth(sent) == [], "an upstream call was made for a refused id"


UPLOAD_BAD = [  # (doc id in the path, status, code)
    ("%2E%2E", 400, "bad_sync_path"),
    (".", 400, "bad_sync_path"),
    ("_all_docs", 400, "bad_doc_id"),
    ("_local", 400, "bad_doc_id"),
    ("visit", 400, "bad_doc_id"),
    ("visit:x%5C..", 400, "bad_sync_path"),
]


@pytest.mark.parametrize("doc_id,status,code", UPLOAD_BAD)
def test_upload_document_ids_are_checked_before_any_upstream_call(client, sent, doc_id, status,
                                                                  code):
    answer = client.post(f"/api/v1/villages/{VILLAGE}/docs/{doc_id}/photos", **PHOTO)
    assert (answer.status_code, answer.json["error"]) == (status, code), answer.json
    assert _after_auth(sent) == []


@pytest.mark.parametrize("name", ["..", ".", "...", ".jpg", "a/b.jpg", "a\\b.jpg", "x" * 101])
def test_an_upload_name_outside_the_device_contract_is_refused_not_a_500(client, sent, name):
    answer = client.post(f"/api/v1/villages/{VILLAGE}/docs/{VISIT}/photos",
                         query_string={"name": name}, **PHOTO)
    assert (answer.status_code, answer.json["error"]) == (422, "validation_failed"), answer.json
    assert answer.json["details"][0]["field"] == "name"
    assert not [p for p in _after_auth(sent) if "/" + VISIT.replace(":", "%3A") + "/" in p]


def test_a_multipart_file_name_of_dots_is_replaced_not_sent(client, sent, provisioned):
    answer = client.post(f"/api/v1/villages/{VILLAGE}/docs/{VISIT}/photos", headers=CADRE,
                         data={"photo": (__import__("io").BytesIO(jpeg()), "..")},
                         content_type="multipart/form-data")
    assert answer.status_code == 201, answer.json
    name = answer.json["name"] if "name" in answer.json else answer.json.get("attachment")
    assert name and name.startswith("photo-") and name != ".."


def test_a_bad_path_reaching_flask_is_a_400_with_a_code(app, services):
    """Any view that forgets to check an id: the client's BadPath answers 400 `bad_path`."""
    db = services.couch.database(services.names.village(VILLAGE))
    app.add_url_rule("/test-only/<doc_id>", "test_only", lambda doc_id: db.get(doc_id))
    answer = app.test_client().get("/test-only/%2E%2E")
    assert (answer.status_code, answer.json["error"]) == (400, "bad_path"), answer.json
    assert answer.json["messages"]["zh"] and answer.json["messages"]["en"]
