"""Finding 8 of issue 11: a household head named like a spreadsheet formula must reach the CSV
and XLSX downloads as text, never as a live formula (OWASP's CSV injection rule: a leading
`= + - @ TAB CR`, full-width forms too); real numbers, negative ones included, stay numbers."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from support.report_data import COUNTY, TOWN, VILLAGE_A, auth

FORMULA_NAMES = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+1",
                 "\t=1+1", "\r=1+1", "＝1+1", "＋1", "－1", "＠SUM(1)"]
BASE = "/api/v1/reports/lifted_but_failing"
HEAD_COLUMN, INCOME_COLUMN = 4, 7  # columns of lifted_but_failing (sync/reports/builder.py)


@pytest.fixture
def formula_households(seeded):
    """Lifted households under the income line in the central view (what the reports read),
    one per formula-like head name, plus one with a negative income (a number starting '-')."""
    svc = seeded["svc"]
    central = svc.couch.database(svc.names.central)
    for n, (name, income) in enumerate([(name, 100000) for name in FORMULA_NAMES]
                                       + [("负收入户", -150000), ("bell\x07", 100000)]):
        central.put({"_id": f"hh:{VILLAGE_A}:household:formula-{n}", "type": "central_household",
                     "schema_version": 1, "village_code": VILLAGE_A, "town_code": TOWN,
                     "county_code": COUNTY, "household_id": f"household:formula-{n}",
                     "deleted": False, "head": {"name": name, "id_masked": "4412**********0000"},
                     "poverty_status": "lifted", "income_per_capita_fen": income,
                     "failing_indicators": [], "latest_verification": None, "member_count": 1})
    return svc


def test_csv_cells_neutralised(formula_households, client):
    got = client.get(f"{BASE}.csv?lang=en", headers=auth("liang.lj"))
    assert got.status_code == 200
    rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    heads = {row[HEAD_COLUMN]: row for row in rows[1:]}
    for name in FORMULA_NAMES:
        assert "'" + name in heads, (name, sorted(heads))
    # no cell of the file starts with a formula character any more
    for row in rows[1:]:
        for cell in row:
            if cell and cell[0] in "=+-@\t\r＝＋－＠":
                assert _is_number(cell), (cell, row)
    assert heads["负收入户"][INCOME_COLUMN] == "-1500.0"  # a number: not prefixed


def test_xlsx_cells_are_text(formula_households, client):
    got = client.get(f"{BASE}.xlsx?lang=en", headers=auth("liang.lj"))
    assert got.status_code == 200
    sheet = load_workbook(io.BytesIO(got.data)).active
    heads = {}
    for row in sheet.iter_rows(min_row=2):
        heads[row[HEAD_COLUMN].value] = row
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    for name in FORMULA_NAMES:
        # the name as typed, stored as text (XML reads a carriage return back as a line feed)
        cell = heads[name.replace("\r", "\n")][HEAD_COLUMN]
        assert cell.data_type == "s" and cell.quotePrefix, (name, cell.data_type)
    assert "bell\ufffd" in heads  # a control character XLSX cannot hold: no 500
    income = heads["负收入户"][INCOME_COLUMN]
    assert income.data_type == "n" and income.value == -1500


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
