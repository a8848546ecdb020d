"""`fieldsync roster show|set|load`: the same rosters as the API, in the chosen language."""
from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TOWN, COUNTY = "441226101000", "441226000000"


def test_show_set_and_load_rosters(provisioned, runner):
    shown = runner.invoke("roster", "show", lang="zh")
    assert shown.exit_code == 0, shown.output
    assert "新圩镇（441226101000）值班：无" in shown.output
    assert "! 新圩镇无人值班" in shown.output

    loaded = runner.invoke("roster", "load", str(EXAMPLES / "rosters.csv"), lang="zh")
    assert loaded.exit_code == 0, loaded.output
    assert "已保存新圩镇的值班表" in loaded.output
    town = provisioned.alerts.router.roster(TOWN)
    assert town["on_duty"] == ["huang.jh"]
    assert town["mediators"][0] == {"name": "梁调解", "phone": "13800000001"}

    changed = runner.invoke("roster", "set", TOWN, "--on-duty", "huang.jh", lang="en")
    assert changed.exit_code == 0 and "Saved the roster of 新圩镇" in changed.output
    assert len(provisioned.alerts.router.roster(TOWN)["mediators"]) == 2  # the list stays
    shown = runner.invoke("roster", "show", TOWN, lang="en")
    assert "新圩镇 (441226101000) on duty: 黄建华(huang.jh)" in shown.output
    assert "Nobody" not in shown.output

    outsider = runner.invoke("roster", "set", TOWN, "--on-duty", "chen.zq", lang="zh")
    assert outsider.exit_code != 0 and "不是 441226101000 的干部" in outsider.output
    assert provisioned.alerts.router.roster(TOWN)["on_duty"] == ["huang.jh"]
    bad = runner.invoke("roster", "set", TOWN, "--on-duty", "huang.jh",
                        "--mediator", "无号码", lang="zh")
    assert bad.exit_code != 0 and "第 2 行不合法" in bad.output
