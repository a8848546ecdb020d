"""The villagers' page (/apply) in headless Chromium at phone size against the real server: a
villager picks town and village, files, gets a receipt, follows it, and sees each step the town
takes; a wrong phone is told the request is not found, in Chinese."""
from __future__ import annotations

from pathlib import Path

import pytest

from support.alerting import TOWN, VILLAGE
from support.page_runner import run_page_script

BUILT = Path(__file__).resolve().parents[2] / "mobile_api" / "static" / "app" / "apply.html"


@pytest.mark.e2e
def test_a_villager_files_and_follows_a_request(inbox_only, live_server):
    assert BUILT.exists(), "the front end is built by `make install` (npm run build --prefix frontend)"
    provisioned = inbox_only
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "apply"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {"base": live_server, "shots": str(shots), "town": TOWN, "village": VILLAGE,
            "official": {"username": "huang.jh", "password": "official-pass-1"},
            "wrong_phone": "13800138000", "mediator": {"name": "梁调解", "phone": "13700137000"},
            "request": {"name": "何永明", "phone": "139 2661 1234", "category": "land_forest",
                        "description": "两户林地边界有争议，对方砍伐桉树。", "amount_yuan": "12000",
                        "other_party": "何志强"}}
    result = run_page_script("apply_page.js", spec, timeout=180)

    assert result["title"] == "矛盾纠纷调解申请"
    assert result["labels"][:2] == ["所在镇（街道）*", "所在村（社区）*"]
    assert result["empty_problem"] == "还有内容需要填写或更正，请查看红色提示"
    assert "请填写所在村（社区）" in result["empty_errors"]  # the one town is preselected
    # an empty phone is asked for, not called badly formatted (it said 手机号应为11位数字… before)
    assert "请填写您的手机号" in result["empty_errors"]
    assert "手机号应为11位数字，以1开头" not in result["empty_errors"]
    assert result["villages"] == ["新圩村", "古蓬村"]
    receipt = result["filed"]["receipt"]
    assert result["receipt_shown"] == result["prefilled"] == receipt
    stored = provisioned.couch.database(provisioned.names.village(VILLAGE)).get(result["filed"]["id"])
    assert stored["applicant"]["phone"] == "13926611234" and stored["amount_in_dispute_fen"] == 1200000
    assert stored["other_parties"][0]["name"] == "何志强" and stored["urgency"] == "urgent"
    assert result["wrong_phone"] == "没有找到这条申请：请核对受理编号和申请时填写的手机号"
    assert [result[f"status_{s}"] for s in ("received", "acknowledged", "assigned", "resolved")] == [
        "已受理", "已签收", "已分派", "已办结"]
    assert result["mediator"] == "梁调解" and "梁调解" in result["help_assigned"]
    assert "调解成功" in result["outcome"]
    assert result["recent"] == [receipt]
