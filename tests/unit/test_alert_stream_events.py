"""Which events an official's stream sends for the documents queued for it at once
(mobile_api/alerts_stream.py): in order, each document once as it is now, only the caller's."""
from __future__ import annotations

from mobile_api.alerts_stream import _for
from sync.directory.access import Principal

TOWN = "441226101000"
OFFICIAL = Principal("town.official", "town_official", TOWN)


def alert(n: int, rev: str, town: str = TOWN) -> dict:
    return {"_id": f"alert:{n}", "_rev": rev, "type": "alert", "town_code": town}


def delivery(n: int, recipient: str, state: str = "delivered") -> dict:
    return {"_id": f"delivery:{n}", "_rev": "1-a", "type": "delivery", "channel": "inbox",
            "recipient": recipient, "state": state}


def test_several_revisions_of_one_alert_queued_together_are_sent_once_as_the_last():
    queued = [alert(1, "1-a"), alert(2, "1-b"), alert(1, "2-c")]
    assert [(name, doc["_id"], doc["_rev"]) for name, doc in _for(OFFICIAL, queued)] == [
        ("alert", "alert:2", "1-b"), ("alert", "alert:1", "2-c")]


def test_only_the_callers_town_and_inbox_items_are_sent():
    queued = [alert(1, "1-a", town="441226102000"), delivery(1, "someone.else"),
              delivery(2, "town.official", state="queued"), delivery(3, "town.official"),
              alert(4, "1-a")]
    assert [(name, doc["_id"]) for name, doc in _for(OFFICIAL, queued)] == [
        ("inbox", "delivery:3"), ("alert", "alert:4")]
