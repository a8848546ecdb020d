"""Attacks on sessions (issue #11, findings 3-6): tokens as passwords, renewal, device ids,
lockout under a crowd and from strangers, unknown-user oracles, streams after disable."""
from __future__ import annotations

import base64
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

import sync.directory.access as access

VILLAGE = "441226101201"
PASSWORD = "device-pass-1"
ALLOWED_CHECKS = 5  # wrong passwords checked per (account, source) before the first lock
HOME, STRANGER = "198.51.100.7", "203.0.113.9"  # REMOTE_ADDR of test-client requests only


def basic(username: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode(),
            "Accept-Language": "en"}


def login(client, username="chen.zq", password=PASSWORD, device_id="phone-0001", source=HOME):
    return client.post("/api/v1/login", json={"username": username, "password": password,
                                              "device_id": device_id, "platform": "android-12",
                                              "app_version": "1.4.0"},
                       environ_base={"REMOTE_ADDR": source})


def renew(client, username, token, source=HOME):
    return client.post("/api/v1/token/renew", json={}, headers=basic(username, token),
                       environ_base={"REMOTE_ADDR": source})


def sync_status(client, username, secret, village=VILLAGE) -> int:
    return client.get(f"/sync/{village}/", headers=basic(username, secret)).status_code


@pytest.fixture
def checks(monkeypatch):
    """Counts the password checks (scrypt runs) the authenticator makes."""
    counted = {"n": 0}
    lock = threading.Lock()
    real = access.verify_password

    def counting(password, stored):
        with lock:
            counted["n"] += 1
        return real(password, stored)
    monkeypatch.setattr(access, "verify_password", counting)
    return counted


# --- finding 3: login takes a password only; renewal is its own endpoint ------------------------

def test_login_refuses_a_device_token_as_the_password(provisioned, client):
    token = login(client).get_json()["token"]
    again = login(client, password=token)
    assert again.status_code == 401 and again.get_json()["error"] == "invalid_credentials"


def test_renewal_needs_a_live_token_of_a_live_device_and_answers_like_login(provisioned, client):
    first = login(client).get_json()
    renewed = renew(client, "chen.zq", first["token"])
    assert renewed.status_code == 200, renewed.get_json()
    body = renewed.get_json()
    assert set(body) == set(first) and body["token"] != first["token"]
    assert body["sync_url"] == first["sync_url"] and body["role"] == "cadre"
    assert sync_status(client, "chen.zq", body["token"]) == 200
    assert sync_status(client, "chen.zq", first["token"]) == 200  # the old one runs to its expiry
    # a password is not a token
    refused = renew(client, "chen.zq", PASSWORD)
    assert refused.status_code == 401 and refused.get_json()["error"] == "token_required"
    assert renew(client, "chen.zq", "fst1.forged.sig").get_json()["error"] == "invalid_credentials"
    assert renew(client, "li.xy", first["token"]).get_json()["error"] == "invalid_credentials"
    # an expired token cannot be renewed
    account = provisioned.directory.require_account("chen.zq")
    old = provisioned.authenticator.issue_token(account, "phone-0001", now=time.time() - 40 * 86400)
    assert renew(client, "chen.zq", old).get_json()["error"] == "token_expired"
    # a token without a registered device of this account cannot be renewed
    deviceless = provisioned.authenticator.issue_token(account, None)
    assert renew(client, "chen.zq", deviceless).get_json()["error"] == "token_revoked"
    # a disabled account's token cannot be renewed (nor used)
    provisioned.directory.set_disabled("chen.zq", True)
    assert renew(client, "chen.zq", body["token"]).status_code == 401


def test_a_revoked_device_comes_back_only_with_the_password(provisioned, client):
    token = login(client).get_json()["token"]
    revoked = client.delete("/api/v1/devices/phone-0001/token", headers=basic("huang.jh", PASSWORD))
    assert revoked.status_code == 200
    assert sync_status(client, "chen.zq", token) == 401
    assert renew(client, "chen.zq", token).get_json()["error"] == "token_revoked"
    assert login(client, password=token).status_code == 401  # a token never re-admits
    assert sync_status(client, "chen.zq", token) == 401
    fresh = login(client)  # the account's password does
    assert fresh.status_code == 200
    assert sync_status(client, "chen.zq", fresh.get_json()["token"]) == 200
    assert sync_status(client, "chen.zq", token) == 401  # a copy of the old token stays dead


# --- finding 4: a device id belongs to the account that registered it --------------------------

def test_another_accounts_device_id_is_refused_and_the_victims_record_stays(provisioned, client):
    victim = login(client, "chen.zq", device_id="phone-0001").get_json()["token"]
    taken = login(client, "li.xy", device_id="phone-0001")
    assert taken.status_code == 409 and taken.get_json()["error"] == "device_id_taken"
    assert set(taken.get_json()["messages"]) == {"zh", "en"}
    # nor through the sync gateway's device header
    attacker = login(client, "li.xy", device_id="phone-li-01").get_json()["token"]
    client.get("/sync/441226101202/_changes", headers={**basic("li.xy", PASSWORD),
                                                       "X-Device-Id": "phone-0001"})
    record = provisioned.devices.db.get("device:phone-0001")
    assert record["username"] == "chen.zq" and record["village_code"] == VILLAGE
    town = basic("huang.jh", PASSWORD)
    listed = client.get("/api/v1/devices", headers=town).get_json()["devices"]
    assert {d["device_id"]: d["username"] for d in listed}["phone-0001"] == "chen.zq"
    revoked = client.delete("/api/v1/devices/phone-0001/token", headers=town)
    assert revoked.status_code == 200 and revoked.get_json()["username"] == "chen.zq"
    assert sync_status(client, "chen.zq", victim) == 401
    assert sync_status(client, "li.xy", attacker, "441226101202") == 200


# --- finding 5: lockout ----------------------------------------------------------------------

def test_sixty_parallel_wrong_passwords_get_at_most_five_checks(provisioned, live_server, checks):
    def attempt(n: int) -> int:
        return requests.post(f"{live_server}/api/v1/login", timeout=60, json={
            "username": "chen.zq", "password": f"guess-{n}", "device_id": "phone-0001"}).status_code
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(attempt, range(60)))
    assert checks["n"] <= ALLOWED_CHECKS, statuses
    assert statuses.count(401) + statuses.count(429) == 60
    assert statuses.count(401) <= ALLOWED_CHECKS and statuses.count(429) >= 55


def test_parallel_requests_with_the_right_password_never_lock_the_account(provisioned, live_server):
    """A device syncing with its password sends requests in parallel: some may be asked to
    retry in a second while others are checked, none locks the account."""
    def sync(_n: int) -> int:
        return requests.get(f"{live_server}/sync/{VILLAGE}/", auth=("chen.zq", PASSWORD),
                            timeout=60).status_code
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(sync, range(60)))
    assert set(statuses) <= {200, 429} and statuses.count(200) >= 5, statuses
    later = requests.get(f"{live_server}/sync/{VILLAGE}/", auth=("chen.zq", PASSWORD), timeout=60)
    assert later.status_code == 200, later.text  # no lock was left behind
    wrong = requests.get(f"{live_server}/sync/{VILLAGE}/", auth=("chen.zq", "nope-nope-1"),
                         timeout=60)
    assert wrong.status_code == 401  # and a wrong password is still only a wrong password


def test_a_stranger_cannot_lock_the_account_out_from_elsewhere(provisioned, client):
    stranger = [login(client, password=f"guess-{n}", source=STRANGER).status_code for n in range(8)]
    assert stranger[:4] == [401] * 4 and set(stranger[4:]) == {429}
    locked = login(client, source=STRANGER)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert locked.get_json()["error"] == "account_locked"
    assert login(client, source=HOME).status_code == 200  # the cadre at home is not locked out
    assert client.get("/api/v1/devices", headers=basic("chen.zq", PASSWORD),
                      environ_base={"REMOTE_ADDR": HOME}).status_code == 200


def test_two_web_processes_share_the_lockout(provisioned, checks):
    """Two apps over one CouchDB (as two web processes): 60 parallel guesses, split between them."""
    from server.app import create_app
    from server.bootstrap import build_services
    other = build_services(provisioned.settings)
    apps = [create_app(services=provisioned), create_app(services=other)]
    try:
        def attempt(n: int) -> int:
            return login(apps[n % 2].test_client(), password=f"guess-{n}").status_code
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(attempt, range(60)))
        assert checks["n"] <= ALLOWED_CHECKS, statuses
        assert {login(app.test_client()).status_code for app in apps} == {429}
    finally:
        other.authenticator.accounts.stop()


def _comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("date", "content-length")}
    return response.status_code, response.get_json(), headers


def test_unknown_known_and_disabled_users_get_the_same_answer(provisioned, client):
    provisioned.directory.set_disabled("li.xy", True)
    answers = [login(client, user, "wrong-password", source=f"192.0.2.{n}")
               for n, user in enumerate(("chen.zq", "nobody.here", "li.xy"))]
    assert len({repr(_comparable(a)) for a in answers}) == 1
    assert answers[0].get_json()["error"] == "invalid_credentials"
    # a forged token on any endpoint: the same answer for a known and an unknown username
    forged = [client.get("/api/v1/devices", headers=basic(user, "fst1.e30.AAAA"))
              for user in ("chen.zq", "nobody.here")]
    assert {f.get_json()["error"] for f in forged} == {"invalid_credentials"}
    # and once locked, an unknown username is locked the same way
    locked = []
    for user in ("chen.zq", "nobody.here"):
        for n in range(ALLOWED_CHECKS):
            last = login(client, user, f"guess-{n}", source=STRANGER)
        locked.append(_comparable(last))
    assert locked[0][0] == 429 and repr(locked[0]) == repr(locked[1])


def test_unknown_users_take_about_as_long_as_wrong_passwords(provisioned, client):
    def timed(user: str, n: int) -> float:
        started = time.perf_counter()
        answer = login(client, user, "wrong-password", source=f"192.0.2.{n}")
        assert answer.status_code == 401
        return time.perf_counter() - started
    known, unknown = [], []
    for n in range(9):  # interleaved, each from its own address so no lock is reached
        known.append(timed("chen.zq", 2 * n))
        unknown.append(timed("nobody.here", 2 * n + 1))
    ratio = statistics.median(unknown) / statistics.median(known)
    print(f"unknown / known-wrong median login time: {ratio:.2f}")
    assert 0.5 <= ratio <= 2.0, (ratio, known, unknown)


# --- finding 6: streams of a disabled account or a revoked token end ------------------------------

def _read_stream_until_closed(response, deadline_s: float) -> tuple[bool, str]:
    """Read an SSE response (heartbeat=1: a chunk every second at least) until the server ends
    it or the deadline passes."""
    seen: list[str] = []
    deadline = time.monotonic() + deadline_s
    chunks = iter(response.response)
    while time.monotonic() < deadline:
        chunk = next(chunks, None)
        if chunk is None:
            return True, "".join(seen)
        seen.append(chunk.decode())
    return False, "".join(seen)


def test_an_officials_stream_ends_after_user_disable(alerting, client, cli_env):
    from support.alerting import VILLAGE as ALERT_VILLAGE
    from support.alerting import mediation_request
    response = client.get("/api/v1/alerts/stream?heartbeat=1", headers=basic("huang.jh",
                                                                             "official-pass-1"),
                          buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    assert next(chunks).startswith(b": connected")
    exe = str(Path(sys.executable).parent / "fieldsync")
    done = subprocess.run([exe, "user", "disable", "huang.jh"], env=cli_env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    started = time.monotonic()
    applicant = {"name": "罗秀梅", "phone": "13926650001"}
    alerting.alerts.raiser.raise_alert(ALERT_VILLAGE, mediation_request(applicant=applicant),
                                       "1-x", "2026-01-01T00:00:00Z", "gateway")
    ended, rest = _read_stream_until_closed(response, deadline_s=8.0)
    response.close()
    assert ended, rest
    assert time.monotonic() - started < 8.0
    assert "罗秀梅" not in rest and "13926650001" not in rest
    assert "account_disabled" in rest  # the last event says why


def test_a_stream_on_a_revoked_token_ends(alerting, client):
    token = login(client, "huang.jh", "official-pass-1", device_id="web-0001").get_json()["token"]
    response = client.get("/api/v1/alerts/stream?heartbeat=1", headers=basic("huang.jh", token),
                          buffered=False)
    assert next(iter(response.response)).startswith(b": connected")
    assert client.delete("/api/v1/devices/web-0001/token",
                         headers=basic("huang.jh", "official-pass-1")).status_code == 200
    ended, rest = _read_stream_until_closed(response, deadline_s=8.0)
    response.close()
    assert ended and "token_revoked" in rest


def test_the_lock_doubles_with_each_failure_a_success_clears_it_and_the_account_has_a_ceiling(
        services):
    from sync.directory import lockout
    clock = {"now": 1_000_000.0}
    throttle = lockout.LoginThrottle(services.state_db, clock=lambda: clock["now"])

    def fail(source: str = STRANGER) -> float:
        throttle.check("chen.zq", source)
        return throttle.failed(throttle.reserve("chen.zq", source))
    assert [fail() for _ in range(4)] == [0, 0, 0, 0]
    assert fail() == lockout.FIRST_LOCK_S
    with pytest.raises(lockout.Locked) as locked:
        fail()
    assert locked.value.retry_after == lockout.FIRST_LOCK_S
    clock["now"] += lockout.FIRST_LOCK_S + 1
    assert fail() == 2 * lockout.FIRST_LOCK_S  # the next failure after a lock doubles it
    clock["now"] += lockout.MAX_LOCK_S
    throttle.succeeded(throttle.reserve("chen.zq", STRANGER))  # the right password clears it
    assert [fail() for _ in range(4)] == [0, 0, 0, 0]
    clock["now"] += lockout.SOURCE_MEMORY_S + 1  # and a day later it is forgotten
    assert fail() == 0
    # many sources together reach the account's ceiling: then every source waits
    sources = [f"192.0.2.{n}" for n in range(lockout.ACCOUNT_CEILING)]
    starts = [fail(source) for source in sources[:lockout.ACCOUNT_CEILING - 2]]
    assert set(starts) == {0}  # with the one just above, 99 failures in this hour
    assert fail(sources[-1]) == lockout.ACCOUNT_LOCK_S
    with pytest.raises(lockout.Locked):
        throttle.check("chen.zq", "198.18.0.1")
    clock["now"] += lockout.ACCOUNT_LOCK_S + 1
    throttle.check("chen.zq", "198.18.0.1")
    assert throttle.purge(now=clock["now"] + 2 * lockout.SOURCE_MEMORY_S) >= 2


def test_behind_a_proxy_the_source_is_the_forwarded_client_and_never_a_header_otherwise(
        provisioned):
    from dataclasses import replace

    from server.app import create_app

    def attempts(app, forwarded_for: str, password: str = "wrong", count: int = 1) -> list[int]:
        client = app.test_client()
        return [client.post("/api/v1/login", headers={"X-Forwarded-For": forwarded_for}, json={
            "username": "chen.zq", "password": password, "device_id": "phone-0001"}).status_code
            for _ in range(count)]
    direct = create_app(services=provisioned)  # no proxy: the header is anyone's to write
    assert attempts(direct, "192.0.2.1", count=5)[-1] == 429
    assert attempts(direct, "192.0.2.2", password=PASSWORD) == [429]  # still the same peer
    provisioned.state_db.bulk_docs([{**d, "_deleted": True} for d in
                                    provisioned.state_db.docs_with_prefix("lockout:")])
    provisioned.settings = replace(provisioned.settings, proxy_hops=1)
    proxied = create_app(services=provisioned)
    assert attempts(proxied, "192.0.2.1", count=5)[-1] == 429
    assert attempts(proxied, "192.0.2.2", password=PASSWORD) == [200]
