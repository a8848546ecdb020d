"""`fieldsync provision`: idempotent, all or nothing, errors that name the line and the field."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from models.accounts import verify_password
from sync.couch.design import VILLAGE_DDOC

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _directory_ids(services) -> list[str]:
    return [row["id"] for row in services.directory.db.all_docs()["rows"]]


def test_example_files_provision_and_second_run_changes_nothing(runner, services, tmp_path):
    files = [str(EXAMPLES / "jurisdictions.csv"), str(EXAMPLES / "accounts.csv")]
    first = runner.invoke("provision", *files)
    assert first.exit_code == 0, first.output
    assert "wrote 10 document(s)" in first.output
    # accounts without a password got a generated one, printed once
    assert "chen.zq\t" in first.output and "admin.zq\t" in first.output
    before = services.directory.db.info()["update_seq"]
    second = runner.invoke("provision", *files)
    assert second.exit_code == 0
    assert "nothing to change: 10 rows already provisioned" in second.output
    assert services.directory.db.info()["update_seq"] == before
    admin = services.directory.account("admin.zq")
    assert admin["role"] == "central_admin"


def test_the_examples_leave_the_demo_accounts_alone(runner, services):
    from server.demo import DEMO_PASSWORD, load_demo
    load_demo(services)
    admin = services.directory.account("admin.zq")
    files = [str(EXAMPLES / "jurisdictions.csv"), str(EXAMPLES / "accounts.csv")]
    rehearsal = runner.invoke("provision", "--dry-run", *files)
    assert "admin.zq" not in rehearsal.output and "will be reset" not in rehearsal.output
    assert runner.invoke("provision", *files).exit_code == 0
    after = services.directory.account("admin.zq")
    assert verify_password(DEMO_PASSWORD, after["password_hash"])
    assert after["token_generation"] == admin["token_generation"]


def test_village_database_is_created_locked_and_validated(runner, services, couch_admin):
    assert runner.invoke("provision", str(EXAMPLES / "provisioning.json")).exit_code == 0
    village = couch_admin.database(services.names.village("441223102201"))
    assert village.exists()
    assert village.security()["members"]["roles"] == ["_admin"]
    assert "validate_doc_update" in village.get(VILLAGE_DDOC)
    # anonymous access is refused (401 on pouchdb-server, 401/403 on CouchDB)
    anonymous = requests.get(f"{couch_admin.url}/{village.name}/_all_docs", timeout=5)
    assert anonymous.status_code in (401, 403)
    # the validate_doc_update function keeps out documents that cannot be identified
    results = village.bulk_docs([{"_id": "x", "no_type": True},
                                 {"_id": "y", "type": "household", "schema_version": 1,
                                  "village_code": "441223102202"},
                                 {"_id": "z", "type": "household", "schema_version": 1,
                                  "village_code": "441223102201"}])
    errors = {r["id"]: r.get("error") for r in results}
    assert errors == {"x": "forbidden", "y": "forbidden", "z": None}


BAD_CASES = [
    ("wrong-structure.csv", "code,name,level,parent\n441200000000,肇庆市,city,\n"
     "441226100000,德庆县,county,441200000000\n", "line 3, field level"),
    ("unknown-parent.csv", "code,name,level,parent\n441226000000,德庆县,county,441200000000\n",
     "line 2, field parent: Unknown parent jurisdiction 441200000000"),
    ("bad-header.csv", "code;name;level\n441200000000;肇庆市;city\n", "line 1, field -: Bad CSV header"),
    ("short-row.csv", "code,name,level,parent\n441200000000,肇庆市\n", "line 2, field -"),
    ("bad.json", '{"jurisdictions": [\n  {"code": "441200000000", "name": "肇庆市", "level": "city"},\n'
     '  {"code": "4412", "name": "x", "level": "county", "parent": "441200000000"}\n]}',
     "line 3, field code: A division code must be 12 digits"),
    ("dup-user.json", json.dumps({"jurisdictions": [
        {"code": "441200000000", "name": "肇庆市", "level": "city"}], "accounts": [
        {"username": "a.b", "display_name": "x", "role": "central_admin",
         "jurisdiction": "441200000000"},
        {"username": "a.b", "display_name": "y", "role": "central_admin",
         "jurisdiction": "441200000000"}]}, indent=1), "field username: Username a.b appears twice"),
    ("role-level.json", json.dumps({"jurisdictions": [
        {"code": "441200000000", "name": "肇庆市", "level": "city"}], "accounts": [
        {"username": "cadre1", "display_name": "x", "role": "cadre",
         "jurisdiction": "441200000000"}]}, indent=1),
     "field jurisdiction: Role 'cadre' must be assigned to a village-level jurisdiction"),
    ("broken.json", '{"jurisdictions": [', "line 1, field -: Unrecognised file format"),
]


@pytest.mark.parametrize("name, content, expected", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_input_names_line_and_field_and_changes_nothing(runner, services, tmp_path, name,
                                                            content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    before = _directory_ids(services)
    result = runner.invoke("provision", str(path))
    assert result.exit_code == 1
    assert expected in result.output, result.output
    assert "nothing was changed" in result.output
    assert _directory_ids(services) == before


def test_a_bad_row_stops_the_good_rows_too(runner, services, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("code,name,level,parent\n441200000000,肇庆市,city,\n"
                    "441226000000,德庆县,county,441300000000\n", encoding="utf-8")
    result = runner.invoke("provision", str(path))
    assert result.exit_code == 1
    assert services.directory.jurisdictions() == {}


def test_errors_are_in_chinese_by_default(runner, services, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("code,name,level,parent\n4412,肇庆市,city,\n", encoding="utf-8")
    result = runner.invoke("provision", str(path), lang="zh")
    assert "第 2 行 字段 code：行政区划代码必须是12位数字" in result.output


def test_gb18030_csv_from_excel(runner, services, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("code,name,level,parent\r\n441200000000,肇庆市,city,\r\n".encode("gb18030"))
    result = runner.invoke("provision", str(path))
    assert result.exit_code == 0, result.output
    assert services.directory.jurisdiction("441200000000").name == "肇庆市"


def test_large_file_reports_progress(runner, services, tmp_path):
    rows = ["code,name,level,parent", "441200000000,肇庆市,city,",
            "441226000000,德庆县,county,441200000000", "441226101000,新圩镇,town,441226000000"]
    rows += [f"441226101{n:03d},村{n},village,441226101000" for n in range(201, 241)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    result = runner.invoke("provision", str(path))
    assert result.exit_code == 0, result.output
    assert "/83 village databases" in result.output
    assert len(services.directory.villages()) == 40


def test_provision_from_a_shell(cli_env, services):
    """The installed console script, run as a person would."""
    exe = shutil.which("fieldsync", path=str(Path(sys.executable).parent))
    result = subprocess.run([exe, "--lang", "en", "provision", "--dry-run",
                             str(EXAMPLES / "provisioning.json")],
                            env=cli_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "4 jurisdiction(s) and 2 account(s) to write" in result.stdout
    assert "dry run: nothing written" in result.stdout
    assert services.directory.jurisdictions() == {}


def test_dry_run_lists_every_change_and_flags_password_resets(runner, services, tmp_path):
    files = [str(EXAMPLES / "jurisdictions.csv"), str(EXAMPLES / "accounts.csv")]
    first = runner.invoke("provision", "--dry-run", *files)
    assert first.exit_code == 0, first.output
    assert "new jurisdiction 441226101201" in first.output
    assert "new account chen.zq" in first.output and "dry run: nothing written" in first.output
    assert services.directory.account("chen.zq") is None  # nothing written
    assert runner.invoke("provision", *files).exit_code == 0
    changed = tmp_path / "changed.csv"
    changed.write_text("username,display_name,role,jurisdiction,phone,password\n"
                       "chen.zq,陈志强,cadre,441226101201,13807580009,another-pass-1\n",
                       encoding="utf-8")
    rehearsal = runner.invoke("provision", "--dry-run", str(changed))
    assert "account chen.zq changes: phone, password" in rehearsal.output
    assert "the password of chen.zq will be reset" in rehearsal.output
    assert services.directory.account("chen.zq")["phone"] == "13807580001"
    chinese = runner.invoke("provision", "--dry-run", str(changed), lang="zh")
    assert "修改账号 chen.zq：phone, password" in chinese.output
    assert "密码将被重置" in chinese.output
