"""Provisioning files: jurisdictions and accounts from CSV or JSON, checked row by row.

Formats (docs/provisioning.md has examples):
- CSV with header `code,name,level,parent` (jurisdictions) or
  `username,display_name,role,jurisdiction,phone,password` (accounts; phone, password optional).
  UTF-8 (with or without BOM) or GB18030, as Excel saves it on a Chinese-locale PC.
- JSON: `{"jurisdictions": [{...}], "accounts": [{...}]}` with the same fields.
Every problem is reported with its line number and field; parsing never stops at the first one.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

from marshmallow import RAISE, ValidationError

from models.accounts import provisioned_account_schema
from models.hierarchy import jurisdiction_schema
from models.messages import message
from models.validation import code_of

JURISDICTION_COLUMNS = ("code", "name", "level", "parent")
ACCOUNT_COLUMNS = ("username", "display_name", "role", "jurisdiction", "phone", "password")
REQUIRED_ACCOUNT_COLUMNS = ("username", "display_name", "role", "jurisdiction")


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with a provisioning file: where, which field, and which rule."""
    line: int
    field: str
    code: str
    params: dict = field(default_factory=dict, hash=False, compare=False)

    def describe(self, lang: str | None = "zh") -> str:
        """`第 3 行 字段 parent：…` / `line 3, field parent: …`."""
        return message("cli_problem_at", lang, line=self.line, field=self.field,
                       text=message(self.code, lang, **self.params))


@dataclass
class Row:
    """A provisioning row that passed its own checks, with the line it came from."""
    line: int
    kind: str  # "jurisdiction" or "account"
    values: dict
    given: frozenset = frozenset()  # the fields the file actually filled in


@dataclass
class ParsedFile:
    """The rows of one or more provisioning files and every problem found in them."""
    rows: list[Row] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def extend(self, other: "ParsedFile") -> None:
        self.rows.extend(other.rows)
        self.problems.extend(other.problems)


def _problems_from(error: ValidationError, line: int, values: dict) -> list[RowProblem]:
    problems = []
    for field_name, messages in sorted(error.normalized_messages().items()):
        for text in messages if isinstance(messages, list) else [messages]:
            code, found = code_of(text)  # marshmallow's English and our codes, one mapping
            params = {k: v for k, v in values.items() if isinstance(v, str)}
            params.update(found)
            problems.append(RowProblem(line, field_name, code, params))
    return problems


def check_row(kind: str, values: dict, line: int) -> tuple[Row | None, list[RowProblem]]:
    """Validate one row with its schema; returns the clean row or its problems."""
    schema = jurisdiction_schema if kind == "jurisdiction" else provisioned_account_schema
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    cleaned = {k: (None if v == "" else v) for k, v in cleaned.items()}
    try:
        loaded = schema.load(cleaned, unknown=RAISE)
    except ValidationError as exc:
        return None, _problems_from(exc, line, cleaned)
    given = frozenset(k for k, v in cleaned.items() if v is not None)
    return Row(line, kind, loaded, given), []


def decode(raw: bytes) -> str:
    """Decode file bytes as UTF-8 (BOM allowed) or, failing that, GB18030."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def parse_csv(text: str) -> ParsedFile:
    """Parse a jurisdictions or accounts CSV (the header says which)."""
    parsed = ParsedFile()
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        parsed.problems.append(RowProblem(1, "-", "csv_header", {"reason": "empty file"}))
        return parsed
    if set(header) == set(JURISDICTION_COLUMNS) or set(header) == set(JURISDICTION_COLUMNS[:3]):
        kind = "jurisdiction"
    elif set(REQUIRED_ACCOUNT_COLUMNS) <= set(header) <= set(ACCOUNT_COLUMNS):
        kind = "account"
    else:
        reason = (f"expected {','.join(JURISDICTION_COLUMNS)} or "
                  f"{','.join(ACCOUNT_COLUMNS)}, got {','.join(header)}")
        parsed.problems.append(RowProblem(1, "-", "csv_header", {"reason": reason}))
        return parsed
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            parsed.problems.append(RowProblem(line, "-", "csv_header", {
                "reason": f"{len(cells)} cells where the header has {len(header)}"}))
            continue
        row, problems = check_row(kind, dict(zip(header, cells)), line)
        parsed.problems.extend(problems)
        if row:
            parsed.rows.append(row)
    return parsed


def _element_lines(text: str, key: str, count: int) -> list[int]:
    """Line numbers of the elements of the top-level array `key` (for error messages)."""
    match = re.search(r'"%s"\s*:\s*\[' % re.escape(key), text)
    if not match:
        return [0] * count
    decoder, index, lines = json.JSONDecoder(), match.end(), []
    for _ in range(count):
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        lines.append(text.count("\n", 0, index) + 1)
        try:
            _, index = decoder.raw_decode(text, index)
        except ValueError:
            break
    return lines + [0] * (count - len(lines))


def parse_json(text: str) -> ParsedFile:
    """Parse a JSON provisioning file with `jurisdictions` and/or `accounts` arrays."""
    parsed = ParsedFile()
    try:
        document = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        parsed.problems.append(RowProblem(line, "-", "file_format", {"reason": str(exc)}))
        return parsed
    if not isinstance(document, dict) or not ({"jurisdictions", "accounts"} & set(document)):
        parsed.problems.append(RowProblem(1, "-", "file_format", {
            "reason": 'expected an object with "jurisdictions" and/or "accounts"'}))
        return parsed
    for key, kind in (("jurisdictions", "jurisdiction"), ("accounts", "account")):
        entries = document.get(key) or []
        lines = _element_lines(text, key, len(entries))
        for entry, line in zip(entries, lines):
            if not isinstance(entry, dict):
                parsed.problems.append(RowProblem(line, key, "invalid_type"))
                continue
            row, problems = check_row(kind, entry, line)
            parsed.problems.extend(problems)
            if row:
                parsed.rows.append(row)
    return parsed


def parse_file(name: str, raw: bytes) -> ParsedFile:
    """Parse a provisioning file by its extension (.csv or .json)."""
    try:
        text = decode(raw)
    except UnicodeDecodeError as exc:
        return ParsedFile(problems=[RowProblem(1, "-", "file_unreadable", {"reason": str(exc)})])
    if name.lower().endswith(".json"):
        return parse_json(text)
    if name.lower().endswith(".csv"):
        return parse_csv(text)
    return ParsedFile(problems=[RowProblem(0, "-", "file_format", {
        "reason": f"{name}: use a .csv or .json file"})])
