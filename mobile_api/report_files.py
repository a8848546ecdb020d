"""Report downloads: CSV (UTF-8 with a BOM, so Excel opens Chinese correctly) and XLSX.

The only module that uses openpyxl. Text cells are written so a spreadsheet never runs them
(OWASP's CSV injection rule): text starting with `= + - @`, a tab or a carriage return (or the
full-width `＝ ＋ － ＠`, which spreadsheets in Chinese locales also take) gets a leading `'`
in CSV, and is a text cell with the quote-prefix style in XLSX (shown as typed, never a
formula, even once edited). Numbers stay numbers: -1500.0 is a number, not a formula.
"""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")


def formula_like(value: object) -> bool:
    """Whether a cell value is text a spreadsheet would take for a formula."""
    return isinstance(value, str) and value[:1] in FORMULA_STARTS


def _csv_cell(value: object) -> object:
    return "'" + value if formula_like(value) else value


def to_csv(header: list[str], rows: list[list[object]]) -> bytes:
    """A CSV file: BOM, header line, one line per row (CRLF, as Excel writes them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_csv_cell(name) for name in header])
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _append(sheet, values: list[object]) -> None:
    """One row; text as text cells (control characters XLSX cannot hold shown as U+FFFD)."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v
                  for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
            if formula_like(cell.value):
                cell.quotePrefix = True


def to_xlsx(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    """An XLSX workbook of one sheet: a bold, frozen header row, then the rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    _append(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(sheet, row)
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        width = max([len(str(name)) * 2] + [len(str(r[index - 1])) for r in rows[:200]])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(width + 2, 50)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
