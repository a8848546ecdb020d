"""Report days are days of FIELDSYNC_TIMEZONE (Beijing time by default): in the Beijing night
hours (still the previous day in UTC) today's alerts are in today's report."""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from models.local_time import zone_of
from support.alerting import VILLAGE, mediation_request
from sync.reports.builder import ReportDesk, parse_period

# 02:30 on 2 March in Beijing; the UTC day is still 1 March
NIGHT = datetime(2026, 3, 1, 18, 30, tzinfo=timezone.utc)


def auth(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept-Language": "zh-CN"}


def test_default_period_is_whole_beijing_days():
    start, end = parse_period(None, None, NIGHT, 30, zone_of("Asia/Shanghai"))
    assert end == NIGHT
    assert start.isoformat() == "2026-02-01T00:00:00+08:00"  # 30 Beijing days, today included
    start, _ = parse_period("2026-03-02", "2026-03-02", NIGHT, 30, zone_of("Asia/Shanghai"))
    assert start == datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        zone_of("Mars/Olympus")


@pytest.fixture
def fixed_clock(monkeypatch):
    import mobile_api.reports_api as reports_api
    original = reports_api.report_desk

    def at_night() -> ReportDesk:
        desk = original()
        desk.clock = lambda: NIGHT
        return desk
    monkeypatch.setattr(reports_api, "report_desk", at_night)


def test_an_alert_of_the_beijing_night_is_in_todays_report(quiet, client, fixed_clock):
    received = "2026-03-01T17:05:00.000Z"  # 01:05 on 2 March, Beijing time
    quiet.alerts.raiser.raise_alert(VILLAGE, mediation_request(), "1-x", received, "gateway")
    who = auth("admin.zq", "change-me-2026")
    default = client.get("/api/v1/reports/mediation_sla", headers=who).get_json()
    assert default["days"] == {"timezone": "Asia/Shanghai", "from_date": "2026-02-01",
                               "to_date": "2026-03-02"}
    assert default["overall"]["alerts"] == 1
    today = client.get("/api/v1/reports/mediation_sla?from=2026-03-02&to=2026-03-02",
                       headers=who).get_json()
    assert today["overall"]["alerts"] == 1
    utc_day = client.get("/api/v1/reports/mediation_sla?from=2026-03-01&to=2026-03-01",
                         headers=who).get_json()
    assert utc_day["overall"]["alerts"] == 0  # 1 March in Beijing ended before it came in
