"""Provisioning deletes the design documents of earlier versions that nothing reads any more
(RETIRED_VILLAGE_DDOCS: on CouchDB 3.x every index in them is brought up to date after writes),
on every village database that still has one: at provisioning and at worker start."""
from __future__ import annotations

from sync.couch.design import RETIRED_VILLAGE_DDOCS, VILLAGE_DDOC
from sync.directory import provisioning

VILLAGE = "441226101299"


def _design_ids(db) -> set[str]:
    return {row["id"] for row in db.all_docs(startkey="_design/", endkey="_design0")["rows"]}


def _as_provisioned_by_version_4(services):
    """A village database as an earlier version left it: today's design plus the Mango index
    on `type` in `_design/fieldsync-indexes`."""
    provisioning.ensure_village_database(services.couch, services.names, VILLAGE)
    db = services.couch.database(services.names.village(VILLAGE))
    db.create_index(["type"], "by-type", ddoc="fieldsync-indexes")
    assert "_design/fieldsync-indexes" in _design_ids(db)
    return db


def test_provisioning_deletes_a_retired_design_document_once(services):
    db = _as_provisioned_by_version_4(services)
    assert provisioning.ensure_village_database(services.couch, services.names, VILLAGE) is True
    assert _design_ids(db) == {VILLAGE_DDOC}
    assert not set(RETIRED_VILLAGE_DDOCS) & _design_ids(db)
    # nothing left to do: the next run changes nothing and deletes nothing
    assert provisioning.ensure_village_database(services.couch, services.names, VILLAGE) is False
    assert provisioning.drop_retired_designs(db) == []


def test_a_database_that_never_had_one_is_left_alone(services):
    provisioning.ensure_village_database(services.couch, services.names, VILLAGE)
    db = services.couch.database(services.names.village(VILLAGE))
    before = db.info()["update_seq"]
    assert provisioning.drop_retired_designs(db) == []
    assert db.info()["update_seq"] == before


def test_new_indexes_never_go_into_a_retired_design_document():
    assert f"_design/{provisioning.VILLAGE_INDEX_DDOC}" not in RETIRED_VILLAGE_DDOCS
