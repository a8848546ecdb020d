"""The Zhaoqing demo slice: hierarchy, accounts, households, pending requests; loads once."""
from __future__ import annotations

from server.demo import load_demo


def test_demo_loads_a_realistic_slice_once(services):
    first = load_demo(services)
    directory = services.directory
    levels = [j.level for j in directory.jurisdictions().values()]
    assert levels.count("county") == 3 and levels.count("town") == 6
    assert levels.count("village") == 18
    assert {j.name for j in directory.jurisdictions().values()} >= {"肇庆市", "德庆县", "广宁县", "高要区"}
    village = services.couch.database(services.names.village("441226101201"))
    households = list(village.docs_with_prefix("household:"))
    # six of the roster, a disagreement and a record to correct (demo_activity.review_cases)
    assert len(households) == 8 and {h["poverty_status"] for h in households} >= {"lifted", "at_risk"}
    assert first > 28 + 28 + 18 * 6 + 6
    assert load_demo(services) == 0  # a second load writes nothing
    # the pending requests were written past the gateway: the worker's sweep raises their alerts
    services.alerts.sweep.sweep()
    alerts = [a for a in services.couch.database(services.names.alerts).docs_with_prefix("alert:")
              if a.get("type") == "alert"]
    assert len(alerts) == 6 * 6 and {a["town_name"] for a in alerts} >= {"新圩镇", "排沙镇"}
    assert all(a["steps"]["0"]["recipients"] for a in alerts)  # never to nobody


def test_the_demo_has_what_the_tour_shows(services):
    from datetime import datetime, timezone

    from models.alerts import is_overdue, iso
    from sync.reports.builder import ReportDesk, Scope, parse_period
    load_demo(services)
    router = services.alerts.router
    towns = [c for c, j in services.directory.jurisdictions().items() if j.level == "town"]
    for town in towns:
        roster = router.roster(town)
        assert roster["on_duty"] and len(roster["mediators"]) == 2, town
    alerts = [a for a in services.alerts.store.db.docs_with_prefix("alert:") if a.get("type") == "alert"]
    now = iso(datetime.now(timezone.utc))
    assert sum(1 for a in alerts if a["resolved_at"]) == 2 * 6
    assert sum(1 for a in alerts if a["acknowledged_at"] and not a["resolved_at"]) == 6
    escalated = [a for a in alerts if "1" in (a.get("steps") or {})]
    assert len(escalated) == 6 and all(is_overdue(a, now) for a in escalated)
    services.reconciliation.run()
    services.photo_desk.process_pending("test", max_items=500)
    desk = ReportDesk(services.couch, services.names, services.directory, services.alerts.store,
                      services.devices, services.quarantine, services.reconciliation.resolver)
    start, end = parse_period(None, None, datetime.now(timezone.utc), 30)
    coverage = desk.coverage(Scope.of("central_admin", "441200000000"), start, end)
    by_town = [r["coverage_pct"] for r in coverage["rows"] if r["level"] == "town"]
    assert len(by_town) == 6 and all(40 <= pct <= 90 for pct in by_town), by_town
    review = services.reconciliation.review_db
    kinds = [t["kind"] for t in review.docs_with_prefix("review:") if t.get("state") == "open"]
    for kind in ("household_disagreement", "duplicate_household", "photo_reuse"):
        assert kind in kinds, (kind, kinds)
    assert [q for q in review.docs_with_prefix("quarantine:") if q.get("state") == "open"]
