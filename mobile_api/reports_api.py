"""Reports for the central office and county officials: JSON, CSV and XLSX, and the page.

`GET /api/v1/reports/<name>?from=&to=` answers JSON; `<name>.csv` (UTF-8 with a BOM) and
`<name>.xlsx` are downloads with Chinese column headers (`?lang=en` for English). Central admins
see everything, county officials their county; anyone else gets 403. The builders are in
sync/reports/builder.py; `GET /reports` is the page (templates/reports.html, static/reports.js).
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, redirect, request

from mobile_api.auth import current_principal, login_required
from mobile_api.context import request_lang, services
from mobile_api.errors import ApiError
from mobile_api.report_files import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from models.alerts import period_start
from models.local_time import local_date, zone_of
from models.messages import render, text
from sync.reports.builder import (COLUMNS, MONEY_KEYS, REPORTS, SHEETS, TITLES, ReportDesk,
                                  ReportInputError, Scope, parse_period, table, totals_row)

bp = Blueprint("reports", __name__, url_prefix="/api/v1/reports")
page_bp = Blueprint("reports_page", __name__)
FORMATS = ("json", "csv", "xlsx")


def report_desk() -> ReportDesk:
    """The report builders over the app's services."""
    svc = services()
    return ReportDesk(svc.couch, svc.names, svc.directory, svc.alerts.store, svc.devices,
                      svc.quarantine, svc.reconciliation.resolver,
                      getattr(svc.settings, "income_line_yuan", 4000.0))


def _scope() -> Scope:
    principal = current_principal()
    scope = Scope.of(principal.role, principal.jurisdiction)
    if scope is None:
        raise ApiError(403, "forbidden")
    return scope


def display_zone():
    """The zone of displayed times and report days (FIELDSYNC_TIMEZONE)."""
    return zone_of(getattr(services().settings, "timezone", None))


def _period(name: str, now: datetime) -> tuple[datetime, datetime]:
    start, end = request.args.get("from"), request.args.get("to")
    period = request.args.get("period")
    if period and not start:  # mediation SLA like /api/v1/sla: ?period=30d
        try:
            begin = period_start(period, now)
        except ValueError:
            raise ApiError(400, "period_invalid", None, None, period=period) from None
        start = begin.isoformat() if begin else "2000-01-01"
    try:
        return parse_period(start, end, now, 30 if name == "mediation_sla" else 365, display_zone())
    except ReportInputError as exc:
        raise ApiError(400, exc.code, None, None, **exc.params) from None


@bp.get("/<name>")
@login_required
def report(name: str):
    """One report as JSON, or as a download when the name ends in .csv or .xlsx."""
    base, _, fmt = name.partition(".")
    fmt = fmt or "json"
    if base not in REPORTS:
        raise ApiError(404, "report_unknown", None, None, name=base)
    if fmt not in FORMATS:
        raise ApiError(404, "report_format_unknown", None, None, format=fmt)
    scope = _scope()
    desk = report_desk()
    start, end = _period(base, desk.clock())
    built = desk.build(base, scope, start, end)
    header, rows = table(built, base, request_lang())
    zone = display_zone()
    days = {"timezone": str(zone), "from_date": local_date(start, zone).isoformat(),
            "to_date": local_date(end, zone).isoformat()}
    if fmt == "json":  # `table`: the same header and cells as the downloads, for the page
        return jsonify({**built, "scope": scope.code, "days": days,
                        "table": {"header": header, "rows": rows}})
    lang = request_lang()
    en = lang == "en"
    office = _office(scope, en)
    made = desk.clock().astimezone(zone)
    stamp = local_date(end, zone).strftime("%Y%m%d")
    totals = totals_row(built, base, lang)
    if fmt == "csv":
        body = to_csv(header, [*rows, totals])
    else:
        zone_name = text(f"reports.zone_{str(zone).lower().replace('/', '_')}", lang) or str(zone)
        heading = [TITLES[base][en], _period_line(base, days, lang),
                   render("reports.issued", lang, office=office, made=f"{made:%Y-%m-%d %H:%M}",
                          zone=zone_name)]
        money = tuple(i for i, (key, _, _) in enumerate(COLUMNS[base]) if key in MONEY_KEYS)
        body = to_xlsx(SHEETS[base][en], header, rows, heading, totals, money)
    filename = f"{TITLES[base][en]}_{office}_{stamp}.{fmt}"
    fallback = f"fieldsync-{base}-{scope.code or 'all'}-{stamp}.{fmt}"
    return Response(body, mimetype=None, content_type=CSV_TYPE if fmt == "csv" else XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{fallback}"; '
                                                    f"filename*=UTF-8''{quote(filename)}",
                             "Cache-Control": "no-store"})


def _period_line(name: str, days: dict, lang: str) -> str:
    """统计期间 for reports over a period; 统计截至 for the snapshots (as of the last day)."""
    key = "reports.as_of" if name in ("lifted_but_failing", "open_work") else "reports.period"
    return render(key, lang, from_date=days["from_date"], to_date=days["to_date"])


def _office(scope: Scope, en: bool) -> str:
    """The issuing office (制表单位): the jurisdiction's name, or the city's data office."""
    place = services().directory.jurisdiction(scope.code) if scope.code else None
    if place is not None:
        return place.name
    cities = [j for j in services().directory.jurisdictions().values() if j.level == "city"]
    name = cities[0].name if cities else ""
    return render("reports.data_office", "en" if en else "zh", city=name)


@page_bp.get("/reports")
def reports_page():
    """The reports live in the officials' workbench."""
    return redirect("/officials#/reports")
