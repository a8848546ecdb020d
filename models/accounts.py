"""Accounts: who may do what, where. Roles are tied to one level of the hierarchy.

Passwords are hashed with scrypt (RFC 7914, in the standard library): memory-hard, so a stolen
directory database does not give the passwords away cheaply.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates, validates_schema

from models.hierarchy import HierarchyError, level_of
from models.identity import MOBILE_RE
from models.messages import Coded, label

ROLES = ("cadre", "town_official", "county_official", "central_admin")
ROLE_LEVEL = {"cadre": "village", "town_official": "town", "county_official": "county",
              "central_admin": "city"}
ROLE_NAMES_ZH = {role: label("account_role", role) for role in ROLES}  # codes.account_role
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}\Z")  # ASCII only, no "\n" after
MIN_PASSWORD_LENGTH = 8

# scrypt cost: n=2**14, r=8 uses 16 MiB and ~50 ms per check on this class of machine
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1


def account_doc_id(username: str) -> str:
    """The id of an account's document in the directory database."""
    return f"account:{username}"


def hash_password(password: str) -> str:
    """Hash a password as `scrypt$n$r$p$salt$hash` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=64 * 1024 * 1024, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Check a password against a stored hash in constant time; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, digest = (stored or "").split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), maxmem=64 * 1024 * 1024, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def generate_password() -> str:
    """A random initial password that is easy to read out over the phone (no 0/O, 1/l)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def check_role_jurisdiction(role: str, jurisdiction: str) -> None:
    """Raise HierarchyError unless `jurisdiction` is at the level `role` works at."""
    expected = ROLE_LEVEL[role]
    if level_of(jurisdiction) != expected:
        raise HierarchyError("role_level_mismatch", role=role, level=expected)


class AccountFields(Schema):
    """Fields shared by an account as provisioned and as stored."""
    username = fields.String(required=True)
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    jurisdiction = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    email = fields.Email(allow_none=True)  # optional: where alert e-mail goes (docs/alerts.md)
    disabled = fields.Boolean(load_default=False)

    @validates("username")
    def _username(self, value: str, **_: object) -> None:
        if not USERNAME_RE.fullmatch(value):
            raise ValidationError("username_format")

    @validates("phone")
    def _phone(self, value: str | None, **_: object) -> None:
        if value and not MOBILE_RE.fullmatch(value):
            raise ValidationError("phone_format")

    @validates_schema
    def _role_level(self, data: dict, **_: object) -> None:
        role, code = data.get("role"), data.get("jurisdiction", "")
        if role not in ROLES:
            return
        try:
            check_role_jurisdiction(role, code)
        except HierarchyError as exc:
            raise ValidationError(Coded(exc.code, **exc.params), field_name="jurisdiction") from exc


class ProvisionedAccountSchema(AccountFields):
    """An account row in a provisioning file; an empty password keeps (or generates) one."""
    password = fields.String(load_default=None, allow_none=True)

    @validates("password")
    def _password(self, value: str | None, **_: object) -> None:
        if value and len(value) < MIN_PASSWORD_LENGTH:
            raise ValidationError(Coded("password_too_short", min=MIN_PASSWORD_LENGTH))


class StoredAccountSchema(AccountFields):
    """An account document in the directory database (`type: account`)."""

    class Meta:
        unknown = INCLUDE

    id = fields.String(data_key="_id")
    rev = fields.String(data_key="_rev")
    type = fields.Constant("account")
    schema_version = fields.Integer(load_default=1)
    password_hash = fields.String(load_default=None, allow_none=True)
    token_generation = fields.Integer(load_default=0)
    created_at = fields.String()
    updated_at = fields.String()


provisioned_account_schema = ProvisionedAccountSchema()
stored_account_schema = StoredAccountSchema()
