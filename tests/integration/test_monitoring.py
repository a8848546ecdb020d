"""GET /api/v1/monitoring: each figure from stored state, by jurisdiction."""
from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, UTC

import pytest

from models.alerts import iso
from sync.feeds.heartbeat import beat
from sync.feeds.village_feed import checkpoint_id

VILLAGE, OTHER_VILLAGE = "441226101201", "441226101202"
TOWN, COUNTY = "441226101000", "441226000000"
FOREIGN_TOWN, FOREIGN_VILLAGE = "441203101000", "441203101201"  # outside huang.jh's town
FORM = {"village_code": VILLAGE, "applicant": {"name": "何永明", "phone": "13926611234"},
        "category": "neighbourhood", "description": "宅基地边界争议", "urgency": "urgent"}


def auth(username: str, password: str = "device-pass-1") -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def settings(settings, cluster_couch):
    """Every test here runs on a single node and through the cluster proxy (opaque sequences
    that differ between `GET /db` and `_changes`, as on CouchDB 3.x: issue 17)."""
    return cluster_couch.settings(settings)


def ago(**delta) -> str:
    return iso(datetime.now(UTC) - timedelta(**delta))


def _alert(doc_id: str, town: str, received: str, acknowledged: str | None = None) -> dict:
    return {"_id": doc_id, "type": "alert", "town_code": town, "county_code": town[:6] + "000000",
            "state": "acknowledged" if acknowledged else "alerted", "received_at": received,
            "alerted_at": received, "acknowledged_at": acknowledged, "resolved_at": None}


def _delivery(doc_id: str, town: str, state: str) -> dict:
    return {"_id": doc_id, "type": "delivery", "channel": "webhook", "state": state,
            "town_code": town, "county_code": town[:6] + "000000", "created_at": ago(hours=2),
            "next_attempt_at": ago(minutes=1) if state == "pending" else None,
            "dead_at": ago(minutes=5) if state == "dead" else None}


@pytest.fixture
def troubled(provisioned):
    """Some of every condition the monitoring endpoint reports."""
    svc = provisioned
    svc.directory.reset_password("admin.zq", "admin-pass-1")
    svc.alerts.store.ensure_design()
    village_db = svc.couch.database(svc.names.village(VILLAGE))
    # change backlog: two documents nobody has read yet, one conflicted
    village_db.bulk_docs([{"_id": "note:1", "type": "note", "village_code": VILLAGE,
                           "_rev": "1-" + "a" * 32},
                          {"_id": "note:1", "type": "note", "village_code": VILLAGE,
                           "_rev": "1-" + "b" * 32, "text": "other phone"}], new_edits=False)
    # the other village: the `alerts` consumer caught up long ago, then a new write came
    other_db = svc.couch.database(svc.names.village(OTHER_VILLAGE))
    svc.state_db.put({"_id": checkpoint_id("alerts", OTHER_VILLAGE), "type": "checkpoint",
                      "consumer": "alerts", "village_code": OTHER_VILLAGE,
                      "since": str(other_db.info()["update_seq"]), "updated_at": ago(hours=3)})
    other_db.put({"_id": "note:2", "type": "note", "village_code": OTHER_VILLAGE})
    svc.state_db.put({"_id": f"dead_letter:alerts:{OTHER_VILLAGE}:note:2:1-x:mediation",
                      "type": "dead_letter", "consumer": "alerts", "village_code": OTHER_VILLAGE})
    # alerts: one unacknowledged for 10 minutes, one acknowledged but open for 3 days, one fresh,
    # one far away
    alerts = svc.alerts.store.db
    alerts.bulk_docs([_alert("alert:late-ack", TOWN, ago(minutes=10)),
                      _alert("alert:late-resolve", TOWN, ago(days=3), ago(days=3)),
                      _alert("alert:fresh", TOWN, ago(seconds=20)),
                      _alert("alert:foreign", FOREIGN_TOWN, ago(hours=1)),
                      _delivery("delivery:p1", TOWN, "pending"),
                      _delivery("delivery:p2", TOWN, "pending"),
                      _delivery("delivery:p3", FOREIGN_TOWN, "pending"),
                      _delivery("delivery:d1", TOWN, "dead"),
                      _delivery("delivery:done", TOWN, "delivered")])
    svc.photo_desk.db.bulk_docs([
        {"_id": "photo_job:1", "type": "photo_job", "state": "pending", "village_code": VILLAGE},
        {"_id": "photo_job:2", "type": "photo_job", "state": "dead", "village_code": VILLAGE},
        {"_id": "photo_job:3", "type": "photo_job", "state": "done", "village_code": VILLAGE},
        {"_id": "photo_job:4", "type": "photo_job", "state": "pending",
         "village_code": FOREIGN_VILLAGE}])
    svc.quarantine.review_db.bulk_docs([
        {"_id": f"quarantine:{VILLAGE}:visit:1:1-a", "type": "quarantine_entry",
         "state": "open", "village_code": VILLAGE, "received_at": ago(hours=1)},
        {"_id": f"quarantine:{VILLAGE}:visit:2:1-a", "type": "quarantine_entry",
         "state": "resolved", "village_code": VILLAGE, "received_at": ago(hours=1)},
        {"_id": f"quarantine:{FOREIGN_VILLAGE}:visit:3:1-a", "type": "quarantine_entry",
         "state": "open", "village_code": FOREIGN_VILLAGE, "received_at": ago(hours=1)}])
    svc.devices.db.bulk_docs([
        {"_id": "device:dev-old-1", "type": "device", "device_id": "dev-old-1",
         "username": "chen.zq", "village_code": VILLAGE, "last_contact": ago(hours=100)},
        {"_id": "device:dev-new-1", "type": "device", "device_id": "dev-new-1",
         "username": "li.xy", "village_code": OTHER_VILLAGE, "last_contact": ago(hours=1)},
        {"_id": "device:dev-far-1", "type": "device", "device_id": "dev-far-1",
         "username": "someone", "village_code": FOREIGN_VILLAGE,
         "last_contact": ago(hours=200)}])
    beat(svc.state_db, "worker-live")
    svc.state_db.put({"_id": "heartbeat:worker-gone", "type": "worker_heartbeat",
                      "worker_id": "worker-gone", "beat_at": time.time() - 3600})
    return svc


def test_the_central_office_sees_every_figure(troubled, client):
    answer = client.get("/api/v1/monitoring", headers=auth("admin.zq", "admin-pass-1"))
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert report["generated_at"].endswith("Z")
    assert report["scope"]["role"] == "central_admin"

    alerts_feed = report["village_feeds"]["alerts"]
    assert alerts_feed["villages"] == 2
    assert alerts_feed["behind"] == 2 and set(alerts_feed["behind_villages"]) == {VILLAGE,
                                                                                  OTHER_VILLAGE}
    assert alerts_feed["never_read"] == 1  # VILLAGE: no checkpoint yet
    assert 3 * 3600 - 60 < alerts_feed["oldest_behind_checkpoint_age_s"] < 3 * 3600 + 60
    assert alerts_feed["dead_letters"] == 1
    reconcile = report["village_feeds"]["reconcile"]
    assert reconcile["behind"] == 2 and reconcile["never_read"] == 2
    assert reconcile["oldest_checkpoint_age_s"] is None and reconcile["dead_letters"] == 0

    assert report["conflicts"]["conflicted_documents"] == 1
    assert report["conflicts"]["by_village"] == {VILLAGE: 1}
    assert report["outbox"]["pending"] == 3 and report["outbox"]["due"] == 3
    assert report["outbox"]["dead"] == 1
    assert report["sla"]["open_alerts"] == 4
    assert report["sla"]["open_past_ack_target"] == 2  # late-ack and foreign
    assert report["sla"]["open_past_resolve_target"] == 1
    assert report["photos"] == {"pending": 2, "dead": 1}
    assert report["quarantine"] == {"open": 2}
    assert report["devices"]["total"] == 3 and report["devices"]["stale"] == 2
    assert [d["device_id"] for d in report["devices"]["stale_devices"]] == ["dev-far-1",
                                                                            "dev-old-1"]
    workers = report["workers"]
    assert workers["count"] == 2 and workers["alive"] == 1
    assert workers["freshest_age_s"] < 30 and workers["stale_after_s"] == 60
    assert [w["ok"] for w in workers["workers"]] == [True, False]


def test_figures_follow_the_feeds_as_they_catch_up(troubled, client):
    # first: resolving the conflicted note writes a change (its losing leaf deleted)
    troubled.reconciliation.run()
    troubled.alerts.sweep.sweep()
    report = client.get("/api/v1/monitoring", headers=auth("admin.zq", "admin-pass-1")).get_json()
    assert report["village_feeds"]["alerts"]["behind"] == 0
    assert report["village_feeds"]["reconcile"]["behind"] == 0
    assert report["village_feeds"]["alerts"]["pending_changes"] == 0
    assert report["village_feeds"]["reconcile"]["oldest_checkpoint_age_s"] < 60


def test_a_write_after_catching_up_shows_as_behind(troubled, client):
    """Behind is asked of the feed from the stored checkpoint (sequences are opaque on CouchDB
    3.x and differ in form between `GET /db` and `_changes`: the [cluster] run sees that form)."""
    troubled.alerts.sweep.sweep()
    troubled.reconciliation.run()
    troubled.couch.database(troubled.names.village(VILLAGE)).put({"_id": "note:3", "type": "note",
                                                                   "village_code": VILLAGE})
    report = client.get("/api/v1/monitoring", headers=auth("admin.zq", "admin-pass-1")).get_json()
    for consumer in ("alerts", "reconcile"):
        feed = report["village_feeds"][consumer]
        assert (feed["behind_villages"], feed["never_read"]) == ([VILLAGE], 0), consumer
        assert feed["pending_changes"] in (None, 1)  # None: the server has no `pending`


def test_a_town_official_sees_their_town_only(troubled, client):
    report = client.get("/api/v1/monitoring", headers=auth("huang.jh")).get_json()
    assert report["scope"] == {"username": "huang.jh", "role": "town_official",
                               "jurisdiction": TOWN}
    assert report["village_feeds"]["alerts"]["villages"] == 2
    assert report["outbox"]["pending"] == 2 and report["outbox"]["dead"] == 1
    assert report["sla"]["open_alerts"] == 3 and report["sla"]["open_past_ack_target"] == 1
    assert report["photos"] == {"pending": 1, "dead": 1}
    assert report["quarantine"] == {"open": 1}
    assert report["devices"]["total"] == 2 and report["devices"]["stale"] == 1
    assert report["workers"]["count"] == 2  # workers serve everyone


def test_cadres_and_strangers_are_refused(troubled, client):
    cadre = client.get("/api/v1/monitoring", headers=auth("chen.zq"))
    assert cadre.status_code == 403 and cadre.get_json()["error"] == "forbidden"
    anonymous = client.get("/api/v1/monitoring")
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "unauthorized"
