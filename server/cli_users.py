"""`fieldsync user ...`: add, list, disable, enable and reset the password of one account."""
from __future__ import annotations

import click
from marshmallow import ValidationError

from models.accounts import ROLE_NAMES_ZH, generate_password, provisioned_account_schema
from models.messages import describe, message, text
from server.config import Settings
from server.runtime import couchdb_settings


def _directory(settings: Settings):
    from server.bootstrap import build_services
    from sync.directory.provisioning import ensure_server_databases
    services = build_services(settings)
    ensure_server_databases(services.couch, services.names)
    return services.directory


def role_name(role: str, lang: str) -> str:
    """A role as people read it: 村干部 in Chinese, the role code in English."""
    return ROLE_NAMES_ZH.get(role, role) if lang == "zh" else role


def _fail(settings: Settings, code: str, /, **params: object) -> None:
    raise click.ClickException(message(code, settings.lang, **params))


@click.group()
def user() -> None:
    """Manage single accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["cadre", "town_official", "county_official", "central_admin"]))
@click.option("--jurisdiction", required=True, help="12-digit division code")
@click.option("--name", "display_name", required=True, help="Display name, e.g. 陈志强")
@click.option("--phone", default=None)
@click.option("--password", default=None, help="Initial password (default: generated)")
@click.pass_obj
def add(settings: Settings, username: str, role: str, jurisdiction: str, display_name: str,
        phone: str | None, password: str | None) -> None:
    """Create an account."""
    values = {"username": username, "role": role, "jurisdiction": jurisdiction,
              "display_name": display_name, "phone": phone, "password": password}
    try:
        loaded = provisioned_account_schema.load(values)
    except ValidationError as exc:
        for field, codes in sorted(exc.normalized_messages().items()):
            for code in codes:
                click.echo(f"{field}: {describe(code, settings.lang, **values)}", err=True)
        raise click.ClickException(message("cli_account_not_created", settings.lang)) from exc
    with couchdb_settings(settings) as resolved:
        directory = _directory(resolved)
        if directory.jurisdiction(jurisdiction) is None:
            _fail(settings, "jurisdiction_unknown", code=jurisdiction)
        if directory.account(username) is not None:
            _fail(settings, "username_taken", username=username)
        initial = password or generate_password()
        from sync.directory.store import UsernameTaken
        try:
            directory.add_account(loaded, initial)
        except UsernameTaken:  # created meanwhile, or at the same time and first (a cluster)
            _fail(settings, "username_taken", username=username)
    click.echo(message("cli_account_created", settings.lang, username=username,
                       role=role_name(role, settings.lang), jurisdiction=jurisdiction))
    if not password:
        click.echo(message("cli_initial_password", settings.lang, password=initial))


@user.command("list")
@click.pass_obj
def list_accounts(settings: Settings) -> None:
    """List accounts."""
    with couchdb_settings(settings) as resolved:
        for name, doc in sorted(_directory(resolved).account_docs().items()):
            state = message("cli_state_disabled" if doc.get("disabled") else "cli_state_active",
                            settings.lang)
            click.echo(f"{name}\t{role_name(doc['role'], settings.lang)}\t{doc['jurisdiction']}\t"
                       f"{state}\t{doc.get('display_name', '')}")


def _set_disabled(settings: Settings, username: str, disabled: bool) -> None:
    from sync.directory.store import UnknownAccount
    with couchdb_settings(settings) as resolved:
        try:
            _directory(resolved).set_disabled(username, disabled)
        except UnknownAccount:
            _fail(settings, "username_unknown", username=username)
    click.echo(message("cli_account_disabled" if disabled else "cli_account_enabled",
                       settings.lang, username=username))


@user.command()
@click.argument("username")
@click.pass_obj
def disable(settings: Settings, username: str) -> None:
    """Disable an account (its tokens stop working at once)."""
    _set_disabled(settings, username, True)


@user.command()
@click.argument("username")
@click.pass_obj
def enable(settings: Settings, username: str) -> None:
    """Re-enable a disabled account."""
    _set_disabled(settings, username, False)


@user.command("reset-password")
@click.argument("username")
@click.option("--password", default=None, help="New password (default: generated)")
@click.pass_obj
def reset_password(settings: Settings, username: str, password: str | None) -> None:
    """Set a new password; tokens issued before stop working."""
    from models.accounts import MIN_PASSWORD_LENGTH
    from sync.directory.store import UnknownAccount
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        _fail(settings, "password_too_short", min=MIN_PASSWORD_LENGTH)
    new_password = password or generate_password()
    with couchdb_settings(settings) as resolved:
        try:
            _directory(resolved).reset_password(username, new_password)
        except UnknownAccount:
            _fail(settings, "username_unknown", username=username)
    click.echo(message("cli_password_reset", settings.lang, username=username))
    if not password:
        click.echo(message("cli_new_password", settings.lang, password=new_password))



def _change_grants(settings: Settings, username: str, village: str, grant: bool) -> None:
    from models.hierarchy import HierarchyError, level_of
    from sync.directory.store import UnknownAccount
    try:
        if level_of(village) != "village":
            raise HierarchyError("division_code_level", code=village, level="village")
    except HierarchyError as exc:
        _fail(settings, exc.code, **exc.params)
    with couchdb_settings(settings) as resolved:
        directory = _directory(resolved)
        if directory.jurisdiction(village) is None:
            _fail(settings, "jurisdiction_unknown", code=village)
        try:
            grants = set(directory.require_account(username).get("sync_grants") or [])
        except UnknownAccount:
            _fail(settings, "username_unknown", username=username)
        grants = grants | {village} if grant else grants - {village}
        directory.update_account(username, sync_grants=sorted(grants))
    click.echo(message("cli_sync_grants", settings.lang, username=username,
                       villages=(text("values.list_separator", settings.lang) or ", ").join(sorted(grants))
                       or message("cli_no_grants", settings.lang)))


@user.command("grant-sync")
@click.argument("username")
@click.argument("village")
@click.pass_obj
def grant_sync(settings: Settings, username: str, village: str) -> None:
    """Let an official (or a cadre covering for a colleague) replicate another village."""
    _change_grants(settings, username, village, True)


@user.command("revoke-sync")
@click.argument("username")
@click.argument("village")
@click.pass_obj
def revoke_sync(settings: Settings, username: str, village: str) -> None:
    """Withdraw a sync grant."""
    _change_grants(settings, username, village, False)
