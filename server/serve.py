"""The web process: gunicorn with gevent workers (`python -m server.serve`; `fieldsync web` execs it).

This module is an entry point of its own because gevent's monkey-patching has to come before
anything imports `ssl`, `socket` or `threading` users (requests, urllib3, the account cache's
feed thread, the alert feed): here it is the first statement, in a fresh interpreter. Under it
every thread the web process starts is a greenlet and every socket cooperative, so a held
`_changes` longpoll or an officials' stream costs a socket and a few kilobytes, not a thread.

The worker class adds what gunicorn's gevent worker lacks (docs/decisions.md, section 3):
- a request line and headers must arrive within FIELDSYNC_HEADER_TIMEOUT_S (one deadline for
  the whole head, so a byte every second does not keep a connection; an idle keep-alive
  connection closes after the same time);
- every read or write of a connection (a request body, a response to a client that stopped
  reading) that makes no progress for FIELDSYNC_IO_TIMEOUT_S drops the connection.
CPU-bound work that would stop every connection of the worker for its duration runs in a small
pool of OS threads instead of on the gevent loop: the scrypt password checks (50 ms each,
hashlib releases the GIL), through the authenticator's `run_blocking`.
"""
from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402

import gevent  # noqa: E402
from gunicorn.app.base import BaseApplication  # noqa: E402
from gunicorn.workers.base_async import AsyncWorker  # noqa: E402
from gunicorn.workers.ggevent import GeventWorker  # noqa: E402
from gevent.threadpool import ThreadPool  # noqa: E402

from server.config import Settings  # noqa: E402
from mobile_api.loop_lag import LOOP_LAG_KEY, LoopLag  # noqa: E402

log = logging.getLogger("fieldsync.web")
# set in the master before workers fork (gunicorn's Config takes no settings of ours)
TIMEOUTS = {"header_s": 5.0, "io_s": 15.0}
SPARE_FILES = 200  # files a web process needs besides client sockets: CouchDB pool, logs, modules


class FieldsyncWorker(GeventWorker):
    """gunicorn's gevent worker with a deadline on the request head and an I/O timeout."""

    def handle(self, listener, client, addr):
        client.setblocking(1)
        client.settimeout(TIMEOUTS["io_s"])  # per recv/send: a stalled body or reader is dropped
        AsyncWorker.handle(self, listener, client, addr)

    def timeout_ctx(self):
        """Wraps reading each request's line and headers (keepalive > 0): silent, so a late
        head closes the connection without an answer, as a half-sent request deserves."""
        return gevent.Timeout(TIMEOUTS["header_s"], False)


def raise_open_files_limit(wanted: int) -> tuple[int, int]:
    """Raise the soft open-files limit to the hard one; log what we got and whether it covers
    `wanted` (connections + spare). Returns (soft, hard) as they now are."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    before = soft
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("open files: could not raise the soft limit %s to %s: %s", soft, target, exc)
    if soft < wanted:
        log.warning("open files: limit %s (hard %s) is below the %s this process may need "
                    "(FIELDSYNC_MAX_CONNECTIONS + %s); raise the hard limit (systemd LimitNOFILE=, "
                    "ulimit -Hn) or lower FIELDSYNC_MAX_CONNECTIONS", soft, hard, wanted, SPARE_FILES)
    else:
        log.info("open files: soft limit %s (was %s, hard %s), enough for %s", soft, before, hard,
                 wanted)
    return soft, hard


def gunicorn_options(settings: Settings) -> dict:
    """The gunicorn configuration of a web process (also used by the tests' web processes)."""
    return {
        "bind": f"{settings.http_host}:{settings.http_port}",
        "workers": settings.web_workers,
        "worker_class": FieldsyncWorker,
        "worker_connections": settings.max_connections,
        "keepalive": max(1, int(settings.header_timeout_s)),
        "timeout": 60,             # a worker whose hub is blocked this long is restarted
        "graceful_timeout": 10,
        "proc_name": "fieldsync-web",
        # X-Forwarded-* are read by the app (FIELDSYNC_PROXY_HOPS, ProxyFix), never by gunicorn
        "forwarded_allow_ips": "127.0.0.1,::1" if settings.proxy_hops else "",
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "accesslog": None,
        "control_socket_disable": True,  # one per user by default: two web processes would clash
    }


def offload_password_checks(services) -> ThreadPool:
    """Password hashing of this worker in OS threads, one per core (each check holds 16 MiB:
    more threads would only queue on the cores and cost memory). A pool of its own: gevent's
    hub pool also resolves host names, which must not wait behind a burst of logins."""
    pool = ThreadPool(max(1, os.cpu_count() or 1))
    services.authenticator.run_blocking = pool.apply
    return pool


class WebApplication(BaseApplication):
    """gunicorn, configured from Settings; each worker builds the Flask app after forking."""

    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            self.cfg.set(key, value)

    def load(self):
        from mobile_api.context import EXTENSION_KEY
        from server.app import create_app
        from server.cli import _limit_malloc_arenas, _record_start
        _limit_malloc_arenas()
        app = create_app(self.settings)
        offload_password_checks(app.extensions[EXTENSION_KEY])
        lag = app.extensions[LOOP_LAG_KEY] = LoopLag()
        gevent.spawn(lag.run, gevent.sleep)
        _record_start(app)
        return app


def main() -> None:
    """Serve until SIGTERM/SIGINT (gunicorn's master handles the signals)."""
    from server.cli import _require_keys, _setup_logging
    settings = Settings.from_env()
    _setup_logging(settings)
    _require_keys(settings)
    TIMEOUTS.update(header_s=settings.header_timeout_s, io_s=settings.io_timeout_s)
    raise_open_files_limit(settings.max_connections * settings.web_workers + SPARE_FILES)
    print(f"fieldsync web on http://{settings.http_host}:{settings.http_port}/ (gunicorn, "
          f"{settings.web_workers} gevent worker(s), {settings.max_connections} connections each)",
          flush=True)
    WebApplication(settings).run()


if __name__ == "__main__":
    main()
