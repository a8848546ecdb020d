"""Reports (issue 6): coverage, lifted-but-failing (真脱贫、脱真贫), mediation SLA per town and open
work, as builders, as JSON and as CSV/XLSX downloads; by jurisdiction; no raw identity number."""
from __future__ import annotations

import csv
import io
from urllib.parse import quote
import json
from datetime import datetime, timedelta, UTC

from openpyxl import load_workbook

from sync.reports.builder import Scope, parse_period
from support.report_data import (COUNTY, OTHER_VILLAGE, RAW_IDS, TOWN, VILLAGE_A,
                                 VILLAGE_B, auth)

def desk(svc):
    from mobile_api.reports_api import ReportDesk
    return ReportDesk(svc.couch, svc.names, svc.directory, svc.alerts.store, svc.devices,
                      svc.quarantine, svc.reconciliation.resolver, 4000)


PERIOD = parse_period("2026-01-01", "2026-12-31", datetime.now(UTC))


def test_builders(seeded):
    svc = seeded["svc"]
    reports = desk(svc)
    county = Scope.of("county_official", COUNTY)
    assert Scope.of("town_official", TOWN) is None and Scope.of("cadre", VILLAGE_A) is None

    coverage = reports.coverage(county, *PERIOD)
    rows = {r["code"]: r for r in coverage["rows"]}
    assert [r["level"] for r in coverage["rows"]] == ["county", "town", "village", "village"]
    assert {k: rows[VILLAGE_A][k] for k in ("households", "verified", "coverage_pct", "name")} \
        == {"households": 3, "verified": 1, "coverage_pct": 33.3, "name": "新圩村"}
    assert (rows[VILLAGE_B]["households"], rows[VILLAGE_B]["verified"]) == (1, 1)
    assert (rows[TOWN]["households"], rows[TOWN]["verified"], rows[TOWN]["coverage_pct"]) == \
        (4, 2, 50.0)
    assert rows[COUNTY]["name"] == "德庆县" and rows[COUNTY]["households"] == 4
    everything = reports.coverage(Scope.of("central_admin", "441200000000"), *PERIOD)
    assert everything["total"]["households"] == 5
    assert OTHER_VILLAGE in {r["code"] for r in everything["rows"]}

    failing = reports.lifted_but_failing(county)
    listed = {r["household_id"]: r for r in failing["rows"]}
    assert set(listed) == {seeded["poor"]["_id"], seeded["housing"]["_id"]}
    assert listed[seeded["poor"]["_id"]]["below_income_line"] is True
    assert listed[seeded["poor"]["_id"]]["income_per_capita_yuan"] == 3000
    assert listed[seeded["housing"]["_id"]]["failing_indicators"] == ["safe_housing"]
    assert listed[seeded["poor"]["_id"]]["head_id_masked"] == "4412**********0011"
    assert len(reports.lifted_but_failing(Scope())["rows"]) == 3
    stricter = desk(svc)
    stricter.income_line_yuan = 9500
    assert len(stricter.lifted_but_failing(county)["rows"]) == 3  # ¥9,000 < ¥9,500 too

    now = datetime.now(UTC)
    sla = reports.mediation_sla(county, now - timedelta(days=1), now)
    town_row = {r["town_code"]: r for r in sla["rows"]}
    assert set(town_row) == {TOWN}
    assert town_row[TOWN]["alerts"] == 2 and town_row[TOWN]["acknowledged"] == 1
    assert town_row[TOWN]["ack_within_target"] == 1 and town_row[TOWN]["ack_open_past_target"] == 1
    assert {r["town_code"] for r in reports.mediation_sla(Scope(), now - timedelta(days=1),
                                                          now)["rows"]} >= {TOWN, "441225101000"}

    work = reports.open_work(county)
    counts = {(r["category"], r["kind"]): r["count"] for r in work["rows"]}
    assert counts[("review_task", "photo_reuse")] == 1
    assert counts[("stale_device", "no_contact_7d")] == 1
    assert counts[("conflict", "unresolved")] == 0
    assert work["stale_devices"][0]["device_id"] == "dev-old-1"


def test_json_api_and_access(seeded, client):
    base = "/api/v1/reports"
    assert client.get(f"{base}/coverage").status_code == 401
    assert client.get(f"{base}/coverage", headers=auth("huang.jh")).status_code == 403
    unknown = client.get(f"{base}/nonsense", headers=auth("liang.lj"))
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "report_unknown"
    bad = client.get(f"{base}/coverage?from=2026-13-01", headers=auth("liang.lj"))
    assert bad.status_code == 400 and bad.get_json()["error"] == "report_date_invalid"
    assert client.get(f"{base}/coverage.pdf", headers=auth("liang.lj")).status_code == 404
    answer = client.get(f"{base}/coverage?from=2026-01-01&to=2026-12-31",
                        headers=auth("liang.lj")).get_json()
    assert answer["scope"] == COUNTY and answer["total"] == {"households": 4, "verified": 2,
                                                             "coverage_pct": 50.0}
    admin = client.get(f"{base}/lifted_but_failing", headers=auth("admin.zq")).get_json()
    assert admin["total"] == 3 and admin["income_line_yuan"] == 4000
    sla = client.get(f"{base}/mediation_sla?period=7d", headers=auth("liang.lj")).get_json()
    assert [r["alerts"] for r in sla["rows"]] == [2]
    work = client.get(f"{base}/open_work", headers=auth("liang.lj")).get_json()
    assert work["totals"]["stale_devices"] == 1


def test_csv_and_xlsx_downloads(seeded, client):
    base = "/api/v1/reports"
    outputs = []
    for name in ("coverage", "lifted_but_failing", "mediation_sla", "open_work"):
        for query in ("?from=2026-01-01&to=2026-12-31", "?lang=en&from=2026-01-01&to=2026-12-31"):
            got = client.get(f"{base}/{name}.csv{query}", headers=auth("liang.lj"))
            assert got.status_code == 200 and got.content_type == "text/csv; charset=utf-8"
            assert got.data.startswith(b"\xef\xbb\xbf")
            assert "attachment" in got.headers["Content-Disposition"]
            outputs.append(got.data.decode("utf-8"))
            xlsx = client.get(f"{base}/{name}.xlsx{query}", headers=auth("liang.lj"))
            assert xlsx.status_code == 200 and xlsx.content_type.startswith(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            sheet = load_workbook(io.BytesIO(xlsx.data)).active
            cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
            outputs.append(json.dumps(cells, ensure_ascii=False, default=str))
    lines = list(csv.reader(io.StringIO(
        client.get(f"{base}/coverage.csv?from=2026-01-01&to=2026-12-31",
                   headers=auth("liang.lj")).data.decode("utf-8-sig"))))
    assert lines[0] == ["层级", "区划代码", "名称", "上级", "户数", "期内已核查户数", "未核查户数",
                        "核查覆盖率（%）"]
    assert lines[1][:3] == ["县", COUNTY, "德庆县"] and lines[1][4:] == ["4", "2", "2", "50.0"]
    assert lines[-1][0] == "合计" and lines[-1][4:] == ["4", "2", "2", "50.0"]  # the county line
    xlsx = client.get(f"{base}/lifted_but_failing.xlsx?lang=en", headers=auth("liang.lj"))
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Lifted households failing an indicator" and rows[1][0].startswith("As of")
    assert rows[2][0].startswith("Issued by: 德庆县; made ")
    assert rows[3][:5] == ("County", "Town", "Village", "Household", "Head of household")
    assert rows[-1][0] == "Total" and rows[-1][4] == "2 households"
    by_head = {row[4]: row for row in rows[4:-1]}
    assert set(by_head) == {"何永明", "陈秀英"}
    assert by_head["何永明"][5] == "4412**********0011" and by_head["何永明"][8] == "yes"
    assert by_head["陈秀英"][9] == "Safe housing"
    got = client.get(f"{base}/mediation_sla.xlsx?from=2026-01-01&to=2026-12-31",
                     headers=auth("liang.lj"))
    book = load_workbook(io.BytesIO(got.data))
    assert book.sheetnames == ["调解时效"]
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "矛盾调解办理时效统计表"
    assert rows[1][0] == "统计期间：2026-01-01 至 2026-12-31"
    assert rows[2][0].startswith("制表单位：德庆县") and "制表时间：" in rows[2][0]
    assert "（北京时间）" in rows[2][0] and rows[-1][0] == "合计"
    disposition = got.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + quote("矛盾调解办理时效统计表_德庆县_20261231.xlsx") in disposition
    money = client.get(f"{base}/lifted_but_failing.xlsx", headers=auth("liang.lj"))
    sheet = load_workbook(io.BytesIO(money.data)).active
    incomes = [row[7] for row in sheet.iter_rows(min_row=5, max_row=sheet.max_row - 1)]
    assert incomes and all(cell.number_format == "#,##0.00" for cell in incomes)
    zh = client.get(f"{base}/lifted_but_failing.csv", headers=auth("liang.lj")).data.decode()
    assert "住房安全有保障" in zh and "已脱贫" not in zh.splitlines()[0]

    # the raw identity numbers appear in no output at all
    outputs += [json.dumps(client.get(f"{base}/{name}", headers=auth("admin.zq")).get_json(),
                           ensure_ascii=False)
                for name in ("coverage", "lifted_but_failing", "mediation_sla", "open_work")]
    text = "\n".join(outputs)
    assert "4412**********0011" in text
    for raw in RAW_IDS:
        assert raw not in text
