"""The officials' workbench (/officials) in headless Chromium at phone and laptop size against
the real server: the township official's call-back flow, lists, the county official's rosters,
review decisions and what is stored, reports in the Beijing night hours; no horizontal overflow
at 390 px on any page; screenshots kept in var/screenshots/workbench/."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from models.alerts import iso
from support.alerting import TOWN, VILLAGE, add_officials, bypass_write, mediation_request
from support.page_runner import run_page_script
from server.demo import demo_households
from support.workbench_data import HOUSEHOLD, OTHER_VILLAGE, TWIN, seed

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "mobile_api" / "static" / "app" / "officials.html"
SHOTS = ROOT / "var" / "screenshots" / "workbench"
PASSWORD = "official-pass-1"
NIGHT = datetime(2026, 3, 1, 18, 30, tzinfo=timezone.utc)  # 02:30 on 2 March, Beijing time


@pytest.fixture
def shots() -> str:
    assert BUILT.exists(), "the front end is built by `make install` (npm run build --prefix frontend)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    return str(SHOTS)


def no_overflow(result: dict) -> None:
    wide = {page: px for page, px in result["overflow"].items() if px > 0}
    assert not wide, f"wider than 390 px: {wide}"
    assert result["challenges"] == []  # no 401 asked the browser for credentials
    no_leaks(result)  # no raw catalogue key, placeholder or code on any page photographed


def no_leaks(result: dict) -> None:
    assert result["leaks"] == {}, result["leaks"]


def people_words(services) -> list[str]:
    """People's own data the pages show as it is (names of places, people, households)."""
    words = {place.name for place in services.directory.jurisdictions().values()}
    words |= {a.get("display_name") or "" for a in services.directory.account_docs().values()}
    for code in services.directory.villages():
        db = services.couch.database(services.names.village(code))
        for doc in db.docs_with_prefix("household:"):
            words |= {doc["head"]["name"], *(m.get("name") or "" for m in doc.get("members") or [])}
    return sorted(w for w in words if w)


def seed_alerts(services, count: int, minutes_ago: float) -> None:
    now = datetime.now(timezone.utc)
    for n in range(count):
        doc = mediation_request(applicant={"name": f"罗{'桂芳伟明海燕永红'[n % 8]}{n:02d}",
                                           "phone": f"1392661{n:04d}"})
        bypass_write(services, doc)
        services.alerts.raiser.raise_alert(VILLAGE, doc, "1-x",
                                           iso(now - timedelta(minutes=minutes_ago, seconds=n)),
                                           "gateway")


@pytest.mark.e2e
def test_a_township_official_calls_back_and_closes_the_case(provisioned, live_server, shots):
    add_officials(provisioned)
    provisioned.alerts.router.save_roster(TOWN, ["huang.jh"], "zhou.tl", "test", [
        {"name": "梁调解", "phone": "13800000001"}, {"name": "何调解", "phone": "13800000002"}])
    seed_alerts(provisioned, 40, minutes_ago=1)
    seed_alerts(provisioned, 3, minutes_ago=30)  # not acknowledged in time: overdue
    request = {"village_code": VILLAGE, "applicant": {"name": "何永明", "phone": "13926611234"},
               "other_parties": [{"name": "何志强", "relation": "邻居"}],
               "category": "land_forest", "description": "两户林地边界有争议，对方砍伐桉树。",
               "urgency": "urgent", "amount_in_dispute_fen": 1_200_000}
    result = run_page_script("workbench.js", {
        "flow": "alerts", "base": live_server, "shots": shots, "request": request,
        "official": {"username": "huang.jh", "password": PASSWORD}, "search": "何永明",
        "next_official": {"username": "zhou.tl", "password": PASSWORD}}, timeout=240)
    no_overflow(result)
    assert result["login_title"] == "领导端工作台"
    assert result["wrong_password_error"] == "用户名或密码错误"
    assert result["nav"] == ["预警", "复核", "农户", "设备"]  # a township official: no rosters, no reports
    assert result["second_tab_logged_in"] is True
    assert result["live_text"].endswith("实时")
    assert result["filed_status"] == 201 and result["appeared_after_ms"] < 5000
    assert result["call_href"] == "tel:13926611234" == result["detail_call"]
    assert "何志强" in result["card_text"] and "¥12,000.00" in result["card_text"]
    assert "! 紧急" in result["card_text"] and "新圩村" in result["card_text"]
    assert result["resolve_disabled_before_ack"] is True
    assert result["mediator_text"].startswith("梁调解") and "13800000001" in result["mediator_text"]
    assert result["outcome_text"] == "达成调解协议"
    for step in ("received", "alerted", "acknowledged", "mediator_assigned", "resolved"):
        assert step in result["timeline"], result["timeline"]
    stored = [a for a in provisioned.alerts.store.scan(["town", TOWN], "resolved")]
    assert len(stored) == 1 and stored[0]["applicant_name"] == "何永明"
    assert stored[0]["agreement"] == "双方同意以界桩为准，何家补种桉树十株。"
    assert stored[0]["mediator"]["phone"] == "13800000001"
    assert stored[0]["history"][0]["note"] == "已致电申请人，约定明天上午到村委会。"
    assert result["tab_titles"][:4] == ["待签收 43", "处理中 0", "超时 3", "已办结 1"]
    assert result["page_info"] == "第 1 / 3 页，共 43 条" and result["page_two"].startswith("第 2 / 3")
    assert result["page_two_cards"] == 20
    assert result["overdue_cards"] == 3 and result["overdue_marks"] == ["⚠ 超时"] * 3
    assert result["search_cards"] == 1 and "何永明" in result["mine_text"]
    assert result["ago_before"] != result["ago_after"] and "分钟前" in result["ago_after"]
    assert result["after_logout"] is None
    assert result["next_official_who"].endswith("zhou.tl")  # the next official on this browser


@pytest.mark.e2e
def test_a_county_official_puts_someone_on_duty(provisioned, live_server, shots):
    provisioned.directory.reset_password("liang.lj", PASSWORD)
    result = run_page_script("workbench.js", {
        "flow": "county", "base": live_server, "shots": shots, "town": TOWN,
        "official": {"username": "liang.lj", "password": PASSWORD}, "on_duty": "huang.jh",
        "mediator": {"name": "冯调解", "phone": "13800000003"}})
    no_overflow(result)
    assert result["nav"] == ["预警", "值班表", "复核", "农户", "设备", "报表"]
    assert "新圩镇" in result["duty_warning"] and "无人值班" in result["duty_warning"]
    assert "无人值班" in result["nobody_text"] and "黄建华" in result["nobody_text"]
    assert result["on_duty_text"].startswith("黄建华")
    assert result["mediators_text"] == "冯调解 13800000003" and result["nobody_after"] is False
    roster = provisioned.alerts.router.roster(TOWN)
    assert roster["on_duty"] == ["huang.jh"] and roster["updated_by"] == "liang.lj"
    assert roster["mediators"] == [{"name": "冯调解", "phone": "13800000003"}]


@pytest.mark.e2e
def test_review_decisions_in_yuan_merge_and_dismissal(provisioned, live_server, shots):
    seed(provisioned)
    provisioned.directory.reset_password("liang.lj", PASSWORD)
    official = {"username": "liang.lj", "password": PASSWORD}
    first = run_page_script("workbench.js", {
        "flow": "review", "base": live_server, "shots": shots, "official": official,
        "decide_yuan": "3520", "merge_keep_village": "新圩村"})
    no_overflow(first)
    assert first["field_label"] == "家庭人均年收入（元）" and first["heading"] == "梁国强 · 新圩村"
    assert sorted(first["candidates"]) == ["3,520.00 元", "4,000.00 元"]
    assert first["pick_error"] == "请选择一个值"
    assert first["decided_text"] == "已写入：3,520.00 元"
    village = provisioned.couch.database(provisioned.names.village(VILLAGE))
    kept = village.get(HOUSEHOLD)
    assert kept["income_per_capita_fen"] == 352_000 and "13900001111" in kept["phones"]
    other = provisioned.couch.database(provisioned.names.village(OTHER_VILLAGE))
    assert other.get_or_none(TWIN) is None
    provisioned.reconciliation.run()  # the worker takes in the merge: the namesake is left
    second = run_page_script("workbench.js", {
        "flow": "review", "base": live_server, "shots": shots, "official": official,
        "dismiss_reason": "同名同生日，身份证号不同，不是同一户"})
    no_overflow(second)
    assert second["reason_error"] == "请填写理由"
    assert any(text.startswith("已排除：同名同生日") for text in second["decided_texts"])
    assert any(text.startswith("已合并到") for text in second["decided_texts"])


@pytest.mark.e2e
def test_reports_in_the_beijing_night_hours(provisioned, live_server, shots, monkeypatch):
    import mobile_api.reports_api as reports_api
    original = reports_api.report_desk

    def at_night():
        desk = original()
        desk.clock = lambda: NIGHT
        return desk
    monkeypatch.setattr(reports_api, "report_desk", at_night)
    add_officials(provisioned)
    doc = mediation_request()
    provisioned.alerts.raiser.raise_alert(VILLAGE, doc, "1-x", "2026-03-01T17:05:00.000Z",
                                          "gateway")  # 01:05 on 2 March, Beijing time
    result = run_page_script("workbench.js", {
        "flow": "reports", "base": live_server, "shots": shots, "now": iso(NIGHT),
        "official": {"username": "liang.lj", "password": PASSWORD}})
    no_overflow(result)
    assert result["browser_now"].startswith("2026-03-01T18:30")
    assert result["mediation_sla_to"] == "2026-03-02"  # the Beijing day, not the UTC one
    assert "2026-03-02" in result["mediation_sla_days"]
    town = next(row for row in result["mediation_sla_rows"] if row[0] == "新圩镇")
    assert town[1] == "1"  # alerts: the night's alert is in today's report
    assert result["mediation_sla_header"][:3] == ["镇", "预警数", "5分钟内签收"]
    assert result["coverage_header"][:2] == ["名称", "核查覆盖率（%）"]
    assert result["coverage_second_column_visible"] is True
    phone, laptop = result["coverage_chart"], result["coverage_chart_laptop"]
    assert phone and laptop and phone["width"] <= 390 and laptop["width"] > 600
    assert laptop["height"] < 700  # sized by its rows, not stretched


@pytest.mark.e2e
def test_a_township_official_finds_households(provisioned, live_server, shots):
    households = demo_households(VILLAGE, 0)
    provisioned.couch.database(provisioned.names.village(VILLAGE)).bulk_docs(households)
    provisioned.reconciliation.run()
    provisioned.directory.reset_password("huang.jh", PASSWORD)
    wanted, numbered = households[1], households[2]
    status = households[0]["poverty_status"]
    result = run_page_script("workbench.js", {
        "flow": "households", "base": live_server, "shots": shots,
        "official": {"username": "huang.jh", "password": PASSWORD},
        "name_part": wanted["head"]["name"][:2], "id_number": numbered["head"]["id_number"],
        "status": status})
    no_overflow(result)
    assert result["title"] == "农户查询"
    assert result["all_total"] == f"共找到 {len(households)} 户" == f"共找到 {len(result['first_page'])} 户"
    assert wanted["_id"] in result["by_name"] and result["by_number"] == [numbered["_id"]]
    number = numbered["head"]["id_number"]
    assert number[:4] + "*" * 10 + number[-4:] in result["by_number_text"]
    expected = sum(1 for h in households if h["poverty_status"] == status)
    assert result["by_status_total"] == f"共找到 {expected} 户"
    assert len(set(result["by_status_labels"])) == 1 and "新圩村" in result["page_text"]
    assert not any(h["head"]["id_number"] in result["page_text"] for h in households)


@pytest.mark.e2e
def test_the_workbench_in_english_from_login_to_reports(provisioned, live_server, shots):
    add_officials(provisioned)
    seed(provisioned)  # a disagreement, duplicates: the review queue has work
    provisioned.alerts.router.save_roster(TOWN, ["huang.jh"], "zhou.tl", "test", [
        {"name": "梁调解", "phone": "13800000001"}])
    seed_alerts(provisioned, 3, minutes_ago=30)
    provisioned.devices.claim("dev-e0e0e001", "chen.zq", VILLAGE, "android-13", "1.4.0")
    provisioned.devices.record("dev-e0e0e001", "pull", "chen.zq", VILLAGE, None, "1.4.0",
                               {"pending": 2, "refused": 0, "local_seq": "9"})
    request = {"village_code": VILLAGE, "applicant": {"name": "何永明", "phone": "13926611234"},
               "other_parties": [{"name": "何志强", "relation": "邻居"}],
               "category": "land_forest", "description": "两户林地边界有争议，对方砍伐桉树。",
               "urgency": "urgent", "amount_in_dispute_fen": 1_200_000}
    data_words = people_words(provisioned) + [
        "何永明", "何志强", "邻居", "梁调解", request["description"], mediation_request()["description"],
        *(f"罗{'桂芳伟明海燕永红'[n % 8]}{n:02d}" for n in range(3))]
    notes = {"ack": "Called the applicant; meeting at the village office tomorrow.",
             "agreement": "Both agree the boundary stone stands; He plants ten trees.",
             "resolve": "Closed after the visit."}
    result = run_page_script("workbench.js", {
        "flow": "english", "base": live_server, "shots": shots, "request": request, "notes": notes,
        "official": {"username": "huang.jh", "password": PASSWORD},
        "county": {"username": "liang.lj", "password": PASSWORD},
        "data_words": data_words}, timeout=300)
    no_overflow(result)  # and no Chinese text left but people's own data
    assert result["login_title"] == "Officials' workbench" or result["login_title"].isascii()
    assert result["wrong_password_error"] == "Wrong username or password"
    assert result["wrong_password_error_zh"] == "用户名或密码错误"
    assert result["nav"] == ["Alerts", "Review", "Households", "Phones"]
    assert result["county_nav"] == ["Alerts", "Rosters", "Review", "Households", "Phones", "Reports"]
    assert result["filed_status"] == 201 and result["detail_call"] == "tel:13926611234"
    assert "Other parties: 何志强" in result["card_text"] and "¥12,000.00" in result["card_text"]
    assert result["confirm_buttons"] == ["Cancel", "Confirm"]
    assert result["outcome_text"] == "Agreement reached" or result["outcome_text"].isascii()
    assert notes["ack"] in result["timeline_text"] and notes["agreement"] in result["timeline_text"]
    assert result["resolution_note"] == notes["resolve"]  # the note of 办结 in the facts too
    assert result["report_header"] and all(h.isascii() for h in result["report_header"])
    assert result["html_lang"] == "en"
    stored = [a for a in provisioned.alerts.store.scan(["town", TOWN], "resolved")]
    assert len(stored) == 1 and stored[0]["agreement"] == notes["agreement"]


@pytest.mark.e2e
def test_a_township_official_sees_what_each_phone_still_holds(provisioned, live_server, shots):
    provisioned.directory.reset_password("huang.jh", PASSWORD)
    registry = provisioned.devices
    for n in range(22):  # 22 more cadres of 新圩村: three pages of phones with chen.zq and li.xy
        provisioned.directory.add_account({"username": f"cadre.{n:02d}", "display_name": f"村干部{n:02d}",
                                           "role": "cadre", "jurisdiction": VILLAGE}, "device-pass-1")
        registry.claim(f"dev-c0c0{n:04d}", f"cadre.{n:02d}", VILLAGE, "android-13", "1.4.0")
        registry.record(f"dev-c0c0{n:04d}", "pull", f"cadre.{n:02d}", VILLAGE, None, "1.4.0",
                        {"pending": 0, "refused": 0, "local_seq": "5"})
    registry.claim("dev-a1a1a1a1", "chen.zq", VILLAGE, "android-13", "1.4.0")
    registry.record("dev-a1a1a1a1", "pull", "chen.zq", VILLAGE, None, "1.4.0",
                    {"pending": 3, "refused": 1, "local_seq": "41"})
    registry.claim("dev-b2b2b2b2", "li.xy", OTHER_VILLAGE, "ios", "1.3.0")  # never reported
    registry.claim("dev-d3d3d3d3", "wu.other", "441226102201", "ios", "1.4.0")  # no such cadre here
    result = run_page_script("workbench.js", {
        "flow": "devices", "base": live_server, "shots": shots,
        "official": {"username": "huang.jh", "password": PASSWORD},
        "village": OTHER_VILLAGE, "village_count": 1})
    no_overflow(result)
    assert result["nav"] == ["预警", "复核", "农户", "设备"]
    assert result["summary"] == "共 24 台设备，其中 1 台有未上传记录"
    first = result["first_page"][0]
    assert first["id"] == "dev-a1a1a1a1" and first["title"] == "陈志强 · 新圩村"
    assert first["state"] == "⚠ 还有 3 条未上传" and "1 条被退回待更正" in first["text"]
    assert first["since"].startswith("自") and first["since"].endswith("起有未上传记录")
    assert first["ago"] == "刚刚" and result["ago_after"] == "20分钟前"  # the minutes tick
    assert "应用版本：1.4.0" in first["text"] and "新圩镇" in first["text"]
    assert [c["state"] for c in result["first_page"][1:]] == ["✓ 全部已上传"] * 19
    assert result["page_info"] == "第 1 / 2 页，共 24 条" and len(result["second_page"]) == 4
    assert [c["id"] for c in result["village_page"]] == ["dev-b2b2b2b2"]
    assert result["village_page"][0]["state"] == "未报告上传情况（应用版本较旧）"
    assert [c["id"] for c in result["holding_page"]] == ["dev-a1a1a1a1"]
    assert "dev-d3d3d3d3" not in {c["id"] for c in result["first_page"] + result["second_page"]}
