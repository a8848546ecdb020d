"""The administrative hierarchy: city > county/district > town > village, by 12-digit codes.

A division code (统计用区划代码) is PP CC DD TTT VVV: province, city, county, town, village.
A unit's level is the position of its last non-zero segment, and a child's code extends its
parent's: 441200000000 (肇庆市) > 441226000000 (德庆县) > 441226100000 (德城街道) > 441226100201.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models.messages import Coded, label

LEVELS = ("city", "county", "town", "village")
LEVEL_NAMES_ZH = {level: label("level", level) for level in LEVELS}  # codes.level
# how many leading digits identify a unit at each level
PREFIX_LENGTH = {"city": 4, "county": 6, "town": 9, "village": 12}
CODE_RE = re.compile(r"[0-9]{12}\Z")  # not \d and $: `\d` takes "４４１２…", `$` a trailing "\n"


class HierarchyError(ValueError):
    """A division code or a jurisdiction breaks the hierarchy rules; `code` names the message."""

    def __init__(self, message_code: str, /, **params: object):
        self.code, self.params = message_code, params
        super().__init__(message_code)


def level_of(code: str) -> str:
    """The level a division code denotes; raises HierarchyError for a malformed code."""
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise HierarchyError("division_code_format", code=code)
    if code[2:4] == "00":
        raise HierarchyError("division_code_level", code=code, level="province")
    if code[4:6] == "00":
        level = "city"
    elif code[6:9] == "000":
        level = "county"
    elif code[9:12] == "000":
        level = "town"
    else:
        level = "village"
    if code[PREFIX_LENGTH[level]:].strip("0"):
        raise HierarchyError("division_code_level", code=code, level=level)
    return level


def parent_code(code: str) -> str | None:
    """The code of the unit directly above, or None for a city."""
    level = level_of(code)
    index = LEVELS.index(level)
    if index == 0:
        return None
    keep = PREFIX_LENGTH[LEVELS[index - 1]]
    return code[:keep] + "0" * (12 - keep)


def prefix(code: str) -> str:
    """The significant digits of a code: every descendant's code starts with them."""
    return code[:PREFIX_LENGTH[level_of(code)]]


def is_within(code: str, ancestor: str) -> bool:
    """Whether `code` is `ancestor` or lies below it."""
    try:
        return code.startswith(prefix(ancestor)) and level_of(code) is not None
    except HierarchyError:
        return False


def check_jurisdiction(code: str, level: str, parent: str | None) -> None:
    """Check that code, level and parent agree; raises HierarchyError naming the rule broken."""
    actual = level_of(code)
    if actual != level:
        raise HierarchyError("division_code_level", code=code, level=level)
    expected_parent = parent_code(code)
    if (parent or None) != expected_parent:
        raise HierarchyError("division_parent_mismatch", code=code, parent=parent or "")


@dataclass(frozen=True)
class Jurisdiction:
    """One administrative unit."""
    code: str
    name: str
    level: str
    parent: str | None

    @property
    def doc_id(self) -> str:
        return jurisdiction_doc_id(self.code)


def jurisdiction_doc_id(code: str) -> str:
    """The id of a jurisdiction's document in the directory database."""
    return f"jurisdiction:{code}"


class JurisdictionSchema(Schema):
    """A jurisdiction as provisioned (file row) and as stored (`type: jurisdiction`)."""
    code = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _hierarchy_rules(self, data: dict, **_: object) -> None:
        code = data.get("code", "")
        try:
            level_of(code)
        except HierarchyError as exc:
            raise ValidationError(Coded(exc.code, **exc.params), field_name="code") from exc
        if data.get("level") not in LEVELS:
            return
        try:
            check_jurisdiction(code, data["level"], data.get("parent") or None)
        except HierarchyError as exc:
            field = "parent" if exc.code == "division_parent_mismatch" else "level"
            raise ValidationError(Coded(exc.code, **exc.params), field_name=field) from exc


jurisdiction_schema = JurisdictionSchema()
