"""Settings, read from FIELDSYNC_* environment variables (docs/operations.md lists them all)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

from sync.couch.client import IAM_TOKEN_URL


def setting(default: object, env: str, doc: str, secret: bool = False, kind: type | None = None):
    """One configurable value: its default, its FIELDSYNC_<env> variable and what it does. The
    table of these is the one place settings are listed: parsing, child processes' environment
    and the table in docs/operations.md (`python -m server.config`) all come from it."""
    return field(default=default, repr=not secret,
                 metadata={"env": env, "doc": doc, "kind": kind or type(default)})


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one fieldsync process."""
    couchdb_url: str | None = setting(
        None, "COUCHDB_URL", "unset: start the embedded pouchdb-server. URL of Apache CouchDB 3.x or "
        "Cloudant; credentials may be in the URL (`https://user:pass@host`)", kind=str)
    couchdb_user: str | None = setting(None, "COUCHDB_USER", "admin user, if not in the URL", kind=str)
    couchdb_password: str | None = setting(None, "COUCHDB_PASSWORD", "its password", secret=True,
                                           kind=str)
    couchdb_iam_api_key: str | None = setting(
        None, "COUCHDB_IAM_API_KEY", "Cloudant: an IBM Cloud IAM API key, used instead of basic auth "
        "(exchanged for a bearer token, refreshed before it expires)", secret=True, kind=str)
    couchdb_iam_token_url: str = setting(IAM_TOKEN_URL, "COUCHDB_IAM_TOKEN_URL",
                                         "where the IAM API key is exchanged for a token")
    couchdb_connections: int = setting(40, "COUCHDB_CONNECTIONS", "requests at CouchDB at once per "
                                       "process, besides one held feed per watched village and "
                                       "the process's own feeds; more wait for a free connection")
    couchdb_upload_connections: int = setting(20, "COUCHDB_UPLOAD_CONNECTIONS", "of those, kept for "
                                              "devices' uploads and what they set off (alerts): "
                                              "never waiting behind devices' reads")
    couchdb_wait_s: float = setting(10.0, "COUCHDB_WAIT_S", "longest wait for a free connection "
                                    "(then 503 `couchdb_busy` with Retry-After)")
    db_prefix: str = setting("fieldsync_", "DB_PREFIX",
                             "prefix of every database name (`[a-z][a-z0-9_]*`)")
    data_dir: Path = setting(Path("var"), "DATA_DIR",
                             "embedded server's data, generated keys, runtime file", kind=Path)
    http_host: str = setting("127.0.0.1", "HTTP_HOST", "where the web process listens")
    http_port: int = setting(8000, "HTTP_PORT", "its port")
    web_workers: int = setting(1, "WEB_WORKERS", "gunicorn worker processes of `web` (gevent: each "
                               "serves thousands of idle connections; budgets below are per process)")
    max_connections: int = setting(10_000, "MAX_CONNECTIONS", "open client connections per web "
                                   "process (gunicorn `worker_connections`; needs as many open files)")
    header_timeout_s: float = setting(5.0, "HEADER_TIMEOUT_S", "a request line and headers must "
                                      "arrive within this, and an idle keep-alive connection closes")
    io_timeout_s: float = setting(15.0, "IO_TIMEOUT_S", "a connection's read (request body) or "
                                  "write that makes no progress for this long is dropped")
    embedded_couchdb_port: int = setting(0, "EMBEDDED_COUCHDB_PORT",
                                         "port of the embedded server (127.0.0.1; 0: a free port)")
    secret_key: str | None = setting(
        None, "SECRET_KEY", "signs device tokens: required by `web` and `worker`, identical for "
        "every web process (`run` generates one in the data dir)", secret=True, kind=str)
    id_hash_key: str | None = setting(
        None, "ID_HASH_KEY", "keys the ID-number hashes (household search, duplicates): required, "
        "stable for the life of the data (`run` generates one)", secret=True, kind=str)
    proxy_hops: int = setting(0, "PROXY_HOPS",
                              "reverse proxies in front whose X-Forwarded-For is trusted")
    heartbeat_interval_s: float = setting(10.0, "HEARTBEAT_INTERVAL_S", "worker heartbeat period")
    heartbeat_stale_s: float = setting(60.0, "HEARTBEAT_STALE_S",
                                       "heartbeat age after which `/healthz` says unhealthy")
    log_level: str = setting("INFO", "LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR")
    lang: str = setting("zh", "LANG", "language of command-line messages (`zh` or `en`; "
                        "`--lang` overrides)")
    max_request_mb: float = setting(32.0, "MAX_REQUEST_MB", "largest request body (413 above)")
    max_attachment_mb: float = setting(9.5, "MAX_ATTACHMENT_MB",
                                       "largest attachment a device may push (refused per document; "
                                       "MiB: 9.5 stays under Cloudant's 10 MB)")
    max_photo_megapixels: float = setting(24.0, "MAX_PHOTO_MEGAPIXELS",
                                          "photos with more pixels are refused before decoding")
    longpoll_cap_s: float = setting(30.0, "LONGPOLL_CAP_S", "longest `_changes` longpoll wait")
    max_held_longpolls: int = setting(5000, "MAX_HELD_LONGPOLLS",
                                      "device `_changes` longpolls waiting at once per web process "
                                      "(503 `too_many_waiting` above)")
    max_held_per_account: int = setting(4, "MAX_HELD_PER_ACCOUNT", "of those, per account (503 "
                                        "`too_many_waiting_account` above: a runaway phone)")
    max_reads_per_account: int = setting(6, "MAX_READS_PER_ACCOUNT", "device reads streaming "
                                         "back at once per account, each holding a CouchDB "
                                         "connection; more wait up to `COUCHDB_WAIT_S` for a "
                                         "turn, then 503 `too_many_reads_account`")
    # mediation alerts (docs/alerts.md)
    webhook_url: str | None = setting(None, "WEBHOOK_URL", "mediation alert webhook", kind=str)
    webhook_secret: str | None = setting(None, "WEBHOOK_SECRET", "its HMAC-SHA256 key",
                                         secret=True, kind=str)
    smtp_host: str | None = setting(None, "SMTP_HOST", "SMTP relay for alert e-mail (to accounts' "
                                    "`email`); unset: no e-mail", kind=str)
    smtp_port: int = setting(25, "SMTP_PORT", "its port")
    smtp_from: str = setting("fieldsync@localhost", "SMTP_FROM", "sender address")
    smtp_user: str | None = setting(None, "SMTP_USER", "SMTP login", kind=str)
    smtp_password: str | None = setting(None, "SMTP_PASSWORD", "SMTP password", secret=True, kind=str)
    smtp_starttls: bool = setting(False, "SMTP_STARTTLS", "use STARTTLS")
    escalation_chain: str | None = setting(None, "ESCALATION_CHAIN", "JSON list of escalation steps "
                                           "([alerts.md](alerts.md)); unset: the default chain", kind=str)
    alert_sweep_interval_s: float = setting(5.0, "ALERT_SWEEP_INTERVAL_S",
                                            "worker: sweep for requests written past the gateway")
    delivery_interval_s: float = setting(1.0, "DELIVERY_INTERVAL_S", "worker: outbox period")
    escalation_interval_s: float = setting(15.0, "ESCALATION_INTERVAL_S",
                                           "worker: escalation checks")
    lockout_purge_interval_s: float = setting(3600.0, "LOCKOUT_PURGE_INTERVAL_S", "worker: how often "
                                              "login-failure counters that lock nothing and are a "
                                              "day past their last failure are deleted")
    delivery_lease_s: float = setting(60.0, "DELIVERY_LEASE_S", "how long a claimed delivery stays "
                                      "reserved for the worker sending it")
    alert_inline_dispatch: bool = setting(True, "ALERT_INLINE_DISPATCH", "the web process sends a "
                                          "new alert's deliveries at once (else the worker, ~1 s)")
    max_alert_streams: int = setting(500, "MAX_ALERT_STREAMS",
                                     "open alert streams (SSE) per web process (503 above)")
    max_streams_per_account: int = setting(8, "MAX_STREAMS_PER_ACCOUNT", "of those, per account "
                                           "(503 `too_many_streams_account` above)")
    min_app_version: str = setting("1.0.0", "MIN_APP_VERSION",
                                   "apps sending an older `X-App-Version` get 426")
    income_line_yuan: float = setting(4000.0, "INCOME_LINE_YUAN", "reports: a household marked "
                                      "已脱贫 with a yearly income per person below it is listed")
    full_pass_s: float = setting(1800.0, "FULL_PASS_S", "how often the worker's village feeds look "
                                 "at every village database (writes made straight into CouchDB)")
    timezone: str = setting("Asia/Shanghai", "TIMEZONE", "the time zone of every displayed time "
                            "and of report dates (an IANA name)")

    @property
    def embedded(self) -> bool:
        """Whether this installation runs its own CouchDB-compatible server."""
        return not self.couchdb_url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Build settings from the environment; keyword overrides win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for spec in fields(cls):
            raw = env.get(f"FIELDSYNC_{spec.metadata['env']}") or None
            if raw is not None:
                values[spec.name] = _parse(spec.metadata["kind"], raw)
        if "log_level" in values:
            values["log_level"] = str(values["log_level"]).upper()
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def missing_keys(self) -> list[str]:
        """The key variables a web or worker process needs and does not have."""
        return [name for name, value in (("FIELDSYNC_SECRET_KEY", self.secret_key),
                                          ("FIELDSYNC_ID_HASH_KEY", self.id_hash_key)) if not value]

    def with_couchdb(self, url: str, user: str | None, password: str | None) -> "Settings":
        """These settings pointed at a given CouchDB server."""
        return replace(self, couchdb_url=url, couchdb_user=user, couchdb_password=password)

    def child_env(self) -> dict[str, str]:
        """Environment variables that give a child process these same settings."""
        out = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is not None:
                out[f"FIELDSYNC_{spec.metadata['env']}"] = _format(value)
        return out


def _parse(kind: type, raw: str) -> object:
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return kind(raw)


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def settings_table() -> str:
    """The settings as the Markdown table of docs/operations.md."""
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    for spec in fields(Settings):
        default = "unset" if spec.default is None else f"`{_format(spec.default)}`"
        lines.append(f"| `FIELDSYNC_{spec.metadata['env']}` | {default} | {spec.metadata['doc']} |")
    return "\n".join(lines) + "\n"


KEY_FILES = {"secret_key": "secret_key", "id_hash_key": "id_hash_key"}  # field: file in <data_dir>/keys


def stored_keys(settings: Settings) -> Settings:
    """`fieldsync run` only: keys not given in the environment are read from <data_dir>/keys/,
    generated there (0600, in a 0700 directory) the first time, and reused on every later start."""
    folder = settings.data_dir / "keys"
    values: dict[str, str] = {}
    for name, filename in KEY_FILES.items():
        if getattr(settings, name):
            continue
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        path = folder / filename
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            values[name] = path.read_text(encoding="ascii").strip()
            if values[name]:
                continue
            descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC)  # left empty by a crash
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            values[name] = secrets.token_hex(32)
            out.write(values[name] + "\n")
    return replace(settings, **values) if values else settings


if __name__ == "__main__":  # python -m server.config: the table for docs/operations.md
    print(settings_table(), end="")
