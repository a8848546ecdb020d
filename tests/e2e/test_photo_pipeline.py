"""Photos through the whole path: device attachment → gateway → queue → worker → served copy."""
from __future__ import annotations

import base64
import io

import requests
from PIL import Image

from models.examples import example
from support.images import drain, exif_with, jpeg

VILLAGE = "441226101201"


def visit_with_photo(doc_id: str, household_id: str, data: bytes) -> dict:
    doc = example("verification_visit")
    doc.update(_id=doc_id, village_code=VILLAGE, household_id=household_id)
    doc["photos"] = [{"attachment": "house-1.jpg", "subject": "house", "caption": None}]
    doc["_attachments"] = {"house-1.jpg": {"content_type": "image/jpeg",
                                           "data": base64.b64encode(data).decode()}}
    return doc


def test_photos_are_processed_served_and_reuse_is_flagged(provisioned, make_device,
                                                          live_server):
    phone = make_device("chen.zq", VILLAGE)
    rotated = jpeg(400, 200, exif_with(orientation=6, gps=((23.0, 8.0, 33.72), "N",
                                                             (111.0, 47.0, 8.16), "E")))
    first = visit_with_photo("visit:00000000-0000-4000-8000-000000000001",
                             "household:10000000-0000-4000-8000-000000000001", rotated)
    reused = visit_with_photo("visit:00000000-0000-4000-8000-000000000002",
                              "household:10000000-0000-4000-8000-000000000002", rotated)
    truncated = visit_with_photo("visit:00000000-0000-4000-8000-000000000003",
                                 "household:10000000-0000-4000-8000-000000000003",
                                 jpeg(800, 600)[:3000])
    for doc in (first, reused, truncated):
        phone.one({"op": "put", "doc": doc})
    assert phone.one({"op": "push", "batch_size": 10})["ok"]
    assert provisioned.photo_desk.backlog() == {"pending": 3, "dead": 0}

    drain(provisioned)
    assert provisioned.photo_desk.backlog() == {"pending": 0, "dead": 0}
    auth = ("chen.zq", "device-pass-1")
    served = requests.get(f"{live_server}/api/v1/photos/{VILLAGE}/{first['_id']}/house-1.jpg",
                          auth=auth)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (200, 400) and not image.getexif()
    thumb = requests.get(f"{live_server}/api/v1/photos/{VILLAGE}/{first['_id']}/house-1.jpg",
                         params={"size": "thumb"}, auth=auth)
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 256
    other_county = requests.get(
        f"{live_server}/api/v1/photos/{VILLAGE}/{first['_id']}/house-1.jpg",
        auth=("li.xy", "device-pass-1"))
    assert other_county.status_code == 403

    record = next(provisioned.photo_desk.db.docs_with_prefix(f"photo:{VILLAGE}:{first['_id']}:"))
    assert record["gps"]["lat"] > 23.14 and record["status"] == "ok"

    review = provisioned.couch.database(provisioned.names.review)
    tasks = [t for t in review.docs_with_prefix("review:") if t["kind"] == "photo_reuse"]
    assert len(tasks) == 1
    assert tasks[0]["details"]["households"] == sorted([first["household_id"],
                                                        reused["household_id"]])

    assert phone.one({"op": "pull"})["ok"]
    rows = phone.one({"op": "all_docs"})["rows"]
    feedback_ids = [r[0] for r in rows if r[0].startswith(f"feedback:{truncated['_id']}")]
    assert len(feedback_ids) == 1
    feedback = phone.one({"op": "get", "id": feedback_ids[0]})
    assert feedback["codes"] == ["photo_corrupt"]
    assert "重新拍摄" in feedback["problems"][0]["message"]["zh"]
    # processing twice changes nothing: the queue is empty and no second task appears
    drain(provisioned)
    assert len([t for t in review.docs_with_prefix("review:")]) == 1
