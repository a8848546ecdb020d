"""CouchDB being away or busy is answered 503 with the error code and a `Retry-After`, as
docs/api.md says (mobile_api/errors.py), so PouchDB and the field app wait before retrying."""
from __future__ import annotations

import pytest
from flask import Flask

from mobile_api.errors import register_error_handlers
from sync.couch.client import Busy, Unavailable


@pytest.mark.parametrize("error, code, wait", [
    (Busy(None, "couchdb_busy", "no free connection", "GET", "/"), "couchdb_busy", "2"),
    (Unavailable(None, "unavailable", "refused", "GET", "/"), "couchdb_unavailable", "5")])
def test_couchdb_away_or_busy_is_503_with_retry_after(error, code, wait):
    app = Flask(__name__)
    register_error_handlers(app)

    @app.get("/x")
    def x():
        raise error
    answer = app.test_client().get("/x")
    assert answer.status_code == 503 and answer.get_json()["error"] == code
    assert answer.headers.get("Retry-After") == wait
    assert "headers" not in answer.get_json()["messages"]["en"]
