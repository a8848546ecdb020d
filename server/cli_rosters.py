"""`fieldsync roster ...`: show the duty rosters, set one, or load them from a CSV file (the
provisioning format of docs/provisioning.md). Output in the language chosen with --lang."""
from __future__ import annotations

from pathlib import Path

import click

from models.duty_roster import ROSTER_LEVELS, parse_rosters_csv, roster_problems
from models.messages import message, text
from server.config import Settings
from server.runtime import couchdb_settings


def _services(settings: Settings):
    from server.bootstrap import build_services
    from sync.directory.provisioning import ensure_server_databases
    services = build_services(settings)
    ensure_server_databases(services.couch, services.names)
    return services


@click.group()
def roster() -> None:
    """Duty rosters of towns and counties (值班表)."""


@roster.command("show")
@click.argument("code", required=False)
@click.pass_obj
def show(settings: Settings, code: str | None) -> None:
    """Show every roster, or those within one division code."""
    lang = settings.lang
    with couchdb_settings(settings) as resolved:
        services = _services(resolved)
        places = services.directory.jurisdictions()
        accounts = services.directory.account_docs()
        router = services.alerts.router
        person = lambda name: f"{(accounts.get(name) or {}).get('display_name') or name}({name})"  # noqa: E731
        none = message("roster_none", lang)
        for place_code, place in sorted(places.items()):
            if place.level not in ROSTER_LEVELS or (code and not place_code.startswith(
                    code.rstrip("0") or code)):
                continue
            doc = router.roster(place_code)
            on_duty = router.enabled(doc.get("on_duty") or [])
            sep = text("values.list_separator", lang) or ", "
            click.echo(message("roster_line", lang, place=place.name, code=place_code,
                               on_duty=sep.join(map(person, on_duty)) or none,
                               leader=person(doc["leader"]) if doc.get("leader") else none,
                               mediators=sep.join(f"{m['name']} {m['phone']}"
                                                  for m in doc.get("mediators") or []) or none))
            if not on_duty:
                click.echo("  ! " + message("nobody_on_duty", lang, place=place.name))


def _save(services, settings: Settings, code: str, wanted: dict) -> None:
    names = [*wanted["on_duty"], *([wanted["leader"]] if wanted.get("leader") else [])]
    accounts = {name: services.directory.account(name) for name in dict.fromkeys(names)}
    problems = roster_problems(code, wanted, accounts)
    if problems:
        raise click.ClickException("; ".join(message(p["code"], settings.lang, username=p["username"],
                                                     code=code) for p in problems))
    services.alerts.router.save_roster(code, wanted["on_duty"], wanted.get("leader"), "cli",
                                       wanted.get("mediators"))
    place = services.directory.jurisdiction(code)
    click.echo(message("roster_saved", settings.lang, place=place.name if place else code))


@roster.command("set")
@click.argument("code")
@click.option("--on-duty", default="", help="usernames, comma separated (empty: nobody)")
@click.option("--leader", default=None, help="username of the leader")
@click.option("--mediator", "mediators", multiple=True, metavar="'NAME PHONE'",
              help="a mediator of the town's list (repeat; omitted: the list stays)")
@click.pass_obj
def set_roster(settings: Settings, code: str, on_duty: str, leader: str | None,
               mediators: tuple[str, ...]) -> None:
    """Replace the roster of one town or county."""
    csv_text = "code,on_duty,leader,mediators\n" + ",".join([
        code, on_duty.replace(",", ";"), leader or "", ";".join(mediators)]) + "\n"
    _load(settings, csv_text, keep_mediators=not mediators)


@roster.command("load")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.pass_obj
def load(settings: Settings, file: str) -> None:
    """Set rosters from a CSV file: code,on_duty,leader,mediators."""
    _load(settings, Path(file).read_text(encoding="utf-8"))


def _load(settings: Settings, text: str, keep_mediators: bool = False) -> None:
    rows = parse_rosters_csv(text)
    bad = [r for r in rows if "error" in r]
    if bad:
        raise click.ClickException("; ".join(message(r["error"], settings.lang, line=r["line"],
                                                     code=r["code"]) for r in bad))
    with couchdb_settings(settings) as resolved:
        services = _services(resolved)
        for row in rows:
            wanted = dict(row["roster"])
            if keep_mediators:
                wanted["mediators"] = None
            _save(services, settings, row["code"], wanted)
