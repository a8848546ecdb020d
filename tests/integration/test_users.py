"""`fieldsync user ...` for single accounts."""
from __future__ import annotations

from pathlib import Path

from models.accounts import verify_password

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _provisioned(runner):
    assert runner.invoke("provision", str(EXAMPLES / "jurisdictions.csv")).exit_code == 0


def test_add_disable_enable_reset(runner, services):
    _provisioned(runner)
    added = runner.invoke("user", "add", "he.wm", "--role", "cadre", "--jurisdiction",
                          "441226101201", "--name", "何伟明", "--phone", "13800138000")
    assert added.exit_code == 0, added.output
    assert "initial password: " in added.output
    initial = added.output.split("initial password: ")[1].strip()
    account = services.directory.account("he.wm")
    assert verify_password(initial, account["password_hash"])
    generation = account["token_generation"]

    assert runner.invoke("user", "disable", "he.wm").exit_code == 0
    disabled = services.directory.account("he.wm")
    assert disabled["disabled"] is True
    assert disabled["token_generation"] == generation + 1  # tokens revoked with the account

    assert runner.invoke("user", "enable", "he.wm").exit_code == 0
    assert services.directory.account("he.wm")["disabled"] is False

    reset = runner.invoke("user", "reset-password", "he.wm", "--password", "new-secret-9")
    assert reset.exit_code == 0
    account = services.directory.account("he.wm")
    assert verify_password("new-secret-9", account["password_hash"])
    assert not verify_password(initial, account["password_hash"])
    listing = runner.invoke("user", "list")
    assert "he.wm\tcadre\t441226101201\tactive\t何伟明" in listing.output


def test_user_errors_are_precise(runner, services):
    _provisioned(runner)
    wrong_level = runner.invoke("user", "add", "x.y.z", "--role", "town_official",
                                "--jurisdiction", "441226101201", "--name", "x")
    assert wrong_level.exit_code == 1
    assert "jurisdiction: Role 'town_official' must be assigned to a town-level" in wrong_level.output
    unknown = runner.invoke("user", "add", "x.y.z", "--role", "cadre",
                            "--jurisdiction", "441226101299", "--name", "x")
    assert "Unknown jurisdiction 441226101299" in unknown.output
    missing = runner.invoke("user", "disable", "nobody")
    assert missing.exit_code == 1 and "No account named nobody" in missing.output
    short = runner.invoke("user", "reset-password", "nobody", "--password", "short")
    assert "at least 8 characters" in short.output
    runner.invoke("user", "add", "dup.user", "--role", "cadre", "--jurisdiction",
                  "441226101201", "--name", "x")
    again = runner.invoke("user", "add", "dup.user", "--role", "cadre", "--jurisdiction",
                          "441226101201", "--name", "x")
    assert again.exit_code == 1
    assert "Username dup.user is already taken" in again.output


def test_sync_grants(runner, services, live_server):
    import requests
    _provisioned(runner)
    runner.invoke("user", "add", "town.one", "--role", "town_official", "--jurisdiction",
                  "441226101000", "--name", "镇干部", "--password", "town-pass-1")
    url = f"{live_server}/sync/441226101202/"
    assert requests.get(url, auth=("town.one", "town-pass-1")).status_code == 403
    granted = runner.invoke("user", "grant-sync", "town.one", "441226101202")
    assert granted.exit_code == 0 and "town.one may sync: 441226101202" in granted.output
    assert requests.get(url, auth=("town.one", "town-pass-1")).status_code == 200
    assert runner.invoke("user", "revoke-sync", "town.one", "441226101202").exit_code == 0
    assert requests.get(url, auth=("town.one", "town-pass-1")).status_code == 403
    wrong = runner.invoke("user", "grant-sync", "town.one", "441226101000")
    assert wrong.exit_code == 1 and "does not match level 'village'" in wrong.output


def test_the_command_line_speaks_the_chosen_language(runner, services):
    assert runner.invoke("provision", str(EXAMPLES / "jurisdictions.csv")).exit_code == 0
    added = runner.invoke("user", "add", "lan.zh", "--role", "cadre", "--jurisdiction",
                          "441226101201", "--name", "兰志华", lang="zh")
    assert added.exit_code == 0, added.output
    assert "已创建账号 lan.zh" in added.output and "村干部" in added.output
    assert "初始密码" in added.output and "created" not in added.output
    listed = runner.invoke("user", "list", lang="zh").output
    assert "lan.zh\t村干部\t441226101201\t启用" in listed
    again = runner.invoke("provision", str(EXAMPLES / "jurisdictions.csv"), lang="zh")
    assert "无需修改" in again.output
