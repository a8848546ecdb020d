"""Input patterns that accept more than they mean: `\\d` takes full-width (１２３), Arabic-Indic
(١٢٣) and every other Unicode digit, and `$` matches before a trailing "\\n". Each attack goes
through a real path (login, the CLI, a provisioning file, the villagers' form, a device push,
a roster edit) and must come back as the field's own format error, with nothing stored."""
from __future__ import annotations

import ast
import base64
import json
import re
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from models.examples import example
from models.messages import message

VILLAGE = "441226101201"
ROOT = Path(__file__).resolve().parents[2]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def disguised(value: str) -> dict[str, str]:
    """`value` (ASCII digits) with its last digits disguised, one way per attack."""
    head, tail = value[:-4], value[-4:]
    return {"full_width": head + tail.translate(FULL_WIDTH),
            "arabic_indic": head + tail.translate(ARABIC_INDIC),
            "trailing_newline": value + "\n",
            "zero_width": head + "\u200b" + tail,
            "nul": value + "\x00"}


PHONE, ID_NUMBER, TOWN_CODE = "13807580009", "441226195501200036", "441226101000"
PHONES, ID_NUMBERS = disguised(PHONE), disguised(ID_NUMBER)


def official(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept-Language": "en"}


# --- login: the device id becomes a document id in the device registry -------------------------
@pytest.mark.parametrize("attack", sorted(disguised("phone-0001")))
def test_a_disguised_device_id_is_refused_at_login(provisioned, client, attack):
    device_id = disguised("phone-0001")[attack]
    answer = client.post("/api/v1/login", json={
        "username": "chen.zq", "password": "device-pass-1", "device_id": device_id,
        "platform": "android-12", "app_version": "1.4.0"}, headers={"Accept-Language": "en"})
    assert answer.status_code == 422, (attack, answer.get_json())
    body = answer.get_json()
    assert body["error"] == "validation_failed" and body["messages"]["zh"] and body["messages"]["en"]
    assert [d["field"] for d in body["details"]] == ["device_id"]
    assert not [d for d in provisioned.directory.db.docs_with_prefix("device:")
                if d["_id"] != d["_id"].strip() or not d["_id"].isascii()]


# --- the CLI: accounts ---------------------------------------------------------------------------
def add_user(runner, username="wang.xm", jurisdiction=TOWN_CODE, phone=PHONE):
    return runner.invoke("user", "add", username, "--role", "town_official",
                         "--jurisdiction", jurisdiction, "--name", "王小明", "--phone", phone,
                         "--password", "a-long-password-1")


@pytest.mark.parametrize("attack", sorted(PHONES))
def test_the_cli_refuses_a_disguised_phone(provisioned, runner, attack):
    done = add_user(runner, phone=PHONES[attack])
    assert done.exit_code != 0, (attack, done.output)
    assert message("phone_format", "en") in done.output
    assert provisioned.directory.account("wang.xm") is None


@pytest.mark.parametrize("attack", ["trailing_newline", "nul", "zero_width", "full_width"])
def test_the_cli_refuses_a_disguised_username(provisioned, runner, attack):
    username = {"trailing_newline": "wang.xm\n", "nul": "wang.xm\x00", "zero_width": "wang\u200b.xm",
                "full_width": "wang.xm１"}[attack]
    done = add_user(runner, username=username)
    assert done.exit_code != 0, (attack, done.output)
    assert message("username_format", "en") in done.output
    assert not [d for d in provisioned.directory.db.docs_with_prefix("account:wang")]


@pytest.mark.parametrize("attack", sorted(disguised(TOWN_CODE)))
def test_the_cli_refuses_a_disguised_division_code(provisioned, runner, attack):
    done = add_user(runner, jurisdiction=disguised(TOWN_CODE)[attack])
    assert done.exit_code != 0, (attack, done.output)
    # the code's format is what is wrong, not its level or that no such place exists
    assert message("division_code_format", "en") in done.output, done.output
    assert provisioned.directory.account("wang.xm") is None


# --- a provisioning file -------------------------------------------------------------------------
@pytest.mark.parametrize("attack", ["full_width", "arabic_indic"])
def test_a_provisioning_file_with_a_disguised_village_code_is_refused_row_by_row(
        provisioned, runner, tmp_path, attack):
    code = disguised("441226101299")[attack]
    csv = tmp_path / "jurisdictions.csv"
    csv.write_text(f"code,name,level,parent\n{code},新村,village,{TOWN_CODE}\n", encoding="utf-8")
    done = runner.invoke("provision", str(csv))
    assert done.exit_code != 0, done.output
    assert "line 2" in done.output.lower() or ":2" in done.output, done.output
    assert provisioned.directory.jurisdiction(code) is None
    assert not [name for name in provisioned.couch.all_dbs() if name.startswith(provisioned.names.prefix)
                and not name.isascii()]


# --- the villagers' form: a disguised phone must not get round the per-phone limit --------------
FORM = {"village_code": VILLAGE, "applicant": {"name": "何永明", "phone": PHONE},
        "category": "land_forest", "description": "林地边界争议", "urgency": "normal"}


@pytest.mark.parametrize("attack", ["full_width", "arabic_indic", "zero_width", "nul"])
def test_the_villagers_form_refuses_a_disguised_phone(provisioned, client, attack):
    form = {**FORM, "applicant": {**FORM["applicant"], "phone": PHONES[attack]}}
    answer = client.post("/api/v1/public/mediation-requests", json=form,
                         headers={"Accept-Language": "en"})
    assert answer.status_code == 422, (attack, answer.get_json())
    details = answer.get_json()["details"]
    assert {(d["field"], d["code"]) for d in details} == {("applicant.phone", "phone_format")}


@pytest.mark.parametrize("attack", ["full_width", "arabic_indic", "trailing_newline", "zero_width"])
def test_the_villagers_form_refuses_a_disguised_identity_number(provisioned, client, attack):
    form = {**FORM, "applicant": {**FORM["applicant"], "id_number": ID_NUMBERS[attack]}}
    answer = client.post("/api/v1/public/mediation-requests", json=form,
                         headers={"Accept-Language": "en"})
    if attack == "trailing_newline":  # surrounding white space is trimmed, as for a pasted number
        assert answer.status_code == 201, answer.get_json()
        stored = provisioned.couch.database(provisioned.names.village(VILLAGE)).get(
            answer.get_json()["id"])
        assert stored["applicant"]["id_number"].strip() == ID_NUMBER  # stored as given
        return
    assert answer.status_code == 422, (attack, answer.get_json())
    details = answer.get_json()["details"]
    assert {(d["field"], d["code"]) for d in details} == {("applicant.id_number", "id_number_format")}


# --- a device push: the identity number is hashed for duplicates, so it must be the ASCII one ---
@pytest.mark.parametrize("attack", ["full_width", "arabic_indic", "zero_width"])
def test_a_household_with_a_disguised_identity_number_comes_back_as_feedback(
        provisioned, live_server, attack):
    doc = example("household")
    doc.update(_id=f"household:{uuid.uuid4()}", village_code=VILLAGE)
    doc["head"] = {**doc["head"], "id_number": disguised(doc["head"]["id_number"])[attack]}
    rev = f"1-{uuid.uuid4().hex}"
    body = {"docs": [{**doc, "_rev": rev, "_revisions": {"start": 1, "ids": [rev[2:]]}}],
            "new_edits": False}
    answer = requests.post(f"{live_server}/sync/{VILLAGE}/_bulk_docs", data=json.dumps(body),
                           auth=("chen.zq", "device-pass-1"),
                           headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 201, answer.text
    db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    refused = [r for r in answer.json() if r.get("error")]
    feedback = list(db.docs_with_prefix(f"feedback:{doc['_id']}:"))
    quarantined = [e for e in provisioned.quarantine.open_entries() if e["target"]["id"] == doc["_id"]]
    # refused outright or held in quarantine: either way the cadre is told which field is wrong
    assert refused or quarantined, (attack, answer.json())
    told = json.dumps([refused, [f.get("codes") for f in feedback], [e["codes"] for e in quarantined]])
    assert "id_number_format" in told, told


# --- a sync path: the village code in the URL ----------------------------------------------------
@pytest.mark.parametrize("attack", sorted(disguised(VILLAGE)))
def test_a_sync_path_with_a_disguised_village_code_is_refused(provisioned, client, attack):
    segment = quote(disguised(VILLAGE)[attack], safe="")
    answer = client.get(f"/sync/{segment}/", headers={**official("chen.zq", "device-pass-1")})
    assert answer.status_code == 400 and answer.get_json()["error"] == "bad_sync_path", attack


# --- a roster edit: the mediators' phones ---------------------------------------------------------
@pytest.mark.parametrize("attack", sorted(PHONES))
def test_a_roster_edit_refuses_a_disguised_mediator_phone(provisioned, client, attack):
    provisioned.directory.reset_password("liang.lj", "official-pass-1")
    answer = client.put(f"/api/v1/duty-rosters/{TOWN_CODE}", headers=official("liang.lj", "official-pass-1"),
                        json={"on_duty": ["huang.jh"], "leader": None,
                              "mediators": [{"name": "梁调解", "phone": PHONES[attack]}]})
    assert answer.status_code == 422, (attack, answer.get_json())
    assert {d["code"] for d in answer.get_json()["details"]} == {"phone_format"}


# --- the class: no pattern in the code accepts Unicode digits or a trailing newline -------------
PATTERN_CALLS = {"compile", "match", "fullmatch", "search", "Regexp"}


def patterns_in(path: Path):
    """(line, pattern) of every regex literal given to re.* or marshmallow's Regexp, and of
    every module constant named *_RE or *_PATTERN."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in PATTERN_CALLS and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if any(getattr(t, "id", "").endswith(("_RE", "_PATTERN")) for t in node.targets):
                yield node.lineno, node.value.value


def test_no_pattern_takes_unicode_digits_or_a_trailing_newline():
    sources = [path for folder in ("models", "sync", "mobile_api", "server")
               for path in (ROOT / folder).rglob("*.py")]
    loose = [f"{path.relative_to(ROOT)}:{line}: {pattern!r}" for path in sources
             for line, pattern in patterns_in(path)
             if re.search(r"(?<!\\)\\d", pattern) or re.search(r"(?<!\\)\$$", pattern)]
    assert not loose, "use [0-9] and \\Z (or fullmatch):\n" + "\n".join(loose)
