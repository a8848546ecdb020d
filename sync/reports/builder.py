"""Reports for the central office and county officials (issue 6), built from stored state only.

Every report reads what reconciliation and the alert path already keep (the central view, the
review database, the quarantine entries, the device registry, the alerts) through sync/couch/client.py,
limited to a `Scope` (a central admin sees everything, a county official their county). Each
builder answers a dict with `rows` (flat, one value per column of `COLUMNS[name]`) and a few
figures; `table(report, name, lang)` turns it into a header and value rows for CSV and XLSX.
Identity numbers appear only masked (the central view holds nothing else).

- `coverage`: households per village and how many had a verification visit in a period, rolled
  up to town and county along the directory's hierarchy.
- `lifted_but_failing`: households marked 已脱贫 (`lifted`) that fail a "两不愁三保障" indicator or
  whose income per person is under the income line (真脱贫、脱真贫).
- `mediation_sla`: time to acknowledge and to resolve mediation alerts, per town.
- `open_work`: open review tasks by kind, unresolved conflicts, open quarantine entries, stale
  devices.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from models.alerts import iso, sla_figures
from models.duplicates import town_of
from models.hierarchy import is_within
from models.household import INDICATORS
from models.local_time import last_days
from models.messages import label, message, pairs, render, text
from sync.couch.client import CouchError, CouchServer, NotFound
from sync.couch.names import DatabaseNames

REPORTS = ("coverage", "lifted_but_failing", "mediation_sla", "open_work")
REPORT_ROLES = {"central_admin": None, "county_official": "county"}
CHINA = timezone(timedelta(hours=8))
DEFAULT_DAYS = 365
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)  # from/to outside are refused (400)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
STALE_DEVICE_DAYS = 7

# people's words for the tables come from the catalogue (section `reports`, codes.indicators)
INDICATOR_LABELS = {code: (label("indicators", code, "zh"), label("indicators", code, "en"))
                    for code in INDICATORS}
LEVEL_LABELS = pairs("reports.levels")
CATEGORY_LABELS = pairs("reports.categories")
# report -> [(key, 中文表头, English header)], in the catalogue's column order
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    name: [(key, zh, en) for key, (zh, en) in pairs(f"reports.columns.{name}").items()]
    for name in REPORTS}


class ReportInputError(ValueError):
    """A report asked for with an unusable input; `code` is a message code."""

    def __init__(self, code: str, /, **params: object):
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Scope:
    """What a report may show: every division (`code` None) or a county's subtree."""
    code: str | None = None

    @classmethod
    def of(cls, role: str, jurisdiction: str) -> "Scope | None":
        """The scope of an account; None for roles that get no reports."""
        if role not in REPORT_ROLES:
            return None
        return cls(None if REPORT_ROLES[role] is None else jurisdiction)

    def covers(self, code: object) -> bool:
        return isinstance(code, str) and (self.code is None or is_within(code, self.code))

    @property
    def prefix(self) -> str | None:
        """The code prefix every covered village starts with (None: any)."""
        return None if self.code is None else self.code[:6]

    @property
    def alert_scope(self) -> list:
        """The key prefix of the alerts' `by_scope` view."""
        return ["all", "*"] if self.code is None else ["county", self.code]


def parse_period(start: str | None, end: str | None, now: datetime,
                 default_days: int = DEFAULT_DAYS, zone: tzinfo = CHINA) -> tuple[datetime, datetime]:
    """`from`/`to` as dates (days of `zone`, `to` inclusive) or ISO times; defaults: the last
    `default_days` whole days of `zone` up to now (today, from its local midnight, included)."""
    def one(value: str, end_of_day: bool) -> datetime:
        try:
            if len(value) == 10:
                day = datetime.fromisoformat(value).replace(tzinfo=zone)
                return day + timedelta(days=1) - timedelta(microseconds=1) if end_of_day else day
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
            raise ReportInputError("report_date_invalid", value=value) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    to = one(end, True) if end else now
    try:
        since = one(start, False) if start else last_days(to, default_days, zone)[0]
    except (OverflowError, ValueError):
        raise ReportInputError("report_date_invalid", value=end) from None
    if since > to:
        raise ReportInputError("report_date_invalid", value=start)
    for moment, value in ((since, start), (to, end)):  # UTC and local times must both exist
        if not EARLIEST <= moment <= LATEST:
            raise ReportInputError("report_date_invalid", value=value)
    return since, to


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _county_of(code: str) -> str:
    return code[:6] + "000000"


class ReportDesk:
    """Builds the reports; `directory` gives names and the hierarchy, `alert_store` the alerts,
    `devices` the device registry, `quarantine` the quarantine desk, `conflicts` the resolver."""

    def __init__(self, couch: CouchServer, names: DatabaseNames, directory, alert_store, devices,
                 quarantine, conflicts, income_line_yuan: float = 4000.0, clock=None):
        self.couch, self.names, self.directory = couch, names, directory
        self.alert_store, self.devices, self.quarantine = alert_store, devices, quarantine
        self.conflicts = conflicts
        self.income_line_yuan = float(income_line_yuan)
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    # --- helpers --------------------------------------------------------------------------------
    def _names(self) -> dict[str, str]:
        return {code: unit.name for code, unit in self.directory.jurisdictions().items()}

    def _households(self, scope: Scope) -> list[dict]:
        central = self.couch.database(self.names.central)
        return [doc for doc in central.docs_with_prefix("hh:")
                if doc.get("type") == "central_household" and not doc.get("deleted")
                and scope.covers(doc.get("village_code"))]

    def _villages(self, scope: Scope) -> list[str]:
        return sorted(code for code, unit in self.directory.jurisdictions().items()
                      if unit.level == "village" and scope.covers(code))

    def build(self, name: str, scope: Scope, start: datetime, end: datetime) -> dict:
        """Any report by name (the API's entry point)."""
        if name == "coverage":
            return self.coverage(scope, start, end)
        if name == "lifted_but_failing":
            return self.lifted_but_failing(scope)
        if name == "mediation_sla":
            return self.mediation_sla(scope, start, end)
        if name == "open_work":
            return self.open_work(scope)
        raise ReportInputError("report_unknown", name=name)

    # --- coverage -------------------------------------------------------------------------------
    def coverage(self, scope: Scope, start: datetime, end: datetime) -> dict:
        """Households per village verified in [start, end], rolled up to town and county.

        A household counts as verified when its latest verification visit (the central view
        keeps the latest by recorded time) was recorded within the period."""
        names = self._names()
        counts: dict[str, list[int]] = {code: [0, 0] for code in self._villages(scope)}
        for doc in self._households(scope):
            tally = counts.setdefault(doc["village_code"], [0, 0])
            tally[0] += 1
            latest = doc.get("latest_verification") or {}
            moment = _moment((latest.get("order") or [None])[0]) or _moment(
                latest.get("recorded_at"))
            if moment is not None and start <= moment <= end:
                tally[1] += 1
        towns: dict[str, dict[str, list[int]]] = {}
        for village, tally in counts.items():
            towns.setdefault(town_of(village), {})[village] = tally
        counties: dict[str, list[str]] = {}
        for town in towns:
            counties.setdefault(_county_of(town), []).append(town)

        def row(level: str, code: str, parent: str | None, households: int, verified: int):
            return {"level": level, "code": code, "name": names.get(code, code),
                    "parent_code": parent, "parent_name": names.get(parent, parent) if parent
                    else None, "households": households, "verified": verified,
                    "not_verified": households - verified,
                    "coverage_pct": _pct(verified, households)}
        rows, total = [], [0, 0]
        for county in sorted(counties):
            county_rows, county_tally = [], [0, 0]
            for town in sorted(counties[county]):
                villages = towns[town]
                town_tally = [sum(t[0] for t in villages.values()),
                              sum(t[1] for t in villages.values())]
                county_rows.append(row("town", town, county, *town_tally))
                county_rows += [row("village", code, town, *villages[code])
                                for code in sorted(villages)]
                county_tally = [county_tally[0] + town_tally[0], county_tally[1] + town_tally[1]]
            rows.append(row("county", county, None, *county_tally))
            rows += county_rows
            total = [total[0] + county_tally[0], total[1] + county_tally[1]]
        return {"report": "coverage", "from": iso(start), "to": iso(end),
                "total": {"households": total[0], "verified": total[1],
                          "coverage_pct": _pct(total[1], total[0])},
                "rows": rows}

    # --- 真脱贫、脱真贫 -------------------------------------------------------------------------
    def lifted_but_failing(self, scope: Scope) -> dict:
        """Households marked `lifted` that fail an indicator or are under the income line."""
        names = self._names()
        line_fen = round(self.income_line_yuan * 100)
        rows = []
        for doc in self._households(scope):
            if doc.get("poverty_status") != "lifted":
                continue
            income = doc.get("income_per_capita_fen")
            below = isinstance(income, (int, float)) and income < line_fen
            failing = [name for name in INDICATORS
                       if name in (doc.get("failing_indicators") or [])]
            if not failing and not below:
                continue
            village = doc["village_code"]
            town, county = town_of(village), _county_of(village)
            latest = doc.get("latest_verification") or {}
            head = doc.get("head") or {}
            rows.append({
                "county_code": county, "county_name": names.get(county, county),
                "town_code": town, "town_name": names.get(town, town),
                "village_code": village, "village_name": names.get(village, village),
                "household_id": doc.get("household_id"), "head_name": head.get("name"),
                "head_id_masked": head.get("id_masked"), "member_count": doc.get("member_count"),
                "income_per_capita_yuan": round(income / 100, 2)
                if isinstance(income, (int, float)) else None,
                "below_income_line": below, "failing_indicators": failing,
                "last_verified_at": latest.get("recorded_at"),
                "last_verdict": latest.get("verdict")})
        rows.sort(key=lambda r: (r["village_code"], r["head_name"] or "", r["household_id"] or ""))
        return {"report": "lifted_but_failing", "income_line_yuan": self.income_line_yuan,
                "total": len(rows), "rows": rows}

    # --- mediation SLA --------------------------------------------------------------------------
    def mediation_sla(self, scope: Scope, start: datetime, end: datetime) -> dict:
        """SLA figures (models/alerts.py sla_figures) of alerts received in the period, per town."""
        names = self._names()
        end_iso = iso(end)
        alerts = [a for a in self.alert_store.in_scope(scope.alert_scope, iso(start))
                  if (a.get("received_at") or "") <= end_iso and scope.covers(a.get("town_code"))]
        figures = sla_figures(alerts, min(self.clock(), end))
        towns = {code for code, unit in self.directory.jurisdictions().items()
                 if unit.level == "town" and scope.covers(code)} | set(figures["towns"])
        empty = sla_figures([], end)["overall"]
        rows = []
        for town in sorted(towns):
            fig = figures["towns"].get(town, empty)
            ack, resolve = fig["time_to_acknowledge_s"], fig["time_to_resolve_s"]
            county = _county_of(town)
            rows.append({
                "county_code": county, "county_name": names.get(county, county),
                "town_code": town, "town_name": names.get(town, town), "alerts": fig["alerts"],
                "acknowledged": fig["acknowledged"], "resolved": fig["resolved"],
                "ack_p50_min": None if ack["p50"] is None else round(ack["p50"] / 60, 1),
                "ack_within_target": ack["within_target"],
                "ack_open_past_target": ack["open_past_target"],
                "resolve_p50_h": None if resolve["p50"] is None
                else round(resolve["p50"] / 3600, 1),
                "resolve_within_target": resolve["within_target"],
                "resolve_open_past_target": resolve["open_past_target"]})
        return {"report": "mediation_sla", "from": iso(start), "to": end_iso,
                "overall": figures["overall"], "rows": rows}

    # --- open work ------------------------------------------------------------------------------
    def open_work(self, scope: Scope, stale_days: int = STALE_DEVICE_DAYS) -> dict:
        """Open review tasks by kind, unresolved conflicts, open quarantine entries by their
        first problem code, devices not heard from for `stale_days` days."""
        review = self.couch.database(self.names.review)
        tasks: dict[str, int] = {}
        for doc in review.docs_with_prefix("review:"):
            villages = doc.get("villages") or [doc.get("village_code")]
            if doc.get("type") == "review_task" and doc.get("state") == "open" \
                    and any(scope.covers(code) for code in villages):
                tasks[doc.get("kind") or "other"] = tasks.get(doc.get("kind") or "other", 0) + 1
        conflicted = 0
        for village in self._villages(scope):
            try:
                conflicted += len(self.conflicts.conflicted_ids(village))
            except (NotFound, CouchError):
                continue  # a village without a database (or design document) yet
        quarantined: dict[str, int] = {}
        for entry in self.quarantine.open_entries(scope.prefix):
            if scope.covers(entry.get("village_code")):
                codes = entry.get("codes") or ["other"]
                reason = codes[0] if isinstance(codes, list) else codes
                quarantined[str(reason)] = quarantined.get(str(reason), 0) + 1
        stale = [d for d in self.devices.stale(timedelta(days=stale_days), scope.prefix)
                 if scope.covers(d.get("village_code"))]
        rows = [{"category": "review_task", "kind": kind, "count": n}
                for kind, n in sorted(tasks.items())]
        rows.append({"category": "conflict", "kind": "unresolved", "count": conflicted})
        rows += [{"category": "quarantine", "kind": kind, "count": n}
                 for kind, n in sorted(quarantined.items())]
        rows.append({"category": "stale_device", "kind": f"no_contact_{stale_days}d",
                     "count": len(stale)})
        return {"report": "open_work", "stale_days": stale_days,
                "totals": {"review_tasks": sum(tasks.values()), "conflicts": conflicted,
                           "quarantine": sum(quarantined.values()), "stale_devices": len(stale)},
                "stale_devices": [{k: d.get(k) for k in ("device_id", "username", "village_code",
                                                         "platform", "app_version",
                                                         "last_contact")} for d in stale],
                "rows": rows}


# --- tables for downloads -------------------------------------------------------------------------
def _cell(name: str, key: str, value: object, lang: str) -> object:
    en = lang == "en"
    if value is None:
        return ""
    if key == "failing_indicators":
        return (text("values.list_separator", lang) or ", ").join(
            INDICATOR_LABELS.get(v, (v, v))[en] for v in value)
    if key == "below_income_line":
        return render("values.yes" if value else "values.no", lang)
    if key == "level":
        return LEVEL_LABELS.get(value, (value, value))[en]
    if key == "category":
        return CATEGORY_LABELS.get(value, (value, value))[en]
    if key == "kind":
        return kind_label(str(value), lang)
    if key == "income_per_capita_yuan" and isinstance(value, (int, float)):
        return round(float(value), 2)
    return value


KIND_LABELS = pairs("reports.kinds")
TITLES = pairs("reports.titles")
SHEETS = pairs("reports.sheets")
MONEY_KEYS = frozenset({"income_per_capita_yuan"})


def kind_label(kind: str, lang: str = "zh") -> str:
    """The name of a kind of open work (a review task's kind, a quarantine reason, a stale
    device rule) as people say it."""
    en = lang == "en"
    if kind in KIND_LABELS:
        return KIND_LABELS[kind][en]
    if kind.startswith("no_contact_") and kind.endswith("d"):
        days = kind[len("no_contact_"):-1]
        return render("reports.no_contact_days", lang, days=days)
    text = message(kind, lang)
    return text if text and text != kind else kind


def totals_row(report: dict, name: str, lang: str = "zh") -> list[object]:
    """The 合计 (total) line of a report's table, aligned with its columns."""
    columns = [key for key, _, _ in COLUMNS[name]]
    rows = report["rows"]
    if name == "coverage":  # the top level only: lower levels are inside it
        top = next((level for level in ("county", "town", "village")
                    if any(r.get("level") == level for r in rows)), None)
        rows = [r for r in rows if r.get("level") == top]
    summed = {"coverage": ("households", "verified", "not_verified"),
              "mediation_sla": ("alerts", "acknowledged", "resolved", "ack_within_target",
                                "ack_open_past_target", "resolve_within_target",
                                "resolve_open_past_target"),
              "open_work": ("count",), "lifted_but_failing": ()}[name]
    total = {key: sum(int(r.get(key) or 0) for r in rows) for key in summed}
    if name == "coverage" and total.get("households"):
        total["coverage_pct"] = round(100 * total["verified"] / total["households"], 1)
    if name == "lifted_but_failing":
        total["head_name"] = render("reports.households_n", lang, n=len(rows))
    line = [total.get(key, "") for key in columns]
    line[0] = render("reports.total", lang)
    return line


def table(report: dict, name: str, lang: str = "zh") -> tuple[list[str], list[list[object]]]:
    """The header (zh or en) and rows of a report, for CSV and XLSX."""
    columns = COLUMNS[name]
    header = [en if lang == "en" else zh for _, zh, en in columns]
    rows = [[_cell(name, key, row.get(key), lang) for key, _, _ in columns]
            for row in report["rows"]]
    return header, rows

