"""Duty rosters: who is on duty for a town or a county, and who leads it.

Stored in the directory database as `duty_roster:<division code>`; county officials edit the
rosters of their county and of its towns. Alerts are routed by them (sync/alerts/routing.py).
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .hierarchy import level_of
from .identity import MOBILE_RE

ROSTER_LEVELS = ("town", "county")
# who may stand on a roster of each level: officials of exactly that jurisdiction
ROSTER_ROLE = {"town": "town_official", "county": "county_official"}
EDITOR_ROLES = ("county_official", "central_admin")


def duty_roster_id(code: str) -> str:
    """The id of the roster document of a town or a county."""
    return f"duty_roster:{code}"


class MediatorEntry(Schema):
    """A mediator of a town's list: a name and a mobile phone."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = fields.String(required=True, validate=validate.Regexp(MOBILE_RE, error="phone_format"))


class DutyRosterInput(Schema):
    """PUT /api/v1/duty-rosters/<code>: the whole roster (unknown keys are refused)."""
    on_duty = fields.List(fields.String(validate=validate.Length(min=1, max=32)),
                          required=True, validate=validate.Length(max=50))
    leader = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=32))
    # the town's mediators (人民调解员) an official picks from when assigning; absent: unchanged
    mediators = fields.List(fields.Nested(MediatorEntry), load_default=None,
                            validate=validate.Length(max=50))


def roster_problems(code: str, roster: dict, accounts: dict[str, dict | None]) -> list[dict]:
    """Problems with a roster for `code`: unknown accounts, or accounts of another place/role."""
    wanted_role = ROSTER_ROLE[level_of(code)]
    problems = []
    named = [("on_duty", name) for name in roster["on_duty"]]
    if roster.get("leader"):
        named.append(("leader", roster["leader"]))
    for field, username in named:
        account = accounts.get(username)
        if account is None:
            problems.append({"field": field, "code": "roster_member_unknown",
                             "username": username})
        elif account.get("role") != wanted_role or account.get("jurisdiction") != code:
            problems.append({"field": field, "code": "roster_member_outside",
                             "username": username})
    return problems


duty_roster_input = DutyRosterInput()


ROSTER_CSV_COLUMNS = ("code", "on_duty", "leader", "mediators")


def parse_rosters_csv(text: str) -> list[dict]:
    """Rosters from the provisioning CSV (docs/provisioning.md): `code,on_duty,leader,mediators`
    with `;` between usernames and between mediators, a mediator as `name phone`. Each row
    answers {"line", "code", "roster"} or {"line", "code", "error"} (a message code)."""
    import csv
    import io

    rows = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or set(ROSTER_CSV_COLUMNS[:2]) - set(reader.fieldnames):
        return [{"line": 1, "code": "", "error": "roster_csv_header"}]
    for line, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip()
        split = lambda value: [p.strip() for p in (value or "").split(";") if p.strip()]  # noqa: E731
        mediators = []
        for entry in split(row.get("mediators")):
            name, _, phone = entry.rpartition(" ")
            mediators.append({"name": name.strip(), "phone": phone.strip()})
        try:
            level = level_of(code)
        except Exception:  # noqa: BLE001 - HierarchyError or a malformed code
            level = None
        if level not in ROSTER_LEVELS:
            rows.append({"line": line, "code": code, "error": "roster_not_found"})
            continue
        errors = duty_roster_input.validate({"on_duty": split(row.get("on_duty")),
                                             "leader": (row.get("leader") or "").strip() or None,
                                             "mediators": mediators})
        if errors:
            rows.append({"line": line, "code": code, "error": "roster_csv_row"})
            continue
        rows.append({"line": line, "code": code, "roster": {
            "on_duty": split(row.get("on_duty")), "leader": (row.get("leader") or "").strip() or None,
            "mediators": mediators}})
    return rows
