"""Who answers a town's alerts, read by jurisdiction: the duty list and alert routing give the
same answers as a read of every account did, without reading every account."""
from __future__ import annotations

import base64
import threading

import pytest

from sync.alerts.routing import OFFICIAL_ROLES
from sync.couch.client import Database
from support.alerting import COUNTY, TOWN

OTHER_TOWN = "441226102000"  # a second town (support.alerting has its official ma.other)


def auth(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept-Language": "en"}


def reference_officials(services, code: str) -> list[str]:
    """The old rule, from every account: enabled town and county officials of exactly `code`."""
    return sorted(doc["username"] for doc in services.directory.account_docs().values()
                  if doc.get("role") in OFFICIAL_ROLES and not doc.get("disabled")
                  and doc.get("jurisdiction") == code)


@pytest.fixture
def crowded(inbox_only):
    """The officials of support.alerting plus 300 cadres, disabled officials, a second town's
    officials and a central admin, written in one batch (no password hashing needed)."""
    villages = [code for code in inbox_only.directory.villages() if code.startswith(TOWN[:9])]
    docs = [{"_id": f"account:cadre.{i:03d}", "type": "account", "schema_version": 1,
             "username": f"cadre.{i:03d}", "display_name": f"村干部{i}", "role": "cadre",
             "jurisdiction": villages[i % len(villages)], "phone": None, "disabled": False}
            for i in range(300)]
    for username, role, code, disabled in (("off.town.1", "town_official", TOWN, True),
                                           ("off.county.1", "county_official", COUNTY, True),
                                           ("jiu.a", "town_official", OTHER_TOWN, False),
                                           ("jiu.b", "town_official", OTHER_TOWN, False),
                                           ("jiu.off", "town_official", OTHER_TOWN, True),
                                           ("central.b", "central_admin", "441200000000", False)):
        docs.append({"_id": f"account:{username}", "type": "account", "schema_version": 1,
                     "username": username, "display_name": username.upper(), "role": role,
                     "jurisdiction": code, "phone": "13900000001", "disabled": disabled})
    docs.append({"_id": f"jurisdiction:{OTHER_TOWN}", "type": "jurisdiction", "schema_version": 1,
                 "code": OTHER_TOWN, "name": "九市镇", "level": "town", "parent": COUNTY})
    assert not [r for r in inbox_only.directory.db.bulk_docs(docs) if r.get("error")]
    return inbox_only


@pytest.fixture
def no_account_scan(monkeypatch):
    """Fails the test if anything reads the account range of the directory."""
    real = Database.docs_with_prefix

    def guarded(self, prefix: str, batch: int = 500):
        if "account:".startswith(prefix) or prefix.startswith("account:"):
            pytest.fail(f"read every account ({prefix!r})")
        return real(self, prefix, batch)
    monkeypatch.setattr(Database, "docs_with_prefix", guarded)


def test_officials_by_jurisdiction_are_those_of_every_account(crowded):
    codes = [TOWN, COUNTY, OTHER_TOWN, "441226103000", "441200000000", "999999999999"]
    expected = {code: reference_officials(crowded, code) for code in codes}
    assert expected[OTHER_TOWN] == ["jiu.a", "jiu.b", "ma.other"] and expected[TOWN]  # not vacuous
    router = crowded.alerts.router
    assert router.officials_in(codes) == expected
    assert {code: router.officials_of(code) for code in codes} == expected


def test_the_duty_list_names_the_same_people_without_reading_every_account(
        crowded, client, no_account_scan):
    rows = crowded.directory.db.all_docs(include_docs=True, startkey="account:",
                                         endkey="account:\ufff0")["rows"]
    accounts = {row["doc"]["username"]: row["doc"] for row in rows}
    for viewer, password in (("liang.lj", "official-pass-1"), ("admin.zq", "change-me-2026")):
        answer = client.get("/api/v1/duty-rosters", headers=auth(viewer, password))
        assert answer.status_code == 200, answer.get_json()
        rosters = {r["code"]: r for r in answer.get_json()["rosters"]}
        assert {TOWN, COUNTY, OTHER_TOWN} <= set(rosters)
        for code, roster in rosters.items():
            assert [p["username"] for p in roster["eligible"]] == \
                sorted(n for n, d in accounts.items() if d.get("role") in OFFICIAL_ROLES
                       and not d.get("disabled") and d.get("jurisdiction") == code)
            for person in [*roster["on_duty"], *roster["answered_by"], *roster["eligible"],
                           *([roster["leader"]] if roster["leader"] else [])]:
                doc = accounts[person["username"]]
                assert person == {"username": doc["username"], "phone": doc.get("phone"),
                                  "display_name": doc.get("display_name") or doc["username"]}
        # nobody on 九市镇's roster: its own two officials answer, as before
        assert [p["username"] for p in rosters[OTHER_TOWN]["answered_by"]] == ["jiu.a", "jiu.b", "ma.other"]
        assert rosters[OTHER_TOWN]["answered_by_source"] == "town_officials"


def test_an_official_disabled_here_stops_getting_alerts_at_once(crowded, no_account_scan):
    router = crowded.alerts.router
    router.save_roster(OTHER_TOWN, [], None, "test")
    assert router.town_duty(OTHER_TOWN, COUNTY) == (["jiu.a", "jiu.b", "ma.other"], "town_officials")
    crowded.directory.set_disabled("jiu.a", True)  # no 15 s wait in this process
    assert router.town_duty(OTHER_TOWN, COUNTY) == (["jiu.b", "ma.other"], "town_officials")
    for name in ("jiu.b", "ma.other"):
        crowded.directory.set_disabled(name, True)
    assert router.town_duty(OTHER_TOWN, COUNTY)[1] == "county_roster"


def test_many_first_readers_at_once_install_the_routing_view_once_and_all_get_answers(inbox_only):
    """A fresh directory without the routing view, and several requests routed at once (as when
    a crowd of mediation requests arrives): each reader that finds no view installs it; the ones
    that lose the race (409) must still get their answer, not an error."""
    from concurrent.futures import ThreadPoolExecutor

    from sync.alerts.routing import ROUTING_DDOC, Router

    db = inbox_only.directory.db
    current = db.get_or_none(ROUTING_DDOC["_id"])
    if current:
        db.delete(ROUTING_DDOC["_id"], current["_rev"])
    expected = reference_officials(inbox_only, TOWN)
    routers = [Router(db) for _ in range(8)]  # each with an empty cache, as 8 processes
    start = threading.Barrier(len(routers))

    def first_read(router: Router) -> list[str]:
        start.wait(timeout=30)
        return router.officials_of(TOWN)

    with ThreadPoolExecutor(len(routers)) as pool:
        answers = list(pool.map(first_read, routers))
    assert answers == [expected] * len(routers)
    assert db.get_or_none(ROUTING_DDOC["_id"])["_rev"].startswith("1-")
