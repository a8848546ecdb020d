"""What a device still holds (docs/device-contract.md §8): the counts a device reports on its
sync requests reach its registry entry, the officials' device list and the monitoring figures;
a changed count is recorded at once, throttle or not; malformed counts are refused."""
from __future__ import annotations

import base64

import pytest

VILLAGE = "441226101201"
DEVICE = "dev-status-0001"


def basic(username: str, password: str = "device-pass-1") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def report(client, pending=None, refused=None, seq=None, device=DEVICE, username="chen.zq",
           path=f"/sync/{VILLAGE}/"):
    headers = {**basic(username), "X-Device-Id": device, "X-App-Version": "1.0.0"}
    for name, value in (("X-Device-Pending", pending), ("X-Device-Refused", refused),
                        ("X-Device-Seq", seq)):
        if value is not None:
            headers[name] = str(value)
    return client.get(path, headers=headers)


def stored(services, device=DEVICE) -> dict:
    return services.devices.db.get(f"device:{device}")


def test_reported_counts_reach_the_registry_the_device_list_and_monitoring(provisioned, client):
    assert report(client, pending=3, refused=1, seq=42).status_code == 200
    doc = stored(provisioned)
    assert (doc["pending_at_last_contact"], doc["refused_at_last_contact"], doc["local_seq"]) == (3, 1, "42")
    assert doc["holding_since"] == doc["status_reported_at"] and doc.get("all_uploaded_at") is None
    listed = client.get("/api/v1/devices", headers=basic("huang.jh")).get_json()["devices"]
    (mine,) = [d for d in listed if d["device_id"] == DEVICE]
    assert mine["pending_at_last_contact"] == 3 and mine["refused_at_last_contact"] == 1
    figures = client.get("/api/v1/monitoring", headers=basic("huang.jh")).get_json()["devices"]
    assert figures["holding_unsent"] == 1
    assert figures["holding_devices"][0]["device_id"] == DEVICE
    assert figures["holding_devices"][0]["username"] == "chen.zq"

    # within the registry's 30 s throttle: a changed count is written, the same one is not
    assert report(client, pending=0, refused=0, seq=57).status_code == 200
    doc = stored(provisioned)
    assert doc["pending_at_last_contact"] == 0 and doc["local_seq"] == "57"
    assert doc["all_uploaded_at"] == doc["status_reported_at"] and doc["holding_since"] is None
    rev = doc["_rev"]
    assert report(client, pending=0, refused=0, seq=58).status_code == 200
    assert stored(provisioned)["_rev"] == rev
    figures = client.get("/api/v1/monitoring", headers=basic("huang.jh")).get_json()["devices"]
    assert figures["holding_unsent"] == 0 and figures["holding_devices"] == []


def test_holding_since_is_when_the_device_first_held_work(provisioned, client):
    report(client, pending=2, seq=1)
    since = stored(provisioned)["holding_since"]
    report(client, pending=5, seq=4)
    doc = stored(provisioned)
    assert doc["holding_since"] == since and doc["pending_at_last_contact"] == 5
    assert doc["refused_at_last_contact"] == 0  # no X-Device-Refused: none


def test_a_request_without_counts_changes_no_counts(provisioned, client):
    report(client, pending=4, seq=9)
    report(client, path=f"/sync/{VILLAGE}/_changes?since=0&limit=1")
    assert stored(provisioned)["pending_at_last_contact"] == 4


def test_counts_claimed_for_another_accounts_device_are_not_recorded(provisioned, client):
    report(client, pending=0, seq=1)
    assert report(client, pending=9, username="li.xy", device=DEVICE,
                  path="/sync/441226101202/").status_code == 200
    assert stored(provisioned)["pending_at_last_contact"] == 0


@pytest.mark.parametrize("headers", [
    {"X-Device-Pending": "-1"}, {"X-Device-Pending": "three"}, {"X-Device-Pending": "99999999"},
    {"X-Device-Pending": "1.5"}, {"X-Device-Pending": ""}, {"X-Device-Pending": "0x10"},
    {"X-Device-Pending": "1", "X-Device-Refused": "-2"},
    {"X-Device-Pending": "1", "X-Device-Seq": "a b"},
    {"X-Device-Pending": "1", "X-Device-Seq": "9" * 65},
    {"X-Device-Refused": "1"}, {"X-Device-Seq": "12"},
])
def test_malformed_counts_are_refused_with_the_header_named(provisioned, client, headers):
    answer = client.get(f"/sync/{VILLAGE}/", headers={**basic("chen.zq"), "X-Device-Id": DEVICE,
                                                      **headers})
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == "device_status_format"
    named = "X-Device-Pending" if "X-Device-Pending" not in headers else next(
        name for name in headers if name != "X-Device-Pending" or len(headers) == 1)
    assert named in body["messages"]["en"] and named in body["message"]
