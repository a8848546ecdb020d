"""The phone list (attack pass): a town official sees the phones of the town's villages only.

`GET /api/v1/field-devices` (mobile_api/field_devices_api.py), with a town official's password,
asking for another town's phones every way a query can be bent: the village code repeated (the
own one first or last), percent-encoded, in full-width digits, with a trailing newline or NUL,
a town or county code for the village; paging out of range (negative, zero, huge, thousands of
digits, `limit`/`offset` that the endpoint does not know). Every answer is a documented one
(200 within the caller's villages, 403 `forbidden`, 400 `bad_request` with zh/en text), and no
answer ever names the other town's phone, cadre or village.
"""
from __future__ import annotations

import base64

import pytest

OWN_VILLAGE, OTHER_VILLAGE = "441226101201", "441226102201"
OTHER_TOWN = ("code,name,level,parent\n441226102000,官圩镇,town,441226000000\n"
              "441226102201,官圩村,village,441226102000\n",
              "username,display_name,role,jurisdiction,phone,password\n"
              "wu.gx,吴国祥,cadre,441226102201,13807580009,\n")
SECRET = ("dev-other-town", "吴国祥", "13807580009", "官圩村", OTHER_VILLAGE)


def basic(username: str, password: str = "device-pass-1") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


@pytest.fixture
def two_towns(provisioned, runner, tmp_path):
    places, people = tmp_path / "j.csv", tmp_path / "a.csv"
    places.write_text(OTHER_TOWN[0], encoding="utf-8")
    people.write_text(OTHER_TOWN[1], encoding="utf-8")
    assert runner.invoke("provision", str(places), str(people)).exit_code == 0
    provisioned.directory.reset_password("wu.gx", "device-pass-1")
    provisioned.devices.record("dev-own-town", "contact", "chen.zq", OWN_VILLAGE, "android", "1")
    provisioned.devices.record("dev-other-town", "contact", "wu.gx", OTHER_VILLAGE, "android", "1")
    return provisioned


QUERIES = [
    ("village=441226102201&village=441226101201", 403),
    ("village=441226101201&village=441226102201", 200),
    ("village=%34%34%31%32%32%36%31%30%32%32%30%31", 403),
    ("village=４４１２２６１０２２０１", 400),
    ("village=441226102201%0A", 400),
    ("village=441226102201%00", 400),
    ("village=+441226102201", 400),
    ("village=441226102000", 400),
    ("village=441226000000", 400),
    ("village[]=441226102201", 200),
    ("page=-1&per_page=-1", 200),
    ("page=0&per_page=0", 200),
    ("page=99999999999999999999&per_page=99999999999", 200),
    ("page=" + "9" * 5000, 400),
    ("per_page=1e9", 400),
    ("limit=-1&offset=99999999999", 200),
    ("holding=1&village=441226102201", 403),
]


def problem(answer, status: int) -> str | None:
    """What is wrong with one answer, or None."""
    body, text = answer.get_json() or {}, answer.get_data(as_text=True)
    if answer.status_code != status:
        return f"HTTP {answer.status_code}, expected {status}: {text[:200]}"
    if [s for s in SECRET if s in text]:
        return f"names the other town: {text[:200]}"
    if status == 200:
        if not (1 <= body["per_page"] <= 200 and body["page"] >= 1):
            return f"page {body['page']} per_page {body['per_page']}"
        if [d for d in body["devices"] if not d["village_code"].startswith("441226101")]:
            return "lists a phone outside the town"
    elif body.get("error") != {403: "forbidden", 400: "bad_request"}[status] \
            or not (body.get("messages") or {}).get("zh"):
        return f"not a documented error: {body}"
    return None


def test_another_towns_phones_stay_hidden_however_the_query_is_bent(two_towns, client):
    failures = []
    for query, status in QUERIES:
        wrong = problem(client.get(f"/api/v1/field-devices?{query}", headers=basic("huang.jh")), status)
        if wrong:
            failures.append(f"?{query[:60]}: {wrong}")
    assert not failures, "\n".join(failures)
    own = client.get("/api/v1/field-devices", headers=basic("huang.jh")).get_json()
    assert [d["device_id"] for d in own["devices"]] == ["dev-own-town"]


def test_the_phone_list_is_for_officials_only(two_towns, client):
    assert client.get("/api/v1/field-devices").status_code == 401
    for cadre in ("chen.zq", "wu.gx"):
        answer = client.get(f"/api/v1/field-devices?village={OWN_VILLAGE}", headers=basic(cadre))
        assert answer.status_code == 403 and answer.get_json()["error"] == "forbidden"
