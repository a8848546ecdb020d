"""Photos uploaded through the API: stored as the visit's attachment, processed by the worker like
synced photos (served copies, GPS, reuse across households, feedback for a broken file), and
refused early when the request cannot be a photo of the cadre's own visit."""
from __future__ import annotations

import dataclasses
import io

import requests
from PIL import Image

from models.doc_ids import quarantine_id
from models.examples import example
from support.images import drain, exif_with, jpeg

VILLAGE, OTHER_VILLAGE = "441226101201", "441226101202"
FIRST = "visit:00000000-0000-4000-8000-00000000a001"
SECOND = "visit:00000000-0000-4000-8000-00000000a002"
CADRE = ("chen.zq", "device-pass-1")


def visit(doc_id: str, household_id: str) -> dict:
    doc = example("verification_visit")
    doc.update(_id=doc_id, village_code=VILLAGE, household_id=household_id)
    doc["photos"] = [{"attachment": "house-1.jpg", "subject": "house", "caption": None}]
    return doc


def seed_visits(services) -> object:
    village_db = services.couch.database(services.names.village(VILLAGE))
    village_db.create()
    village_db.put(visit(FIRST, "household:10000000-0000-4000-8000-00000000a001"))
    village_db.put(visit(SECOND, "household:10000000-0000-4000-8000-00000000a002"))
    return village_db


def photos_url(base: str, doc_id: str, village: str = VILLAGE) -> str:
    return f"{base}/api/v1/villages/{village}/docs/{doc_id}/photos"


def device_token(base: str) -> tuple[str, str]:
    answer = requests.post(f"{base}/api/v1/login", json={
        "username": CADRE[0], "password": CADRE[1], "device_id": "dev-upload-1"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return CADRE[0], answer.json()["token"]


def test_an_uploaded_photo_is_processed_like_a_synced_one(provisioned, live_server):
    village_db = seed_visits(provisioned)
    photo = jpeg(400, 200, exif_with(orientation=6, gps=((23.0, 8.0, 33.72), "N",
                                                          (111.0, 47.0, 8.16), "E")))
    token_auth = device_token(live_server)
    stored = requests.post(photos_url(live_server, FIRST), params={"name": "house-1.jpg"},
                           data=photo, headers={"Content-Type": "image/jpeg"}, auth=token_auth)
    assert stored.status_code == 201, stored.text
    assert stored.json()["created"] is True and stored.json()["rev"].startswith("2-")
    assert village_db.get_attachment(FIRST, "house-1.jpg") == photo
    assert provisioned.photo_desk.backlog() == {"pending": 1, "dead": 0}

    again = requests.post(photos_url(live_server, FIRST), params={"name": "house-1.jpg"},
                          data=photo, headers={"Content-Type": "image/jpeg"}, auth=CADRE)
    assert again.status_code == 200 and again.json()["created"] is False  # a retry: done
    assert again.json()["rev"] == stored.json()["rev"]
    other = requests.post(photos_url(live_server, FIRST), params={"name": "house-1.jpg"},
                          data=jpeg(300, 300), headers={"Content-Type": "image/jpeg"}, auth=CADRE)
    assert other.status_code == 409 and other.json()["error"] == "photo_name_taken"

    # the same picture for another household's visit, sent as a form: a reuse review task
    reused = requests.post(photos_url(live_server, SECOND), auth=CADRE,
                           files={"photo": ("house-1.jpg", photo, "image/jpeg")})
    assert reused.status_code == 201 and reused.json()["attachment"] == "house-1.jpg"
    drain(provisioned)
    assert provisioned.photo_desk.backlog() == {"pending": 0, "dead": 0}
    served = requests.get(f"{live_server}{stored.json()['photo_url']}", auth=CADRE)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (200, 400) and not image.getexif()  # upright, EXIF stripped
    record = next(provisioned.photo_desk.db.docs_with_prefix(f"photo:{VILLAGE}:{FIRST}:"))
    assert record["status"] == "ok" and record["gps"]["lat"] > 23.14
    review = provisioned.couch.database(provisioned.names.review)
    assert [t["kind"] for t in review.docs_with_prefix("review:")] == ["photo_reuse"]
    receipts = provisioned.audit.receipts(FIRST, [stored.json()["rev"]])
    assert receipts[stored.json()["rev"]]["username"] == "chen.zq"


def test_a_broken_photo_gets_feedback_and_bad_requests_are_refused(provisioned, live_server):
    village_db = seed_visits(provisioned)
    truncated = jpeg(800, 600)[:3000]
    stored = requests.post(photos_url(live_server, FIRST), auth=CADRE,
                           files={"photo": ("water-1.jpg", truncated, "image/jpeg")})
    assert stored.status_code == 201, stored.text
    drain(provisioned)
    feedback = village_db.get(f"feedback:{FIRST}:{stored.json()['rev']}:photo:water-1.jpg")
    assert feedback["codes"] == ["photo_corrupt"] and "重新拍摄" in \
        feedback["problems"][0]["message"]["zh"]

    def refused(status: int, code: str, url: str, auth=CADRE, **kwargs) -> dict:
        answer = requests.post(url, auth=auth, **kwargs)
        assert (answer.status_code, answer.json()["error"]) == (status, code), answer.text
        return answer.json()

    photo = {"data": jpeg(), "headers": {"Content-Type": "image/jpeg"}}
    body = refused(403, "village_forbidden", photos_url(live_server, FIRST),
                   auth=("li.xy", "device-pass-1"), **photo)
    assert body["messages"]["zh"] and body["messages"]["en"]
    refused(403, "village_forbidden", photos_url(live_server, FIRST, OTHER_VILLAGE), **photo)
    refused(401, "invalid_credentials", photos_url(live_server, FIRST), auth=("chen.zq", "x"),
            **photo)
    refused(415, "photo_not_image", photos_url(live_server, FIRST), data=b"%PDF-1.4 not a photo",
            headers={"Content-Type": "image/jpeg"})
    refused(415, "photo_content_type", photos_url(live_server, FIRST), data=b"hello",
            headers={"Content-Type": "text/plain"})
    refused(400, "photo_missing", photos_url(live_server, FIRST),
            files={"other": ("a.jpg", jpeg(), "image/jpeg")})
    refused(422, "validation_failed", photos_url(live_server, FIRST) + "?name=../x.jpg", **photo)
    refused(404, "document_unknown",
            photos_url(live_server, "visit:00000000-0000-4000-8000-00000000ffff"), **photo)
    refused(400, "photo_doc_type",
            photos_url(live_server, "household:10000000-0000-4000-8000-00000000a001"), **photo)

    current = village_db.get(SECOND)["_rev"]
    provisioned.couch.database(provisioned.names.review).put({
        "_id": quarantine_id(VILLAGE, SECOND, current), "type": "quarantine_entry",
        "village_code": VILLAGE, "state": "open"})
    refused(409, "photo_doc_quarantined", photos_url(live_server, SECOND), **photo)

    limits = provisioned.gateway.limits
    provisioned.gateway.limits = dataclasses.replace(limits, max_attachment_bytes=20_000)
    big = jpeg(1200, 900, color=(10, 200, 90)) + b"\0" * 30_000
    body = refused(413, "attachment_too_large", photos_url(live_server, FIRST), data=big,
                   headers={"Content-Type": "image/jpeg"})
    assert "20000 bytes" in body["messages"]["en"]
    refused(413, "attachment_too_large", photos_url(live_server, FIRST),
            files={"photo": ("big.jpg", big, "image/jpeg")})
    assert provisioned.photo_desk.backlog() == {"pending": 0, "dead": 0}


def _upload(doc_id: str, name: str, data: bytes):
    from sync.directory.access import Principal
    from sync.photos.upload import PhotoUploadRequest
    cadre = Principal("chen.zq", "cadre", VILLAGE, device_id="dev-upload-1")
    return PhotoUploadRequest(principal=cadre, village=VILLAGE, doc_id=doc_id, name=name,
                              data=data, request_id=f"req-{name}-{len(data)}",
                              device={"id": "dev-upload-1", "platform": None,
                                      "app_version": None})


def _two_processes_upload(services, settings, cluster_couch, first: tuple, second: tuple):
    """Two web processes store a photo each on the same visit at the same moment; what each
    was told, and the visit once reconciliation has resolved any conflict."""
    from server.bootstrap import build_services
    from support.at_once import at_once
    one, two = (build_services(cluster_couch.settings(settings)) for _ in range(2))
    village_db = seed_visits(one)
    told = at_once(lambda: one.photo_uploads.store(_upload(FIRST, *first)),
                   lambda: two.photo_uploads.store(_upload(FIRST, *second)))
    cluster_couch.settle()
    services.reconciliation.resolver.resolve(VILLAGE, FIRST)
    stored = village_db.get(FIRST, conflicts=True)
    assert "_conflicts" not in stored
    return told, stored["_attachments"]


def test_two_photos_under_one_name_at_once_one_is_refused(services, settings, cluster_couch):
    """Fails on the old upload through the cluster proxy: both were told created (201 + 202),
    the visit was left in conflict and reconciliation kept one revision, so one cadre's photo
    was not on the visit although they were told it was."""
    first, second = jpeg(400, 200), jpeg(300, 300)
    told, photos = _two_processes_upload(services, settings, cluster_couch,
                                         ("house-1.jpg", first), ("house-1.jpg", second))
    created = [answer for answer in told if isinstance(answer, dict)]
    assert len(created) == 1, told
    refused = next(answer for answer in told if not isinstance(answer, dict))
    assert refused.status == 409 and refused.code == "photo_name_taken"
    assert photos["house-1.jpg"]["digest"] == created[0]["digest"]  # what the other was told


def test_two_photos_under_two_names_at_once_are_both_on_the_visit(services, settings,
                                                                   cluster_couch):
    """Fails on the old upload through the cluster proxy: reconciliation kept one of the two
    accepted revisions, so the other photo, reported created, was archived."""
    told, photos = _two_processes_upload(services, settings, cluster_couch,
                                         ("house-1.jpg", jpeg(400, 200)),
                                         ("house-2.jpg", jpeg(300, 300)))
    assert [answer["created"] for answer in told] == [True, True], told
    assert {name: photos[name]["digest"] for name in ("house-1.jpg", "house-2.jpg")} == \
        {answer["attachment"]: answer["digest"] for answer in told}
