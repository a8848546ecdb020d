"""Payloads of the session API: logging a device in, renewing its token."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

DEVICE_ID_PATTERN = r"[A-Za-z0-9._:-]{4,64}\Z"  # \Z: `$` lets "…\n" through


class LoginSchema(Schema):
    """`POST /api/v1/login`: an account's credentials and the device asking."""

    class Meta:
        unknown = RAISE

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    device_id = fields.String(required=True, validate=validate.Regexp(DEVICE_ID_PATTERN))
    platform = fields.String(load_default=None, validate=validate.Length(max=40))
    app_version = fields.String(load_default=None, validate=validate.Length(max=40))


class RenewSchema(Schema):
    """`POST /api/v1/token/renew`: an optional body with what the device runs now."""

    class Meta:
        unknown = RAISE

    platform = fields.String(load_default=None, validate=validate.Length(max=40))
    app_version = fields.String(load_default=None, validate=validate.Length(max=40))


login_schema = LoginSchema()
renew_schema = RenewSchema()


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    """'1.4.2' -> (1, 4, 2); None for anything that is not dotted numbers."""
    try:
        return tuple(int(part) for part in (version or "").split("."))
    except ValueError:
        return None


def is_supported(app_version: str | None, minimum: str) -> bool:
    """Whether an app version is at least `minimum`; an unreadable version is not judged."""
    have, need = version_tuple(app_version), version_tuple(minimum)
    return have is None or need is None or have >= need
