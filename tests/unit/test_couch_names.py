"""Database names follow CouchDB 3.x's rule, which pouchdb-server does not enforce."""
from __future__ import annotations

import pytest

from sync.couch.names import DatabaseNames, valid_database_name


def test_every_name_fieldsync_makes_is_one_couchdb_accepts():
    names = DatabaseNames("fieldsync_")
    for name in (*names.server_databases, names.village("441226101201")):
        assert valid_database_name(name), name


@pytest.mark.parametrize("name", ["Fieldsync", "_users2", "1db", "a b", "a.b", "数据", "", "a" * 239])
def test_names_couchdb_refuses(name):
    assert not valid_database_name(name)


@pytest.mark.parametrize("code", ["..", "441226101201/..", "44122610120a", "", "4412 26", "４４１"])
def test_a_village_code_that_is_not_digits_names_nothing(code):
    with pytest.raises(ValueError):
        DatabaseNames("fieldsync_").village(code)


def test_a_bad_prefix_is_refused():
    with pytest.raises(ValueError):
        DatabaseNames("Field-")
