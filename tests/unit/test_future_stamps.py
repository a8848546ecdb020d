"""The future-stamp rule (issue 11, finding 11) with a fixed server clock, no server needed."""
from __future__ import annotations

import pytest

from models import hlc
from models.examples import example
from models.registry import ACCEPT, QUARANTINE, classify_device_document
from sync.gateway.forwarding import SyncRequest
from sync.gateway.screening import screen_documents

VILLAGE = "441226101201"
NOW_MS = 1714700000000  # the fixed server clock of these tests
HOUR_MS = 3600 * 1000


def household(stamp: str) -> dict:
    doc = example("household")
    doc.update(_id="household:5d0f1a52-8f7e-4b43-9a37-0a4c2d1e9b01", village_code=VILLAGE)
    doc["field_stamps"] = {path: stamp for path in doc["field_stamps"]}
    return doc


def stamp_at(ms: int) -> str:
    return f"{ms:013d}-00000-dev-7f3a9c21"


@pytest.mark.parametrize("ahead_h, action, code", [
    (0, ACCEPT, None), (23, ACCEPT, None), (25, QUARANTINE, "stamp_in_future"),
    (24 * 30, QUARANTINE, "stamp_in_future")])
def test_screening_judges_stamps_by_the_clock_it_is_given(ahead_h, action, code):
    req = SyncRequest(method="POST", village=VILLAGE, segments=["_bulk_docs"])
    doc = household(stamp_at(NOW_MS + ahead_h * HOUR_MS))
    batch = screen_documents([doc], req, 10 * 1024 * 1024, classify_device_document, now_ms=NOW_MS)
    verdict = batch.accepted[0].verdict
    assert (verdict.action, verdict.code) == (action, code)
    if code:
        assert {p["field"] for p in verdict.problems} == {f"field_stamps.{p}" for p in doc["field_stamps"]}


def test_the_same_stamp_passes_once_the_clock_has_caught_up():
    doc = household(stamp_at(NOW_MS + 48 * HOUR_MS))
    assert classify_device_document(doc, VILLAGE, now_ms=NOW_MS).code == "stamp_in_future"
    assert classify_device_document(doc, VILLAGE, now_ms=NOW_MS + 30 * HOUR_MS).accepted


@pytest.mark.parametrize("stamp", [
    "\uff11\uff17\uff11\uff14\uff17\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff10-00000-dev-1",
    "1714700000000-00000-dev-1\n",
    "1714700000000-\u0660\u0660\u0660\u0660\u0660-dev-1",
])
def test_lookalike_stamps_are_not_stamps(stamp):
    # full-width or Arabic-Indic digits would sort after every ASCII stamp: a stamp that wins
    # every merge while the future check reads an ordinary time
    assert not hlc.is_stamp(stamp)
    verdict = classify_device_document(household(stamp), VILLAGE, now_ms=NOW_MS)
    assert verdict.action == QUARANTINE and "stamp_format" in verdict.codes
