"""The reports page in a real headless Chromium: a county official logs in, the coverage chart
(SVG bars) and the tables render, the CSV and XLSX downloads answer with the right types."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from support.report_data import COUNTY, PASSWORD, RAW_IDS, TOWN, VILLAGE_A

SCRIPT = Path(__file__).resolve().parent / "browser" / "reports_page.js"


def test_county_official_sees_chart_tables_downloads(seeded, live_server, tmp_path):
    assert shutil.which("chromium") or Path("/usr/bin/chromium").exists(), \
        "Chromium is installed by `make test` (Debian package chromium)"
    spec = {"base": live_server, "official": {"username": "liang.lj", "password": PASSWORD},
            "from": "2026-01-01", "to": "2026-12-31", "screenshot": str(tmp_path / "reports.png")}
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps(spec), capture_output=True,
                          text=True, timeout=120, cwd=SCRIPT.parents[3])
    result = json.loads(done.stdout or "{}")
    assert "fatal" not in result, (result, done.stderr[-2000:])
    assert not [s for s in result["steps"] if s.startswith("pageerror")], result["steps"]
    assert result["title"] == "统计报表" and result["english_title"] == "Reports"
    assert result["error"] == ""
    bars = {bar["code"]: bar for bar in result["bars"]}
    assert set(bars) == {COUNTY, TOWN}  # one bar per county and town
    assert bars[TOWN]["pct"] == 50 and bars[TOWN]["width"] > 0
    assert result["coverage_headers"][:3] == ["层级", "区划代码", "名称"]
    assert result["english_headers"][:3] == ["Level", "Division code", "Name"]
    assert [row[1] for row in result["coverage_rows"]] == [COUNTY, TOWN, VILLAGE_A,
                                                           "441226101202"]
    assert "何永明" in result["lifted_text"] and "4412**********0011" in result["lifted_text"]
    assert "住房安全有保障" in result["lifted_text"]
    assert result["sla_rows"] == 1 and "复核任务" in result["open_work_text"]
    csv_file, xlsx_file = result["downloads"]
    assert csv_file["status"] == 200 and csv_file["type"] == "text/csv; charset=utf-8"
    assert csv_file["head"][:3] == [0xEF, 0xBB, 0xBF] and "德庆县" in csv_file["text"]
    assert xlsx_file["status"] == 200 and xlsx_file["type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert xlsx_file["head"] == [0x50, 0x4B, 0x03, 0x04]  # a zip container
    assert result["saved_name"].startswith("fieldsync-lifted_but_failing-") and \
        result["saved_name"].endswith(".csv")
    page_text = json.dumps(result, ensure_ascii=False)
    assert not any(raw in page_text for raw in RAW_IDS)
    assert (tmp_path / "reports.png").stat().st_size > 10_000
