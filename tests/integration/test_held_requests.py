"""Held requests on the production web server (gunicorn, gevent workers): hundreds of device
longpolls and officials' streams beside half-open connections, woken by one push; budgets per
process and per account; disabled accounts' held requests end; two web processes share lockout
and rate limits. Loopback only; every wait is bounded by a request timeout or a loop count."""
from __future__ import annotations

import base64
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support.alerting import VILLAGE, mediation_request
from support.signing import signed

CADRE = ("chen.zq", "device-pass-1")        # of VILLAGE
OTHER_CADRE = ("li.xy", "device-pass-1")    # of another village of the town
OFFICIAL = ("huang.jh", "official-pass-1")  # of the town
PHONES = {"chen.zq": "phone-0001", "li.xy": "phone-0002"}  # the devices the cadres sign in with
OTHER_VILLAGE = "441226101202"


def basic(user: tuple[str, str]) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(":".join(user).encode()).decode(),
            "Accept-Language": "en"}


def login(web, user: tuple[str, str], device_id: str) -> tuple[str, str]:
    """(username, device token): a device sends its token, not its password, on every request."""
    answer = requests.post(f"{web.url}/api/v1/login", timeout=30, json={
        "username": user[0], "password": user[1], "device_id": device_id})
    assert answer.status_code == 200, answer.text
    return user[0], answer.json()["token"]


def held_figures(web) -> dict:
    answer = requests.get(f"{web.url}/api/v1/monitoring", headers=basic(OFFICIAL), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["held_connections"]


def until_held(web, longpolls: int, streams: int = 0) -> dict:
    """Ask the server until it holds what we opened (bounded: at most 600 asks)."""
    pause = threading.Event()
    for _ in range(300):
        figures = held_figures(web)
        if figures["longpolls"]["held"] >= longpolls and figures["streams"]["held"] >= streams:
            return figures
        pause.wait(0.2)  # between two asks of the server's own count, not a guess at timing
    raise AssertionError(f"never held {longpolls} longpolls and {streams} streams: {figures}")


def longpoll(web, since: str, user: tuple[str, str], village: str = VILLAGE) -> requests.Response:
    return requests.get(f"{web.url}/sync/{village}/_changes", headers=basic(user), timeout=120,
                        params={"feed": "longpoll", "since": since, "heartbeat": "10000"})


def first_event(web, user: tuple[str, str]) -> dict:
    """Open a stream; return its first event (name and data line) other than comments."""
    with requests.get(f"{web.url}/api/v1/alerts/stream", headers=basic(user), stream=True,
                      timeout=120) as answer:
        if answer.status_code != 200:
            return {"status": answer.status_code, "error": answer.json()["error"]}
        event: dict = {"status": 200}
        for line in answer.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                event["event"] = line[7:]
            elif line.startswith("data: ") and "event" in event:
                event["data"] = line[6:]
                return event
    return event


def since_now(web, user: tuple[str, str], village: str = VILLAGE) -> str:
    return requests.get(f"{web.url}/sync/{village}/_changes", headers=basic(user),
                        timeout=30).json()["last_seq"]


def push(web, doc: dict, user: tuple[str, str], village: str = VILLAGE) -> None:
    doc = signed(doc, user[0], device_id=PHONES.get(user[0]))  # as the phone that signed in
    answer = requests.post(f"{web.url}/sync/{village}/_bulk_docs", json={"docs": [doc]},
                           headers=basic(user), timeout=60)
    assert answer.status_code == 201 and "error" not in answer.json()[0], answer.text


def half_open(web, count: int) -> list[socket.socket]:
    host, port = web.url.rsplit("/", 1)[-1].split(":")
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=30)
        sock.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
        sockets.append(sock)
    return sockets


def test_one_push_wakes_300_held_longpolls_and_60_streams_beside_300_half_open(inbox_only,
                                                                              start_web):
    web = start_web(max_held_per_account=300, max_streams_per_account=60, longpoll_cap_s=120.0,
                    header_timeout_s=120.0)
    cadre, official = login(web, CADRE, "phone-0001"), login(web, OFFICIAL, "browser-0001")
    sockets = half_open(web, 300)
    since = since_now(web, cadre)
    with ThreadPoolExecutor(max_workers=370) as pool:
        streams = [pool.submit(first_event, web, official) for _ in range(60)]
        polls = [pool.submit(longpoll, web, since, cadre) for _ in range(300)]
        figures = until_held(web, 300, 60)
        assert figures["watchers"]["villages_watched"] == 1
        assert figures["watchers"]["upstream_longpolls"] <= 1  # one upstream longpoll, not 300
        assert requests.get(f"{web.url}/healthz", timeout=10).json()["couchdb"]["ok"]
        doc = mediation_request(VILLAGE)
        push(web, doc, cadre)
        answers = [poll.result(timeout=120) for poll in polls]
        events = [stream.result(timeout=120) for stream in streams]
    assert {answer.status_code for answer in answers} == {200}
    assert all([row["id"] for row in answer.json()["results"]] == [doc["_id"]] for answer in answers)
    assert {event.get("event") for event in events} == {"alert"}
    assert all(doc["_id"] in event["data"] for event in events)
    for sock in sockets:
        sock.close()


def test_budgets_per_account_and_per_process_answer_503_with_retry_after(inbox_only, start_web):
    web = start_web(max_held_longpolls=3, max_held_per_account=2, max_alert_streams=2,
                    max_streams_per_account=1, longpoll_cap_s=120.0)
    cadre, official = login(web, CADRE, "phone-0001"), login(web, OFFICIAL, "browser-0001")
    other = login(web, OTHER_CADRE, "phone-0002")
    since, other_since = since_now(web, cadre), since_now(web, other, OTHER_VILLAGE)
    with ThreadPoolExecutor(max_workers=8) as pool:
        mine = [pool.submit(longpoll, web, since, cadre) for _ in range(2)]
        stream = pool.submit(first_event, web, official)
        until_held(web, 2, 1)
        runaway = longpoll(web, since, cadre)
        assert runaway.status_code == 503 and runaway.headers["Retry-After"] == "10"
        assert runaway.json()["error"] == "too_many_waiting_account"
        theirs = pool.submit(longpoll, web, other_since, other, OTHER_VILLAGE)
        until_held(web, 3, 1)
        full = longpoll(web, other_since, other, OTHER_VILLAGE)
        assert full.status_code == 503 and full.json()["error"] == "too_many_waiting"
        second_stream = first_event(web, official)
        assert second_stream == {"status": 503, "error": "too_many_streams_account"}
        refused = held_figures(web)
        assert refused["longpolls"]["refused"] == {"too_many_waiting_account": 1,
                                                   "too_many_waiting": 1}
        assert refused["streams"]["refused"] == {"too_many_streams_account": 1}
        push(web, mediation_request(VILLAGE), cadre)  # wakes my two and the stream
        push(web, mediation_request(OTHER_VILLAGE), other, OTHER_VILLAGE)
        assert [f.result(timeout=120).status_code for f in mine + [theirs]] == [200, 200, 200]
        assert stream.result(timeout=120)["event"] == "alert"


def test_a_disabled_accounts_held_longpolls_and_streams_end(inbox_only, start_web):
    web = start_web(longpoll_cap_s=120.0)
    cadre, official = login(web, CADRE, "phone-0001"), login(web, OFFICIAL, "browser-0001")
    since = since_now(web, cadre)
    with ThreadPoolExecutor(max_workers=8) as pool:
        polls = [pool.submit(longpoll, web, since, cadre) for _ in range(3)]
        stream = pool.submit(first_event, web, official)
        until_held(web, 3, 1)
        inbox_only.directory.update_account("chen.zq", disabled=True)
        inbox_only.directory.update_account("huang.jh", disabled=True)
        answers = [poll.result(timeout=120) for poll in polls]
        ended = stream.result(timeout=120)
    assert {answer.status_code for answer in answers} == {401}
    assert {answer.json()["error"] for answer in answers} == {"account_disabled"}
    assert ended["event"] == "ended" and "account_disabled" in ended["data"]


@pytest.fixture
def town_filing(inbox_only) -> dict:
    """A villager's filing for VILLAGE (the public API)."""
    return {"village_code": VILLAGE, "other_parties": [{"name": "李四", "phone": "13800138000"}],
            "category": "land_forest", "description": "林地边界争议", "urgency": "urgent"}


def test_two_web_processes_share_lockout_and_rate_limits(town_filing, start_web):
    first, second = start_web(), start_web()
    webs = [first, second]
    statuses = []
    for attempt in range(7):  # wrong passwords, alternating processes
        answer = requests.post(f"{webs[attempt % 2].url}/api/v1/login", timeout=30, json={
            "username": "chen.zq", "password": f"guess-{attempt}", "device_id": "phone-0001"})
        statuses.append(answer.status_code)
    assert statuses[:4] == [401] * 4 and set(statuses[4:]) == {429}, statuses
    filed = []
    for attempt in range(11):  # 10 filings an hour per address, whichever process answers
        answer = requests.post(f"{webs[attempt % 2].url}/api/v1/public/mediation-requests",
                               timeout=30, json={**town_filing, "applicant": {
                                   "name": "何永明", "phone": f"1392661{attempt:04d}"}})
        filed.append(answer.status_code)
    assert filed == [201] * 10 + [429], filed
