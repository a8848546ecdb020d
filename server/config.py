"""Settings, read from FIELDSYNC_* environment variables (docs/operations.md lists them all)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one fieldsync process."""
    couchdb_url: str | None = None          # unset: start the embedded server
    couchdb_user: str | None = None
    couchdb_password: str | None = None
    db_prefix: str = "fieldsync_"
    data_dir: Path = Path("var")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_threads: int = 16
    embedded_couchdb_port: int = 0          # 0: a free port chosen at start
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    heartbeat_interval_s: float = 10.0
    heartbeat_stale_s: float = 60.0
    log_level: str = "INFO"
    lang: str = "zh"
    max_request_mb: float = 32.0
    max_attachment_mb: float = 10.0
    longpoll_cap_s: float = 30.0
    max_held_longpolls: int = 8
    # mediation alerts (docs/alerts.md)
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "fieldsync@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    escalation_chain: str | None = None     # JSON list of steps; unset: the default chain
    alert_sweep_interval_s: float = 5.0
    delivery_interval_s: float = 1.0
    escalation_interval_s: float = 15.0
    delivery_lease_s: float = 60.0
    alert_inline_dispatch: bool = True
    max_alert_streams: int = 32
    min_app_version: str = "1.0.0"
    income_line_yuan: float = 4000.0        # reports: yearly income per person below this fails
    full_pass_s: float = 1800.0             # worker feeds: look at every village this often

    @property
    def embedded(self) -> bool:
        """Whether this installation runs its own CouchDB-compatible server."""
        return not self.couchdb_url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Build settings from the environment; keyword overrides win."""
        env = os.environ if env is None else env
        get = lambda name: env.get(f"FIELDSYNC_{name}") or None  # noqa: E731
        values: dict[str, object] = {
            "couchdb_url": get("COUCHDB_URL"),
            "couchdb_user": get("COUCHDB_USER"),
            "couchdb_password": get("COUCHDB_PASSWORD"),
            "db_prefix": get("DB_PREFIX") or cls.db_prefix,
            "data_dir": Path(get("DATA_DIR") or cls.data_dir),
            "http_host": get("HTTP_HOST") or cls.http_host,
            "http_port": int(get("HTTP_PORT") or cls.http_port),
            "http_threads": int(get("HTTP_THREADS") or cls.http_threads),
            "embedded_couchdb_port": int(get("EMBEDDED_COUCHDB_PORT") or 0),
            "heartbeat_interval_s": float(get("HEARTBEAT_INTERVAL_S") or cls.heartbeat_interval_s),
            "heartbeat_stale_s": float(get("HEARTBEAT_STALE_S") or cls.heartbeat_stale_s),
            "log_level": (get("LOG_LEVEL") or cls.log_level).upper(),
            "lang": get("LANG") or cls.lang,
            "max_request_mb": float(get("MAX_REQUEST_MB") or cls.max_request_mb),
            "max_attachment_mb": float(get("MAX_ATTACHMENT_MB") or cls.max_attachment_mb),
            "longpoll_cap_s": float(get("LONGPOLL_CAP_S") or cls.longpoll_cap_s),
            "max_held_longpolls": int(get("MAX_HELD_LONGPOLLS") or cls.max_held_longpolls),
            "min_app_version": get("MIN_APP_VERSION") or cls.min_app_version,
            "income_line_yuan": float(get("INCOME_LINE_YUAN") or cls.income_line_yuan),
            "full_pass_s": float(get("FULL_PASS_S") or cls.full_pass_s),
            **_alert_settings(cls, get),
        }
        if get("SECRET_KEY"):
            values["secret_key"] = get("SECRET_KEY")
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def with_couchdb(self, url: str, user: str | None, password: str | None) -> "Settings":
        """These settings pointed at a given CouchDB server."""
        return replace(self, couchdb_url=url, couchdb_user=user, couchdb_password=password)

    def child_env(self) -> dict[str, str]:
        """Environment variables that give a child process these same settings."""
        pairs = {"COUCHDB_URL": self.couchdb_url, "COUCHDB_USER": self.couchdb_user,
                 "COUCHDB_PASSWORD": self.couchdb_password, "DB_PREFIX": self.db_prefix,
                 "DATA_DIR": str(self.data_dir), "HTTP_HOST": self.http_host,
                 "HTTP_PORT": str(self.http_port), "HTTP_THREADS": str(self.http_threads),
                 "SECRET_KEY": self.secret_key, "LOG_LEVEL": self.log_level, "LANG": self.lang,
                 "HEARTBEAT_INTERVAL_S": str(self.heartbeat_interval_s),
                 "HEARTBEAT_STALE_S": str(self.heartbeat_stale_s),
                 "MAX_REQUEST_MB": str(self.max_request_mb),
                 "MAX_ATTACHMENT_MB": str(self.max_attachment_mb),
                 "LONGPOLL_CAP_S": str(self.longpoll_cap_s),
                 "MAX_HELD_LONGPOLLS": str(self.max_held_longpolls),
                 "MIN_APP_VERSION": self.min_app_version,
                 "INCOME_LINE_YUAN": str(self.income_line_yuan),
                 "FULL_PASS_S": str(self.full_pass_s),
                 **{name: None if value is None else str(value)
                    for name, value in alert_env(self).items()}}
        return {f"FIELDSYNC_{k}": v for k, v in pairs.items() if v is not None}


_ALERT_ENV = {  # FIELDSYNC_<name>: (field, type)
    "WEBHOOK_URL": ("webhook_url", str), "WEBHOOK_SECRET": ("webhook_secret", str),
    "SMTP_HOST": ("smtp_host", str), "SMTP_PORT": ("smtp_port", int),
    "SMTP_FROM": ("smtp_from", str), "SMTP_USER": ("smtp_user", str),
    "SMTP_PASSWORD": ("smtp_password", str), "SMTP_STARTTLS": ("smtp_starttls", bool),
    "ESCALATION_CHAIN": ("escalation_chain", str),
    "ALERT_SWEEP_INTERVAL_S": ("alert_sweep_interval_s", float),
    "DELIVERY_INTERVAL_S": ("delivery_interval_s", float),
    "ESCALATION_INTERVAL_S": ("escalation_interval_s", float),
    "DELIVERY_LEASE_S": ("delivery_lease_s", float),
    "ALERT_INLINE_DISPATCH": ("alert_inline_dispatch", bool),
    "MAX_ALERT_STREAMS": ("max_alert_streams", int),
}


def _alert_settings(cls: type, get) -> dict:
    values: dict[str, object] = {}
    for env_name, (name, kind) in _ALERT_ENV.items():
        raw = get(env_name)
        if raw is None:
            continue
        values[name] = raw.lower() in ("1", "true", "yes", "on") if kind is bool else kind(raw)
    return values


def alert_env(settings: "Settings") -> dict[str, object]:
    """The alert settings by environment name (without the FIELDSYNC_ prefix)."""
    out: dict[str, object] = {}
    for env_name, (name, kind) in _ALERT_ENV.items():
        value = getattr(settings, name)
        if kind is bool:
            value = "true" if value else "false"
        out[env_name] = value
    return out
