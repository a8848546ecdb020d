"""Report downloads: CSV (UTF-8 with a BOM, so Excel opens Chinese correctly) and XLSX.

The only module that uses openpyxl.
"""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def to_csv(header: list[str], rows: list[list[object]]) -> bytes:
    """A CSV file: BOM, header line, one line per row (CRLF, as Excel writes them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    """An XLSX workbook of one sheet: a bold, frozen header row, then the rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        width = max([len(str(name)) * 2] + [len(str(r[index - 1])) for r in rows[:200]])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(width + 2, 50)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
