"""The `fieldsync` command: run, web, worker, provision, user, load-demo."""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import click

from models.messages import message
from server.config import Settings
from server.runtime import couchdb_settings

log = logging.getLogger("fieldsync.cli")


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas: with one arena per (then waitress) thread, a web process's RSS grew
    ~16 MB per 5,000 synced documents without levelling off; with two it stays flat at no cost
    in speed (docs/performance.md). Same effect as MALLOC_ARENA_MAX, set from inside."""
    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 = M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _stop_on_signals(stop) -> None:
    """First SIGINT/SIGTERM: `stop()`; a second one: exit at once."""
    state = {"asked": False}

    def handler(signum, _frame):
        if state["asked"]:
            log.warning("second signal: exiting now")
            os._exit(1)
        state["asked"] = True
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@click.group()
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of messages (default: FIELDSYNC_LANG or zh).")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """fieldsync: offline-first backend for village cadres and township officials."""
    settings = Settings.from_env(**({"lang": lang} if lang else {}))
    _setup_logging(settings)
    ctx.obj = settings


@main.command()
@click.pass_obj
def web(settings: Settings) -> None:
    """Serve the web app (mobile API, sync gateway, pages): gunicorn with gevent workers."""
    _require_keys(settings)
    # a fresh interpreter: gevent must patch before anything imports ssl or threading users,
    # and this one already has (server/serve.py); exec keeps the pid a supervisor watches
    env = {**os.environ, **settings.child_env()}
    os.execve(sys.executable, [sys.executable, "-m", "server.serve"], env)


EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: a supervisor should not restart us in a loop


def _require_keys(settings: Settings) -> None:
    """web and worker never make up a key: every process must share the same ones."""
    from models.messages import message
    missing = settings.missing_keys()
    for name in missing:
        click.echo(message("key_missing", settings.lang, name=name), err=True)
    if missing:
        sys.exit(EXIT_CONFIG)


def _record_start(app) -> None:
    """Tell the workers a web process started (they then look at every village once)."""
    import socket

    from mobile_api.context import EXTENSION_KEY
    from sync.couch.client import CouchError
    try:
        app.extensions[EXTENSION_KEY].audit.record_web_start(socket.gethostname(), os.getpid())
    except CouchError as exc:  # CouchDB not up yet: the worker's periodic full pass covers it
        logging.getLogger("fieldsync.web").warning("web start not recorded: %s", exc)


@main.command()
@click.option("--jobs", default="", metavar="NAME,...",
              help="Run only these jobs (default: all), e.g. to give reconciliation a process "
                   "of its own: --jobs reconcile. Jobs: heartbeat, photos, alert_sweep, "
                   "alert_deliveries, alert_escalations, reconcile.")
@click.pass_obj
def worker(settings: Settings, jobs: str) -> None:
    """Run the worker: change processing, deliveries and scheduled jobs."""
    from server.bootstrap import build_services
    from server.worker import Worker
    _require_keys(settings)
    only = [name.strip() for name in jobs.split(",") if name.strip()]
    with couchdb_settings(settings) as resolved:
        instance = Worker(build_services(resolved), only=only)
        try:
            instance.jobs()
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--jobs") from exc
        _stop_on_signals(instance.stop)
        instance.run()


@main.command()
@click.option("--demo", is_flag=True, help="Load demo data for Zhaoqing and print demo logins.")
@click.pass_obj
def run(settings: Settings, demo: bool) -> None:
    """All in one: embedded CouchDB (unless configured) + web + worker, supervised."""
    from server.all_in_one import AllInOne
    stack = AllInOne(settings, demo=demo)
    _stop_on_signals(stack.request_stop)
    stack.run(echo=click.echo)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the files and show what would change.")
@click.pass_obj
def provision(settings: Settings, files: tuple[str, ...], dry_run: bool) -> None:
    """Load jurisdictions and accounts from CSV or JSON files (idempotent, all or nothing)."""
    from models.provisioning import ParsedFile, RowProblem, parse_file
    parsed = ParsedFile()
    for name in files:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            parsed.problems.append(RowProblem(0, "-", "file_unreadable", {"reason": str(exc)}))
            continue
        one = parse_file(name, raw)
        for problem in one.problems:
            problem.params.setdefault("file", name)
        parsed.extend(one)
    with couchdb_settings(settings) as resolved:
        _provision(resolved, parsed, dry_run, [Path(f).name for f in files])


def _provision(settings: Settings, parsed, dry_run: bool, labels: list[str]) -> None:
    from server.bootstrap import build_services
    from sync.directory.provisioning import apply_plan, ensure_server_databases, plan_provisioning
    services = build_services(settings)
    ensure_server_databases(services.couch, services.names)
    last = [0.0]

    def progress(done: int, total: int, label: str) -> None:
        if time.monotonic() - last[0] > 0.5 or done == total:
            last[0] = time.monotonic()
            what = message(f"cli_progress_{label.replace(' ', '_')}", settings.lang)
            click.echo(f"  {done}/{total} {label if what.startswith('cli_') else what}", err=True)

    # hashing a large file's passwords is the long part (~50 ms of a core each): shown as it goes
    plan = plan_provisioning(parsed, services.directory, progress)
    if plan.problems:
        for problem in plan.problems:
            click.echo(problem.describe(settings.lang), err=True)
        raise click.ClickException(message("cli_provision_problems", settings.lang,
                                           count=len(plan.problems), files=", ".join(labels)))
    if plan.changes == 0:
        click.echo(message("cli_provision_nothing", settings.lang, unchanged=plan.unchanged))
        return
    click.echo(message("cli_provision_plan", settings.lang, jurisdictions=len(plan.jurisdiction_docs),
                       accounts=len(plan.account_docs), unchanged=plan.unchanged))
    if dry_run:
        for kind, key, new, fields in plan.listing:
            click.echo("  " + message(f"cli_plan_{kind}_{'new' if new else 'changed'}", settings.lang,
                                      key=key, fields=", ".join(fields)))
        for username in plan.password_resets:
            click.echo(message("cli_plan_password_reset", settings.lang, username=username),
                       err=True)
        click.echo(message("cli_dry_run", settings.lang))
        return
    for username in plan.password_resets:
        click.echo(message("cli_plan_password_reset", settings.lang, username=username), err=True)
    apply_plan(plan, services.couch, services.names, progress)
    click.echo(message("cli_provision_done", settings.lang, changes=plan.changes))
    if plan.generated_passwords:
        click.echo(message("cli_initial_passwords", settings.lang))
        for username, password in sorted(plan.generated_passwords.items()):
            click.echo(f"  {username}\t{password}")


@main.command("load-demo")
@click.pass_obj
def load_demo(settings: Settings) -> None:
    """Load the Zhaoqing demo data into the configured server."""
    from server.bootstrap import build_services
    from server.demo import load_demo as load
    with couchdb_settings(settings) as resolved:
        changed = load(build_services(resolved))
    click.echo(message("cli_demo_loaded", settings.lang, changed=changed))


from server.cli_rosters import roster  # noqa: E402  (so does `roster`)
from server.cli_users import user  # noqa: E402  (the `user` group lives in its own module)

main.add_command(user)
main.add_command(roster)
