"""The isolation matrix (issue 11): role × endpoint × own / other jurisdiction → expected status.

Against the real web server. "Own" is a village and town inside the caller's jurisdiction (for a
cadre: their village and its town), "other" one outside it (for the central office, which sees
the whole city, another county: still its own). Rules: sync/directory/access.py (a cadre syncs
their own village; officials only villages granted to them), the API modules' role checks, and
DESIGN.md ("per-village databases make the replication boundary the security boundary").
Anonymous callers, disabled accounts and revoked device tokens get 401 everywhere.
"""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from models.examples import example

OWN_VILLAGE, OWN_TOWN = "441226101201", "441226101000"
EXTRA_JURISDICTIONS = """code,name,level,parent
441226102000,官圩镇,town,441226000000
441226102201,官圩村,village,441226102000
441224000000,怀集县,county,441200000000
441224101000,怀城镇,town,441224000000
441224101201,怀城村,village,441224101000
"""
EXTRA_ACCOUNTS = """username,display_name,role,jurisdiction,phone,password
wu.gx,吴国祥,cadre,441226102201,,
he.hj,何惠君,cadre,441224101201,,
zhao.dis,赵停用,cadre,441226101201,,
"""
PASSWORD = "matrix-pass-1"
# role -> (username, the other village, the other town, whose device lives in the other village)
ROLES = {
    "cadre": ("chen.zq", "441226101202", "441226102000", "li.xy"),
    "town_official": ("huang.jh", "441226102201", "441226102000", "wu.gx"),
    "county_official": ("liang.lj", "441224101201", "441224101000", "he.hj"),
    "central_admin": ("admin.zq", "441224101201", "441224101000", "he.hj"),
}
UNAUTHENTICATED = ("anonymous", "disabled_account", "revoked_token")
VISIT = "visit:fa1901d1-4642-4ee1-b070-08a6bfb5e577"
CHECKPOINT = "Tq9U8nd.XZY2WXjNyV1zMw=="
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c"
                    "49444154789c63f8ffff3f0005fe02fe0dc7e7a20000000049454e44ae426082")
C, T, K, A = "cadre", "town_official", "county_official", "central_admin"


def visit(village: str, username: str) -> dict:
    doc = example("verification_visit")
    doc.update(_id=f"visit:{uuid.uuid4()}", village_code=village, cadre=username)
    doc.pop("_attachments", None)
    doc["photos"] = []
    return doc


# endpoint: (method, path with {v} village / {t} town / {d} device, body, {role: (own, other)})
SYNC_READ = {C: ("ok", 403), T: (403, 403), K: (403, 403), A: (403, 403)}
ENDPOINTS = {
    "sync database info": ("GET", "/sync/{v}/", None, SYNC_READ, 200),
    "sync _changes": ("GET", "/sync/{v}/_changes?limit=1", None, SYNC_READ, 200),
    "sync _revs_diff": ("POST", "/sync/{v}/_revs_diff", {}, SYNC_READ, 200),
    "sync _bulk_get": ("POST", "/sync/{v}/_bulk_get", {"docs": [{"id": VISIT}]}, SYNC_READ, 200),
    "sync _all_docs": ("POST", "/sync/{v}/_all_docs", {"keys": []}, SYNC_READ, 200),
    "sync doc GET": ("GET", f"/sync/{{v}}/{VISIT}", None, SYNC_READ, 404),
    "sync attachment GET": ("GET", f"/sync/{{v}}/{VISIT}/photo-1.jpg", None, SYNC_READ, 404),
    "sync _local GET": ("GET", f"/sync/{{v}}/_local/{CHECKPOINT}", None, SYNC_READ, 404),
    "sync _local PUT": ("PUT", f"/sync/{{v}}/_local/{CHECKPOINT}", {"history": []}, SYNC_READ, 201),
    "sync _bulk_docs": ("POST", "/sync/{v}/_bulk_docs", {"docs": []}, SYNC_READ, 201),
    "sync doc PUT": ("PUT", "/sync/{v}/{id}", "visit", SYNC_READ, 201),
    "alerts of a town": ("GET", "/api/v1/alerts?town={t}", None,
                         {C: (403, 403), T: (200, 403), K: (200, 403), A: (200, 200)}, None),
    "duty roster GET": ("GET", "/api/v1/duty-rosters/{t}", None,
                        {C: (403, 403), T: (200, 403), K: (200, 403), A: (200, 200)}, None),
    "duty roster PUT": ("PUT", "/api/v1/duty-rosters/{t}", {"on_duty": ["nobody.here"], "leader": None},
                        {C: (403, 403), T: (403, 403), K: (422, 403), A: (422, 422)}, None),
    "served photo GET": ("GET", f"/api/v1/photos/{{v}}/{VISIT}/photo-1.jpg", None,
                         {C: (404, 403), T: (404, 403), K: (404, 403), A: (404, 404)}, None),
    "photo upload POST": ("POST", f"/api/v1/villages/{{v}}/docs/{VISIT}/photos", PNG,
                          {C: (404, 403), T: (403, 403), K: (403, 403), A: (403, 403)}, None),
    "device token DELETE": ("DELETE", "/api/v1/devices/{d}/token", None,
                            {C: (200, 403), T: (200, 403), K: (200, 403), A: (200, 200)}, None),
    "bootstrap": ("GET", "/api/v1/bootstrap", None, {r: (200, 200) for r in ROLES}, None),
    "cadre feedback": ("GET", "/api/v1/feedback", None,
                       {C: (200, 200), T: (403, 403), K: (403, 403), A: (403, 403)}, None),
    "household search": ("GET", "/api/v1/households?q=x", None,
                         {C: (403, 403), T: (200, 200), K: (200, 200), A: (200, 200)}, None),
    "review quarantine": ("GET", "/api/v1/review/quarantine", None,
                          {C: (403, 403), T: (200, 200), K: (200, 200), A: (200, 200)}, None),
    "review decision POST": ("POST", "/api/v1/review/tasks/review:none/decision", {"pick": "x"},
                             {C: (403, 403), T: (403, 403), K: (404, 404), A: (404, 404)}, None),
    "reports": ("GET", "/api/v1/reports/coverage", None,
                {C: (403, 403), T: (403, 403), K: (200, 200), A: (200, 200)}, None),
    "monitoring": ("GET", "/api/v1/monitoring", None,
                   {C: (403, 403), T: (200, 200), K: (200, 200), A: (200, 200)}, None),
}


@pytest.fixture
def world(provisioned, runner, tmp_path):
    """Two more towns (one in another county) with a cadre each, every account's password known,
    a disabled cadre, a revoked device token, and a device per role on each side."""
    jurisdictions, accounts = tmp_path / "more-jurisdictions.csv", tmp_path / "more-accounts.csv"
    jurisdictions.write_text(EXTRA_JURISDICTIONS, encoding="utf-8")
    accounts.write_text(EXTRA_ACCOUNTS, encoding="utf-8")
    assert runner.invoke("provision", str(jurisdictions), str(accounts)).exit_code == 0
    directory = provisioned.directory
    for username in ("chen.zq", "li.xy", "huang.jh", "liang.lj", "admin.zq", "wu.gx", "he.hj",
                     "zhao.dis"):
        directory.reset_password(username, PASSWORD)
    directory.set_disabled("zhao.dis", True)
    token = provisioned.authenticator.issue_token(directory.account("chen.zq"), "dev-stolen")
    directory.revoke_device("chen.zq", "dev-stolen")
    for role, (_, other_village, _, other_user) in ROLES.items():
        provisioned.devices.record(f"dev-{role}-own", "contact", "chen.zq", OWN_VILLAGE, "android", "1")
        provisioned.devices.record(f"dev-{role}-other", "contact", other_user, other_village,
                                   "android", "1")
    return {"anonymous": None, "disabled_account": ("zhao.dis", PASSWORD),
            "revoked_token": ("chen.zq", token),
            **{role: (username, PASSWORD) for role, (username, *_) in ROLES.items()}}


def call(base: str, endpoint: str, role: str, side: str, auth) -> int:
    method, path, body, _, _ = ENDPOINTS[endpoint]
    username, other_village, other_town, _ = ROLES.get(role, ROLES["cadre"])
    village, town = (OWN_VILLAGE, OWN_TOWN) if side == "own" else (other_village, other_town)
    if body == "visit":
        body = visit(village, username)
    url = base + path.format(v=village, t=town, d=f"dev-{role}-{side}",
                             id=body["_id"] if isinstance(body, dict) and "_id" in body else "")
    if isinstance(body, bytes):
        answer = requests.request(method, url, data=body, auth=auth, timeout=30,
                                  headers={"Content-Type": "image/png"})
    else:
        answer = requests.request(method, url, auth=auth, timeout=30,
                                  data=None if body is None else json.dumps(body),
                                  headers={"Content-Type": "application/json"})
    return answer.status_code


def test_isolation_matrix(world, live_server):
    wrong = []
    for endpoint, (_, _, _, expected, allowed) in ENDPOINTS.items():
        for role in [*ROLES, *UNAUTHENTICATED]:
            for n, side in enumerate(("own", "other")):
                want = expected[role][n] if role in ROLES else 401
                want = allowed if want == "ok" else want
                got = call(live_server, endpoint, role, side, world[role])
                if got != want:
                    wrong.append(f"{endpoint:22} {role:16} {side:5}: expected {want}, got {got}")
    assert wrong == [], "\n".join(wrong)
