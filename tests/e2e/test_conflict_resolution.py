"""Two devices of one village edit the same households offline; the worker merges, archives and
deletes the losers; both devices pull and converge on one revision with no conflicts left."""
from __future__ import annotations

import copy

from models import hlc
from models.examples import example
from models.doc_ids import conflict_archive_id
from models.server_docs import conflict_archive_schema, review_task_schema
from sync.reconcile.conflicts import ConflictResolver

VILLAGE = "441226101201"
CLEAN = "household:6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a51"
CLASH = "household:6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a52"
T0 = 1714525200000


def household(doc_id: str) -> dict:
    doc = example("household")
    doc.update(_id=doc_id, village_code=VILLAGE)
    return doc


def edited(doc: dict, path: str, value, stamp: str) -> dict:
    out = copy.deepcopy(doc)
    if path.startswith("indicators."):
        out["indicators"][path.split(".", 1)[1]] = value
    else:
        out[path] = value
    out["field_stamps"][path] = stamp
    return out


def test_devices_converge_after_reconciliation(provisioned, make_device):
    phone_a, phone_b = make_device("chen.zq", VILLAGE), make_device("chen.zq", VILLAGE)
    phone_a.run({"op": "put", "doc": household(CLEAN)}, {"op": "put", "doc": household(CLASH)},
                {"op": "push"})
    assert phone_b.one({"op": "pull"})["ok"]
    a_clean, a_clash = phone_a.run({"op": "get", "id": CLEAN}, {"op": "get", "id": CLASH})
    b_clean, b_clash = phone_b.run({"op": "get", "id": CLEAN}, {"op": "get", "id": CLASH})
    stamp_a = hlc.tick(T0 + 86_400_000, None, phone_a.device_id)
    stamp_b = hlc.tick(T0 + 90_000_000, None, phone_b.device_id)  # later than A's
    phone_a.run({"op": "put", "doc": edited(a_clean, "notes", "甲机修改", stamp_a)},
                {"op": "put", "doc": edited(a_clash, "poverty_status", "lifted", stamp_a)},
                {"op": "push"})
    phone_b.run({"op": "put", "doc": edited(b_clean, "indicators.safe_housing", True, stamp_b)},
                {"op": "put", "doc": edited(b_clash, "poverty_status", "at_risk", stamp_b)},
                {"op": "push"})

    resolver = ConflictResolver(provisioned.couch, provisioned.names)
    assert sorted(resolver.conflicted_ids(VILLAGE)) == [CLEAN, CLASH]
    resolutions = {r.doc_id: r for r in resolver.sweep(VILLAGE)}
    assert resolver.conflicted_ids(VILLAGE) == [] and resolver.sweep(VILLAGE) == []

    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    clean = village_db.get(CLEAN, conflicts=True)
    assert "_conflicts" not in clean
    assert clean["notes"] == "甲机修改" and clean["indicators"]["safe_housing"] is True
    assert clean["field_stamps"]["notes"] == stamp_a
    assert clean["field_stamps"]["indicators.safe_housing"] == stamp_b
    assert resolutions[CLEAN].review_task_ids == []

    clash = village_db.get(CLASH, conflicts=True)
    assert "_conflicts" not in clash and clash["poverty_status"] == "at_risk"
    review_db = provisioned.couch.database(provisioned.names.review)
    [task_id] = resolutions[CLASH].review_task_ids
    task = review_db.get(task_id)
    assert task["state"] == "open" and task["field"] == "poverty_status"
    assert sorted(c["value"] for c in task["candidates"]) == ["at_risk", "lifted"]
    [losing_rev] = [c["rev"] for c in task["candidates"] if c["value"] == "lifted"]
    archive = review_db.get(conflict_archive_id(CLASH, losing_rev, "poverty_status"))
    assert archive["losing_value"] == "lifted" and archive["losing_stamp"] == stamp_a
    assert archive["losing_body"]["poverty_status"] == "lifted"
    assert archive["winning_body"]["poverty_status"] == "at_risk"
    assert archive["losing_author"]["device_id"] == phone_a.device_id
    assert archive["losing_author"]["username"] == "chen.zq"
    assert conflict_archive_schema.validate(archive) == {}
    assert review_task_schema.validate(task) == {}

    for phone in (phone_a, phone_b):
        assert phone.one({"op": "pull"})["ok"]
        for doc_id, server_doc in ((CLEAN, clean), (CLASH, clash)):
            local = phone.one({"op": "get", "id": doc_id})
            assert local["_rev"] == server_doc["_rev"] and "_conflicts" not in local


def _replicate(db, doc: dict, rev: str, parents: list[str]) -> None:
    leaf = copy.deepcopy(doc)
    generation, rev_id = rev.split("-", 1)
    leaf.update(_rev=rev, _revisions={"start": int(generation), "ids": [rev_id, *parents]})
    db.bulk_docs([leaf], new_edits=False)


def test_written_once_conflict_keeps_the_original(provisioned):
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    village_db.create()
    visit = example("verification_visit")
    visit.update(_id="visit:0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f3a", village_code=VILLAGE)
    _replicate(village_db, visit, "1-aaaa", [])
    _replicate(village_db, {**visit, "notes": "另一台设备"}, "1-bbbb", [])
    _replicate(village_db, {**visit, "notes": "第三台设备"}, "1-cccc", [])
    resolver = ConflictResolver(provisioned.couch, provisioned.names)
    [resolution] = resolver.sweep(VILLAGE)
    kept = village_db.get(visit["_id"], conflicts=True)
    assert "_conflicts" not in kept and kept["_rev"] == resolution.winner_rev
    assert kept["_rev"] == "1-aaaa"  # the lowest generation, then the lowest revision id
    review_db = provisioned.couch.database(provisioned.names.review)
    for loser in ("1-bbbb", "1-cccc"):
        archived = review_db.get(conflict_archive_id(visit["_id"], loser))
        assert archived["losing_body"]["_rev"] == loser and archived["winning_rev"] == "1-aaaa"


def test_a_worker_dying_midway_leaves_nothing_the_next_cannot_finish(provisioned, monkeypatch):
    village_db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    village_db.create()
    base = household(CLASH)
    _replicate(village_db, base, "1-aaaa", [])
    _replicate(village_db, edited(base, "notes", "甲", "1714700000000-00000-dev-a"), "2-bbbb",
               ["aaaa"])
    _replicate(village_db, edited(base, "address", "乙", "1714600000000-00000-dev-b"), "2-cccc",
               ["aaaa"])
    first = ConflictResolver(provisioned.couch, provisioned.names)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("SIGKILL between the merged write and the deletions")
    monkeypatch.setattr(first, "_delete", killed)
    try:
        first.resolve(VILLAGE, CLASH)
    except KeyboardInterrupt:
        pass
    assert village_db.get(CLASH, conflicts=True)["_conflicts"]  # merged, losers not yet gone
    second = ConflictResolver(provisioned.couch, provisioned.names)
    resolution = second.resolve(VILLAGE, CLASH)
    assert resolution is not None and not resolution.wrote_merge  # nothing left to merge
    final = village_db.get(CLASH, conflicts=True)
    assert "_conflicts" not in final and final["notes"] == "甲" and final["address"] == "乙"
    assert second.resolve(VILLAGE, CLASH) is None
