"""Device login, device tokens as sync passwords, device lists and revocation."""
from __future__ import annotations

import requests

VILLAGE = "441226101201"


def login(base: str, username: str = "chen.zq", password: str = "device-pass-1",
          device_id: str = "phone-0001") -> requests.Response:
    return requests.post(f"{base}/api/v1/login", json={
        "username": username, "password": password, "device_id": device_id,
        "platform": "android-12", "app_version": "1.4.0"}, timeout=10)


def test_login_gives_a_token_that_syncs(provisioned, live_server, make_device):
    answer = login(live_server)
    assert answer.status_code == 200
    body = answer.json()
    assert body["sync_url"] == f"{live_server}/sync/{VILLAGE}"
    assert body["role"] == "cadre" and body["token"].startswith("fst1.")
    phone = make_device("chen.zq", VILLAGE, password=body["token"])
    info = phone.one({"op": "remote_info"})
    assert info["db_name"].endswith(VILLAGE)
    devices = requests.get(f"{live_server}/api/v1/devices", auth=("chen.zq", body["token"]))
    assert [d["device_id"] for d in devices.json()["devices"]] == ["phone-0001"]


def test_login_errors_are_precise(provisioned, live_server):
    wrong = login(live_server, password="wrong")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_credentials"
    assert wrong.json()["messages"]["zh"] == "用户名或密码错误"
    bad = requests.post(f"{live_server}/api/v1/login", json={"username": "chen.zq",
                                                             "device_id": "x", "extra": 1})
    assert bad.status_code == 422
    fields = {d["field"]: d["code"] for d in bad.json()["details"]}
    assert set(fields) == {"password", "device_id", "extra"}
    assert fields["password"] == "required" and fields["extra"] == "unknown_field"
    not_json = requests.post(f"{live_server}/api/v1/login", data=b"x")
    assert not_json.status_code == 400 and not_json.json()["error"] == "bad_json"


def test_revoking_one_device_leaves_the_others(provisioned, live_server):
    first = login(live_server, device_id="phone-0001").json()["token"]
    second = login(live_server, device_id="phone-0002").json()["token"]
    url = f"{live_server}/sync/{VILLAGE}/"
    # a town official revokes the first phone
    revoke = requests.delete(f"{live_server}/api/v1/devices/phone-0001/token",
                             auth=("huang.jh", "device-pass-1"))
    assert revoke.status_code == 200
    assert requests.get(url, auth=("chen.zq", first)).json()["error"] == "token_revoked"
    assert requests.get(url, auth=("chen.zq", second)).status_code == 200
    # an official of another county cannot revoke it
    other = requests.delete(f"{live_server}/api/v1/devices/phone-0002/token",
                            auth=("li.xy", "device-pass-1"))
    assert other.status_code == 403


def test_stale_device_list_for_officials(provisioned, live_server):
    login(live_server, device_id="phone-0001")
    db = provisioned.devices.db
    doc = db.get("device:phone-0001")
    doc["last_contact"] = "2026-01-01T00:00:00.000Z"
    db.put(doc)
    stale = requests.get(f"{live_server}/api/v1/devices", params={"stale_hours": 72},
                         auth=("huang.jh", "device-pass-1"))
    assert [d["device_id"] for d in stale.json()["devices"]] == ["phone-0001"]
    fresh_only = requests.get(f"{live_server}/api/v1/devices", params={"stale_hours": 72},
                              auth=("chen.zq", "device-pass-1"))
    assert fresh_only.json()["count"] == 1
    bad = requests.get(f"{live_server}/api/v1/devices", params={"stale_hours": "x"},
                       auth=("huang.jh", "device-pass-1"))
    assert bad.status_code == 400


def test_repeated_wrong_passwords_lock_the_account_but_not_its_device_token(provisioned,
                                                                             live_server):
    token = login(live_server).json()["token"]
    answers = [login(live_server, password=f"guess-{n}") for n in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    locked = login(live_server)  # even the right password waits now
    assert locked.status_code == 429 and locked.json()["error"] == "account_locked"
    assert int(locked.headers["Retry-After"]) >= 1  # 60 s, doubling (docs/security.md)
    assert requests.get(f"{live_server}/sync/{VILLAGE}/", auth=("chen.zq", token)).status_code == 200


def test_disabling_from_another_process_reaches_the_cached_account(provisioned, live_server,
                                                                   cli_env):
    """The web process caches accounts; the CLI disabling one must still take effect at once."""
    import subprocess
    import sys
    import time
    from pathlib import Path
    url = f"{live_server}/sync/{VILLAGE}/"
    auth = ("chen.zq", "device-pass-1")
    for _ in range(3):  # now certainly cached
        assert requests.get(url, auth=auth).status_code == 200
    exe = str(Path(sys.executable).parent / "fieldsync")
    done = subprocess.run([exe, "user", "disable", "chen.zq"], env=cli_env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    deadline, status = time.monotonic() + 2.0, None
    while time.monotonic() < deadline:
        status = requests.get(url, auth=auth).status_code
        if status == 401:
            break
        time.sleep(0.02)
    assert status == 401  # evicted by the directory's changes feed, well within 2 s
