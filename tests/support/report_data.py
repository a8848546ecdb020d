"""Seeded data for the report tests (a pytest plugin: the `seeded` fixture), shared by the
report API tests and the reports page test."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta, UTC

import pytest

from models.examples import example

VILLAGE_A, VILLAGE_B = "441226101201", "441226101202"
TOWN, COUNTY = "441226101000", "441226000000"
OTHER_VILLAGE = "441225101201"  # another county: only the central admin sees it
RAW_IDS = ["441226198001010011", "441226198102020022", "441226198203030033",
           "441226198304040044"]
PASSWORD = "report-pass-1"


def auth(username: str) -> dict:
    token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def household(village: str, head_id: str, status: str, income_fen: int,
              failing: tuple[str, ...] = (), name: str = "梁国强") -> dict:
    doc = example("household")
    doc.update(_id=f"household:{uuid.uuid4()}", village_code=village, poverty_status=status,
               income_per_capita_fen=income_fen)
    doc["head"] = {"name": name, "id_number": head_id}
    doc["members"] = doc["members"][:1]
    doc["members"][0].update(name=name, id_number=head_id)
    doc["indicators"] = {k: k not in failing for k in doc["indicators"]}
    doc.pop("field_stamps", None)
    return doc


def visit(village: str, household_id: str, recorded_at: str) -> dict:
    doc = example("verification_visit")
    doc.update(_id=f"visit:{uuid.uuid4()}", village_code=village, household_id=household_id,
               recorded_at=recorded_at, verdict="pass", reasons=[])
    return doc


def alert(town: str, received: datetime, ack_after_s: float | None) -> dict:
    def at(moment: datetime) -> str:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return {"_id": f"alert:mediation:{uuid.uuid4()}", "type": "alert", "schema_version": 1,
            "village_code": town[:9] + "201", "town_code": town, "county_code": town[:6] + "000000",
            "state": "acknowledged" if ack_after_s is not None else "alerted",
            "received_at": at(received), "alerted_at": at(received + timedelta(seconds=2)),
            "acknowledged_at": at(received + timedelta(seconds=ack_after_s))
            if ack_after_s is not None else None, "resolved_at": None}


@pytest.fixture
def seeded(provisioned):
    svc = provisioned
    for username in ("liang.lj", "admin.zq", "huang.jh"):
        svc.directory.reset_password(username, PASSWORD)
    for village in (VILLAGE_A, VILLAGE_B):
        svc.couch.database(svc.names.village(village)).create()
    a_db = svc.couch.database(svc.names.village(VILLAGE_A))
    b_db = svc.couch.database(svc.names.village(VILLAGE_B))
    poor = household(VILLAGE_A, RAW_IDS[0], "lifted", 300000, name="何永明")      # ¥3,000 < line
    housing = household(VILLAGE_A, RAW_IDS[1], "lifted", 865050, ("safe_housing",),
                        name="陈秀英")
    fine = household(VILLAGE_A, RAW_IDS[2], "lifted", 900000, name="梁子豪")
    monitored = household(VILLAGE_B, RAW_IDS[3], "monitored", 100000, ("basic_medical",),
                          name="李明")
    for doc in (poor, housing, fine):
        a_db.put(doc)
    b_db.put(monitored)
    a_db.put(visit(VILLAGE_A, poor["_id"], "2026-03-01T09:00:00+08:00"))
    a_db.put(visit(VILLAGE_A, fine["_id"], "2025-01-01T09:00:00+08:00"))    # before the period
    b_db.put(visit(VILLAGE_B, monitored["_id"], "2026-06-01T09:00:00+08:00"))
    svc.reconciliation.run()
    central = svc.couch.database(svc.names.central)
    central.put({"_id": f"hh:{OTHER_VILLAGE}:household:other", "type": "central_household",
                 "schema_version": 1, "village_code": OTHER_VILLAGE,
                 "town_code": "441225101000", "county_code": "441225000000",
                 "household_id": "household:other", "deleted": False,
                 "head": {"name": "王五", "id_masked": "4412**********9999"},
                 "poverty_status": "lifted", "income_per_capita_fen": 800000,
                 "failing_indicators": ["basic_medical"], "latest_verification": None,
                 "member_count": 1})
    now = datetime.now(UTC)
    svc.alerts.store.ensure_design()  # the SLA figures read the alerts database's views
    alerts_db = svc.couch.database(svc.names.alerts)
    for doc in (alert(TOWN, now - timedelta(hours=3), 120), alert(TOWN, now - timedelta(hours=2),
                                                                   None),
                alert("441225101000", now - timedelta(hours=1), 60)):
        alerts_db.put(doc)
    review = svc.couch.database(svc.names.review)
    review.put({"_id": "review:photo_reuse:test", "type": "review_task", "schema_version": 1,
                "kind": "photo_reuse", "state": "open", "village_code": VILLAGE_B,
                "created_at": "2026-01-01T00:00:00Z"})
    directory = svc.couch.database(svc.names.directory)
    directory.put({"_id": "device:dev-old-1", "type": "device", "schema_version": 1,
                   "device_id": "dev-old-1", "username": "chen.zq", "village_code": VILLAGE_A,
                   "first_seen": "2025-01-01T00:00:00.000Z",
                   "last_contact": "2025-02-01T00:00:00.000Z"})
    return {"svc": svc, "poor": poor, "housing": housing, "fine": fine, "monitored": monitored}
