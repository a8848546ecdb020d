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


def to_xlsx(title: str, header: list[str], rows: list[list[object]],
            heading: list[str] | None = None, totals: list[object] | None = None,
            money_columns: tuple[int, ...] = ()) -> bytes:
    """An XLSX workbook of one sheet named `title`: the `heading` lines (the report's title,
    period, issuing office and time made) above a bold, frozen header row, the rows, a bold
    totals line; money columns (0-based indexes) shown as yuan with two decimals."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for index, line in enumerate(heading or []):
        _append(sheet, [line])
        sheet.cell(sheet.max_row, 1).font = Font(bold=index == 0, size=14 if index == 0 else 11)
        if len(header) > 1:
            sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row,
                              end_column=len(header))
    first = sheet.max_row + 1 if heading else 1
    _append(sheet, header)
    for cell in sheet[first]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(sheet, row)
    if totals is not None:
        _append(sheet, totals)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for column in money_columns:
        for (cell,) in sheet.iter_rows(min_row=first + 1, min_col=column + 1, max_col=column + 1):
            if isinstance(cell.value, (int, float)):
                cell.number_format = "#,##0.00"
    sheet.freeze_panes = sheet.cell(first + 1, 1)
    for index, name in enumerate(header, start=1):
        width = max([len(str(name)) * 2] + [len(str(r[index - 1])) * 2 for r in rows[:200]])
        sheet.column_dimensions[sheet.cell(first, index).column_letter].width = min(width + 2, 50)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
