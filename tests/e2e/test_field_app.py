"""The cadres' field app (/app) in headless Chromium at phone size, against the real server with
a real service worker: log in online, replicate, go offline, reload, record a visit with a photo
and a mediation request, go online: both reach the village database and the request raises its
alert."""
from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image

from models.doc_ids import alert_id
from models.examples import example
from support.images import exif_with, jpeg
from support.page_runner import run_page_script

VILLAGE = "441226101201"
FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
BUILT = Path(__file__).resolve().parents[2] / "mobile_api" / "static" / "app" / "index.html"
APP_VERSION = json.loads((FRONTEND / "package.json").read_text())["version"]


def _household(n: int, name: str, status: str) -> dict:
    household = example("household")
    household["_id"] = f"household:0000000{n}-1400-486c-b883-91a29063a3fe"
    household.update(village_code=VILLAGE, poverty_status=status)
    household["head"] = {**household["head"], "name": name}
    household["members"][0]["name"] = name
    return household


def _eventually(probe, timeout_s: float = 10.0):
    """The first truthy answer of `probe` within `timeout_s` (the alert is raised at intake, on
    the gateway's side of the push, which may finish just after the device saw its answer)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.fixture
def village_roster(provisioned):
    """Three households in the cadre's village, as the central office wrote them."""
    db = provisioned.couch.database(provisioned.names.village(VILLAGE))
    for household in (_household(1, "梁国强", "monitored"), _household(2, "陈秀英", "lifted"),
                      _household(3, "何永明", "at_risk")):
        db.put(household)
    return db


@pytest.mark.e2e
def test_a_cadre_records_offline_and_everything_reaches_the_server(provisioned, village_roster,
                                                                  live_server, tmp_path):
    assert BUILT.exists(), "the front end is built by `make install` (npm run build --prefix frontend)"
    photo = tmp_path / "camera.jpg"  # a camera picture held sideways: EXIF orientation 6
    photo.write_bytes(jpeg(2400, 1800, exif_with(orientation=6)))
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "field-app"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {"base": live_server, "cadre": {"username": "chen.zq", "password": "device-pass-1"},
            "official": {"username": "huang.jh", "password": "device-pass-1"},
            "search": "梁国强", "photo": str(photo), "shots": str(shots),
            "visit": {"indicators": {"food_secured": "true", "clothing_secured": "true",
                                     "compulsory_education": "true", "basic_medical": "true",
                                     "safe_housing": "false", "safe_drinking_water": "true"},
                      "per_capita_yuan": "8650.5", "notes": "东墙有裂缝，已申请危房改造。"},
            "request": {"name": "何永明", "phone": "139 2661 1234", "other_party": "何志强",
                        "description": "两户林地边界有争议，对方砍伐桉树。", "amount_yuan": "12000"}}
    result = run_page_script("field_app.js", spec, timeout=240)

    assert result["login_title"] == "干部登录"
    assert result["wrong_password_error"] == "用户名或密码错误"
    assert result["households_online"] == 3 and result["search_hits"] == 1
    assert result["controlled_offline"] is True and result["households_offline"] == 3
    assert result["badge_offline"].startswith("无网络"), [s for s in result["steps"] if "console" not in s]
    assert result["pending_offline"] == result["pending_after_reload"] == "2 条待上传"
    assert result["pending_online"] == "全部已上传" and result["last_sync"] != "从未同步"

    visits = list(village_roster.docs_with_prefix("visit:"))
    assert len(visits) == 1
    visit = visits[0]
    assert visit["household_id"] == _household(1, "", "")["_id"] and visit["cadre"] == "chen.zq"
    assert visit["income"]["per_capita_fen"] == 865050 and visit["verdict"] == "follow_up"
    assert visit["indicators"]["safe_housing"] is False and visit["reasons"] == ["safe_housing"]
    assert visit["recorded_at"][-6] in "+-"  # a device time with its offset
    (name,) = visit["_attachments"]
    assert visit["photos"] == [{"attachment": name, "subject": "house", "caption": None}]
    stored = Image.open(io.BytesIO(village_roster.get_attachment(visit["_id"], name)))
    assert stored.size == (1200, 1600)  # turned upright, then shrunk to 1600 px
    assert not stored.getexif()  # re-encoded on the phone: no EXIF (no GPS, no camera) left

    request = village_roster.get(result["request_id"])
    assert request["applicant"] == {"name": "何永明", "phone": "13926611234", "id_number": None}
    assert request["amount_in_dispute_fen"] == 1200000 and request["urgency"] == "urgent"
    assert request["source"]["channel"] == "cadre_device" and request["source"]["cadre"] == "chen.zq"
    alert = _eventually(lambda: provisioned.alerts.store.get(alert_id(request["_id"])))
    assert alert is not None and alert["village_code"] == VILLAGE
    # and on the town official's page: the workbench lists it with the phone to call
    assert "何永明" in result["official_card"] and result["official_call"] == "tel:13926611234"
    assert "13926611234" in result["official_detail"] and "两户林地边界有争议" in result["official_detail"]
    assert not list(village_roster.docs_with_prefix("feedback:"))  # nothing was quarantined

    devices = [d for d in provisioned.devices.devices() if d.get("username") == "chen.zq"]
    assert [d["app_version"] for d in devices] == [APP_VERSION]
    assert devices[0]["device_id"] == visit["device_id"] == request["source"]["device_id"]


@pytest.mark.e2e
def test_what_the_phone_still_holds_reaches_the_officials_device_list(provisioned, village_roster,
                                                                      live_server):
    """The pending count the app reports in its sync headers (docs/device-contract.md §8)."""
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "field-app"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {"base": live_server, "shots": str(shots),
            "cadre": {"username": "chen.zq", "password": "device-pass-1"},
            "official": {"username": "huang.jh", "password": "device-pass-1"}}
    result = run_page_script("field_holding.js", spec, timeout=240)

    assert result["refused_pushes"] >= 1 and result["pending_shown"] == "1 条待上传"
    assert result["lost_answers"] >= 1  # the push landed; the app never saw its answer
    held = result["held"]
    assert held["pending_at_last_contact"] == 1 and held["refused_at_last_contact"] == 0
    assert held["holding_since"] and held["local_seq"]
    uploaded = result["uploaded"]
    assert uploaded["all_uploaded_at"] >= held["holding_since"] and uploaded["holding_since"] is None
    assert int(uploaded["local_seq"]) >= int(held["local_seq"])
    assert len(list(village_roster.docs_with_prefix("mediation:"))) == 1


@pytest.mark.e2e
def test_an_app_below_the_minimum_version_is_told_to_update(provisioned, village_roster,
                                                             live_server, tmp_path):
    """The server raises FIELDSYNC_MIN_APP_VERSION while the app syncs: the 426 of the sync
    requests (not only of the JSON API) shows the banner with the server's message."""
    import threading
    from dataclasses import replace
    flag = tmp_path / "raise-min-version"

    def raise_when_asked() -> None:
        for _ in range(1200):  # at most 120 s
            if flag.exists():
                provisioned.settings = replace(provisioned.settings, min_app_version="9.0.0")
                flag.unlink()
                return
            time.sleep(0.1)
    threading.Thread(target=raise_when_asked, daemon=True).start()
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "field-app"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {"base": live_server, "shots": str(shots), "flag": str(flag),
            "cadre": {"username": "chen.zq", "password": "device-pass-1"}}
    result = run_page_script("field_update.js", spec, timeout=180)
    assert result["banner_before"] == 0
    assert result["banner"] == f"应用版本 {APP_VERSION} 过旧，请升级到 9.0.0 或更高版本"
    assert result["button"] == "更新"
    assert result["phase"] == "应用版本过旧，更新后才能同步（本机数据不会丢失）"  # not "已同步"


@pytest.mark.e2e
def test_a_quarantined_and_a_refused_record_show_their_reasons(provisioned, village_roster,
                                                               live_server):
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "field-app"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {"base": live_server, "shots": str(shots), "bad_id_number": "441226197803121237",
            "other_village": "441226101202",
            "cadre": {"username": "chen.zq", "password": "device-pass-1"}}
    result = run_page_script("field_feedback.js", spec, timeout=240)

    stored = village_roster.get(result["quarantined_id"])  # stored unchanged, and quarantined
    assert stored["applicant"]["id_number"] == "441226197803121237"
    assert "身份证号码校验位错误" in result["feedback"] and "服务器反馈：需要更正" in result["feedback"]
    assert village_roster.get_or_none(result["refused_id"]) is None  # refused: only on the phone
    assert "未能上传：服务器拒收" in result["refused"] and "文档属于其他村" in result["refused"]
    assert "这条记录仍保存在本机，没有丢失" in result["refused"]
    # the request's status says what the server said, not 已受理 (detail and list)
    assert result["refused_status"].startswith("未通过：") and "文档属于其他村" in result["refused_status"]
    by_name = {row["title"].split(" · ")[0]: row for row in result["list_status"]}
    refused, quarantined = by_name["拒收测试"], by_name["何永明"]
    assert (refused["status"], refused["tag"]) == ("refused", "未通过")
    assert "文档属于其他村" in refused["text"]
    assert (quarantined["status"], quarantined["tag"]) == ("quarantined", "待更正")
    assert quarantined["text"].startswith("待更正：") and "身份证号码校验位错误" in quarantined["text"]


@pytest.mark.e2e
def test_two_phones_edit_one_household_offline_and_both_show_the_merge(provisioned, village_roster,
                                                                       live_server, tmp_path):
    """docs/reconciliation.md: the path both changed (notes) goes to the later stamp and opens a
    review task, the path one changed (address) is merged, the loser is archived; both phones
    end on the one merged revision. Phone A, whose notes lost, is told so with both values (B is
    not); when the county picks A's notes, A shows them and the notice as decided."""
    from support.page_control import serve_page_requests
    from sync.reconcile.pipeline import decide_household_task
    flag, household_id = tmp_path / "merge-now", _household(1, "", "")["_id"]
    resolutions: list = []

    def decide() -> None:
        [task] = [t for t in provisioned.reconciliation.review_db.docs_with_prefix(
            "review:household_disagreement:") if t["field"] == "notes"]
        pick = [c["value"] for c in task["candidates"]].index(spec["a"]["notes"])
        decide_household_task(provisioned.reconciliation, task["_id"], "admin.zq", pick=pick)
    ran = serve_page_requests(flag, {
        "merge": lambda: resolutions.extend(provisioned.reconciliation.resolver.sweep(VILLAGE)),
        "decide": decide}, timeout_s=400)
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "field-app"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {"base": live_server, "shots": str(shots), "flag": str(flag), "search": "梁国强",
            "cadre": {"username": "chen.zq", "password": "device-pass-1"},
            "a": {"notes": "东墙裂缝已修补（A机）"},
            "b": {"notes": "已申请危房改造（B机）", "address": "新圩村三组12号"}}
    result = run_page_script("field_two_devices.js", spec, timeout=400)

    assert len(set(result["device_ids"])) == 2 and result["merged_by_test"]
    assert [r.doc_id for r in resolutions] == [household_id]
    decided = village_roster.get(household_id, conflicts=True)  # merged (B's notes), then decided
    assert not decided.get("_conflicts") and decided["field_stamps"]["notes"].endswith("-central")
    assert decided["notes"] == spec["a"]["notes"] and decided["address"] == spec["b"]["address"]
    review = provisioned.reconciliation.review_db
    tasks = [t for t in review.docs_with_prefix("review:household_disagreement:") if t["field"] == "notes"]
    assert len(tasks) == 1 and {c["value"] for c in tasks[0]["candidates"]} == {
        spec["a"]["notes"], spec["b"]["notes"]}
    archived = list(review.docs_with_prefix(f"conflict:{household_id}:"))
    assert spec["a"]["notes"] in [a.get("losing_value") for a in archived]
    for phone in ("a_shows", "b_shows"):
        assert spec["b"]["notes"] in result[phone] and spec["b"]["address"] in result[phone]
    assert result["b_told"] == []  # B's value was kept: nothing to tell B
    [told] = result["a_told"]
    assert told.startswith("你填写的备注与另一台设备不一致，已提交县级审核"), told
    assert f"你填写：{spec['a']['notes']}" in told and f"另一台设备填写：{spec['b']['notes']}" in told
    assert ran == ["merge", "decide"] and result["decided_by_test"]
    assert spec["a"]["notes"] in result["a_after_decision"]
    assert result["a_told_after_decision"].startswith("备注已审核") and \
        f"审核结果：{spec['a']['notes']}" in result["a_told_after_decision"]
    assert result["a_told_in_english"].startswith("Notes: reviewed"), result["a_told_in_english"]
    assert f"Decision: {spec['a']['notes']}" in result["a_told_in_english"]


@pytest.mark.e2e
def test_the_sync_status_says_why_a_sync_does_not_go_through(provisioned, village_roster,
                                                             live_server, tmp_path):
    """No network, the server busy (503 over its budget, or a 500), the app too old (426), the
    login no longer valid (401): each in its own words on the badge and the sync screen, with
    the last successful sync time, and back to 已同步 when the server answers again."""
    from dataclasses import replace

    from support.page_control import serve_page_requests
    gateway, settings = provisioned.gateway, provisioned.settings
    per_account = gateway.held.per_account

    def fault(req):
        raise RuntimeError("a server fault (test)")

    def budget() -> None:
        gateway.held.per_account = 0  # every held longpoll of the account: 503 too_many_waiting_account

    def restore() -> None:
        gateway.held.per_account = per_account
        gateway.__dict__.pop("handle", None)
        provisioned.settings = settings

    def revoke() -> None:
        for device in provisioned.devices.devices():
            if device.get("username") == "chen.zq":
                provisioned.directory.revoke_device("chen.zq", device["device_id"])
    flag = tmp_path / "server-change"
    ran = serve_page_requests(flag, {
        "budget": budget, "fault": lambda: setattr(gateway, "handle", fault), "restore": restore,
        "min_version": lambda: setattr(provisioned, "settings", replace(settings, min_app_version="9.0.0")),
        "revoke": revoke})
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "field-app"
    shots.mkdir(parents=True, exist_ok=True)
    phases = {"caught_up": "已同步", "offline": "无网络，连网后自动继续", "busy": "服务器繁忙，稍后自动重试",
              "too_old": "应用版本过旧，更新后才能同步（本机数据不会丢失）"}
    spec = {"base": live_server, "shots": str(shots), "flag": str(flag), "phases": phases,
            "cadre": {"username": "chen.zq", "password": "device-pass-1"}}
    try:
        result = run_page_script("field_sync_status.js", spec, timeout=400)
    finally:
        restore()
    assert ran == ["budget", "restore", "fault", "restore", "min_version", "restore", "revoke"]
    assert result["synced"]["badge"] == "在线" and result["synced"]["last_ok"] is None
    for state, badge in (("offline", "无网络"), ("busy", "服务器繁忙"), ("fault", "服务器繁忙"),
                         ("too_old", "需要更新")):
        seen = result[state]
        assert seen["badge"] == badge, (state, seen)
        assert seen["last_ok"].startswith("上次同步成功："), (state, seen)  # and when
    for state in ("busy_recovered", "fault_recovered"):
        assert result[state]["badge"] == "在线" and result[state]["phase"] == "已同步"
    assert gateway.held.refused["too_many_waiting_account"] >= 1  # the 503 came from the budget
    # the update banner is shown while the server refuses this version and gone once it takes it again
    assert result["too_old"]["banner"] == 1 and result["too_old_recovered_banner"] == 0
    told = result["unauthorized"]  # 401: asked for the password once, not retried for ever
    assert told["phase"] == "需要重新登录（登录已失效，本机数据不会丢失）" and told["needs_password"] is True
    assert told["last_ok"].startswith("上次同步成功：") and "密码" in told["login_text"]


@pytest.mark.e2e
def test_households_are_created_and_edited_and_returned_records_corrected(provisioned, village_roster,
                                                                          live_server):
    """Issue 15 part A: a household registered offline with its members (nothing saved until
    every field passes the server's rules), members of a stored one edited with field stamps as
    docs/device-contract.md §4 says, and a quarantined request, a quarantined case event and a
    refused request corrected through "修改后重新提交" until the server accepts them; a refused
    household resubmitted by saving its form unchanged (it wrote nothing, 没有修改, before);
    phones typed in full width stored as ASCII, a 12… number refused before saving in the
    server's words; stored identity numbers masked in the form until 显示/修改."""
    import requests
    edited_id = _household(1, "", "")["_id"]
    stored = village_roster.get(edited_id)
    stored["members"][0]["newer_app_field"] = "kept"  # a field this app does not know
    village_roster.put(stored)
    before = village_roster.get(edited_id)
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "field-app"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {"base": live_server, "shots": str(shots), "other_village": "441226101202",
            "bad_id_number": "441226197803121237", "bad_phone": "12345678901",
            "cadre": {"username": "chen.zq", "password": "device-pass-1"},
            "create": {"head_name": "黎秋菊", "head_id": "441226198005062424", "head_age": 46,
                       "phones_typed": "138 0226 1234，12802261234",
                       "phones_good": "+86 138-0226-1234，１３９２６６１１２３４",
                       "poverty_status": "at_risk", "address": "新圩村五组3号", "income_yuan": "6200.5",
                       "spouse": {"name": "陈大海", "age": 48, "relation": "spouse", "schooling": "primary",
                                  "health": "chronic_illness", "work": "migrant_work"}},
            "edit": {"id": edited_id, "schooling": "senior_secondary",
                     "added": {"name": "梁小红", "age": 3, "relation": "grandchild"}},
            "quarantine": {"name": "何永明", "description": "邻居占用通道，多次协商未果。",
                           "phone_typed": "１３９ ２６６１ １２３４",
                           "corrected_description": "邻居占用通道，多次协商未果。（已核对当事人信息）"},
            "event": {"notes": "约定周六到现场调解。"},
            "refuse": {"name": "黄月娥", "description": "宅基地边界争议。",
                       "corrected_description": "宅基地边界争议，对方已砌墙。"},
            "refused_household": {"head_name": "罗桂芳", "head_id": "441226195501200036", "head_age": 71,
                                  "poverty_status": "monitored"}}
    result = run_page_script("field_households.js", spec, timeout=400)

    # 1. validation before saving, in the server's words, next to each field
    assert "请填写户主的姓名" in result["empty_errors"] and "请填写户主的身份证号" in result["empty_errors"]
    assert "请选择户类型" in result["empty_errors"]  # chosen, not typed; named as on the screen
    assert result["bad_id_error"] == "身份证号码校验位错误，请核对号码"
    assert result["bad_phone_error"] == "手机号码格式不正确（应为11位大陆手机号）"
    assert result["bad_age_error"] == "年龄应为0到130之间的整数"
    created = village_roster.get(result["created_id"])
    assert created["_id"].startswith("household:") and created["village_code"] == VILLAGE
    assert created["head"] == {"name": "黎秋菊", "id_number": "441226198005062424"}
    assert created["phones"] == ["13802261234", "13926611234"]  # the full-width one as ASCII
    assert created["income_per_capita_fen"] == 620050
    assert [m["name"] for m in created["members"]] == ["黎秋菊", "陈大海"]  # the head is a member
    assert created["members"][1] == {
        "name": "陈大海", "id_number": None, "relation": "spouse", "age": 48, "schooling": "primary",
        "health": "chronic_illness", "work": "migrant_work", "disability_grade": None}
    stamps = created["field_stamps"]
    assert set(stamps) == {"head", "members", "phones", "address", "income_per_capita_fen",
                           "poverty_status", "indicators.safe_housing"}
    assert len(set(stamps.values())) == 1 and next(iter(stamps.values())).endswith(f"-{result['device_id']}")
    assert not list(village_roster.docs_with_prefix(f"feedback:{created['_id']}:"))  # accepted

    # 2. members edited: only `members` re-stamped, the unknown member field kept
    edited = village_roster.get(edited_id)
    assert result["members_before"] == 3
    assert result["id_masked"] == {  # as on the record; the one tapped shows in full, alone
        "head": "4412**********1236", "member": "4412**********1236", "full_inputs": 0,
        "head_revealed": "441226197803121236", "member_after": "4412**********1236"}
    assert [m["name"] for m in edited["members"]] == ["梁国强", "陈秀英", "梁小红"]
    assert edited["members"][0]["newer_app_field"] == "kept"
    assert edited["members"][1]["schooling"] == "senior_secondary"
    assert edited["members"][2]["relation"] == "grandchild" and edited["members"][2]["age"] == 3
    changed = {path for path, stamp in edited["field_stamps"].items()
               if stamp != before["field_stamps"].get(path)}
    assert changed == {"members"} and edited["field_stamps"]["members"].endswith(f"-{result['device_id']}")
    assert edited["field_stamps"]["members"] > before["field_stamps"]["members"]
    assert not list(village_roster.docs_with_prefix(f"feedback:{edited_id}:"))

    # 3. the quarantined request: named in words, corrected as the child of the quarantined revision
    said = result["quarantine_feedback"]
    assert "申请人的身份证号" in said and "第1位对方当事人的手机号" in said, said
    assert "applicant" not in said and "other_parties" not in said
    assert result["correct_form"] == {  # the server's words, at their fields
        "name": "何永明", "party": "何志强", "description": spec["quarantine"]["description"],
        "id_error": "身份证号码校验位错误，请核对号码",
        "party_error": "手机号码格式不正确（应为11位大陆手机号）"}
    request = village_roster.get(result["quarantined_id"])
    assert request["_rev"].startswith("2-")
    assert request["applicant"]["phone"] == "13926611234"  # typed in full width with spaces
    assert result["request_party_phone_error"] == "手机号码格式不正确（应为11位大陆手机号）"
    assert result["request_still_on_form"] == 1  # nothing saved with the 12… number
    assert request["description"] == spec["quarantine"]["corrected_description"]
    (feedback,) = village_roster.docs_with_prefix(f"feedback:{request['_id']}:")
    assert feedback["target"]["rev"].startswith("1-") and feedback["resolved_at"]
    assert "已更正" in result["quarantine_after"]

    # 4. the case event likewise
    assert "调解员的手机号" in result["event_feedback"] and result["event_form_mediator"] == "黄伯"
    (event,) = village_roster.docs_with_prefix("case_event:")
    assert event["_rev"].startswith("2-") and event["mediator"]["phone"] == "13711261234"
    assert all(f["resolved_at"] for f in village_roster.docs_with_prefix(f"feedback:{event['_id']}:"))

    # 5. the refused request: kept on the phone, corrected, accepted, and on the official's list
    assert "文档属于其他村" in result["refused_notice"] and "修改后重新提交" in result["refused_notice"]
    assert result["refused_form_name"] == "黄月娥" and result["refused_after_save"] == 0
    accepted = village_roster.get(result["refused_id"])
    assert accepted["_rev"].startswith("2-")
    assert accepted["description"] == spec["refuse"]["corrected_description"]
    assert _eventually(lambda: provisioned.alerts.store.get(alert_id(accepted["_id"])))
    listed = requests.get(f"{live_server}/api/v1/alerts", params={"tab": "all", "per_page": 100},
                          auth=("huang.jh", "device-pass-1"), timeout=10).json()["alerts"]
    assert accepted["_id"] in {alert.get("request_id") for alert in listed}, listed

    # 6. the refused household: saved unchanged, it went up again and was accepted
    assert "文档属于其他村" in result["refused_household_notice"]
    assert "修改后重新提交" in result["refused_household_notice"]
    assert "不需要修改时直接点“保存”也会重新提交" in result["refused_household_form"]
    assert result["refused_household_toast"] == "已保存"  # not 没有修改
    resubmitted = village_roster.get(result["refused_household_id"])
    assert resubmitted["_rev"].startswith("2-") and resubmitted["village_code"] == VILLAGE
    assert resubmitted["head"] == {"name": "罗桂芳", "id_number": "441226195501200036"}
    assert not list(village_roster.docs_with_prefix(f"feedback:{resubmitted['_id']}:"))

    # 7. English
    assert "Applicant's ID number" in result["english_feedback"]
    assert "Please fill in Head of household's name" in result["english_errors"]


@pytest.mark.e2e
def test_the_forms_fit_phones_360_to_430_wide(provisioned, village_roster, live_server):
    """Visit, mediation and household forms at 360, 390 and 430 px: no placeholder or label cut
    off (measured in the page with each box's font); screenshots 14-<form>-<width>.png."""
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "field-app"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {"base": live_server, "shots": str(shots), "search": "梁国强", "widths": [360, 390, 430],
            "cadre": {"username": "chen.zq", "password": "device-pass-1"}}
    result = run_page_script("field_layout.js", spec, timeout=240)
    assert result["measured"] > 30  # the forms' fields were there to measure
    assert result["cut"] == [], json.dumps(result["cut"], ensure_ascii=False)
