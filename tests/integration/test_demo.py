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
    assert len(households) == 6 and {h["poverty_status"] for h in households} >= {"lifted", "at_risk"}
    assert first == 28 + 28 + 18 * 6 + 6
    assert load_demo(services) == 0  # a second load writes nothing
    # the pending requests were written past the gateway: the worker's sweep raises their alerts
    services.alerts.sweep.sweep()
    alerts = [a for a in services.couch.database(services.names.alerts).docs_with_prefix("alert:")
              if a.get("type") == "alert"]
    assert len(alerts) == 6 and {a["town_name"] for a in alerts} >= {"新圩镇", "排沙镇"}
