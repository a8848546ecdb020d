"""The directory database: jurisdictions and accounts, read and written."""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from marshmallow import ValidationError

from models.accounts import account_doc_id, hash_password, stored_account_schema
from models.hierarchy import Jurisdiction, jurisdiction_doc_id
from sync.clock import utc_now
from sync.couch.client import Database
from sync.directory.tokens import TOKEN_TTL_S


class _Listeners:
    """Callbacks told the username of every account this process changes (weakly held)."""

    def __init__(self) -> None:
        self._methods: list[weakref.WeakMethod] = []

    def add(self, method) -> None:
        self._methods = [m for m in self._methods if m() is not None] + [weakref.WeakMethod(method)]

    def notify(self, username: str) -> None:
        for ref in list(self._methods):
            method = ref()
            if method is not None:
                method(username)


ACCOUNT_LISTENERS = _Listeners()


class UnknownAccount(LookupError):
    """No account has that username."""


@dataclass
class Directory:
    """Jurisdictions and accounts, stored in the directory database."""
    db: Database

    # --- jurisdictions -------------------------------------------------------------------
    def jurisdictions(self) -> dict[str, Jurisdiction]:
        """Every jurisdiction, by code."""
        return {doc["code"]: Jurisdiction(doc["code"], doc["name"], doc["level"], doc.get("parent"))
                for doc in self.db.docs_with_prefix("jurisdiction:")}

    def jurisdiction(self, code: str) -> Jurisdiction | None:
        """One jurisdiction, or None."""
        doc = self.db.get_or_none(jurisdiction_doc_id(code))
        if doc is None:
            return None
        return Jurisdiction(doc["code"], doc["name"], doc["level"], doc.get("parent"))

    def villages(self) -> list[str]:
        """The codes of every provisioned village (the registry of village databases)."""
        return sorted(code for code, j in self.jurisdictions().items() if j.level == "village")

    # --- accounts --------------------------------------------------------------------------
    def account_docs(self) -> dict[str, dict]:
        """Every account document, by username."""
        return {doc["username"]: doc for doc in self.db.docs_with_prefix("account:")}

    def account(self, username: str) -> dict | None:
        """One account document (with its password hash), or None."""
        return self.db.get_or_none(account_doc_id(username))

    def require_account(self, username: str) -> dict:
        """One account document; raises UnknownAccount."""
        doc = self.account(username)
        if doc is None:
            raise UnknownAccount(username)
        return doc

    def add_account(self, values: dict, password: str) -> dict:
        """Create an account; raises sync.couch.client.Conflict when the username is taken."""
        now = utc_now()
        doc = {"_id": account_doc_id(values["username"]), "type": "account", "schema_version": 1,
               **{k: v for k, v in values.items() if k != "password"},
               "password_hash": hash_password(password), "token_generation": 0,
               "created_at": now, "updated_at": now}
        try:
            stored_account_schema.load(doc)
        except ValidationError as exc:  # a programming error: callers validate first
            raise ValueError(exc.normalized_messages()) from exc
        self.db.put(doc)
        return doc

    def update_account(self, username: str, **changes: object) -> dict:
        """Change fields of an account; bumping token_generation revokes its tokens."""
        doc = self.require_account(username)
        doc.update(changes, updated_at=utc_now())
        self.db.put(doc)
        ACCOUNT_LISTENERS.notify(username)
        return doc

    def set_disabled(self, username: str, disabled: bool) -> dict:
        """Disable or re-enable an account; disabling also revokes its tokens."""
        doc = self.require_account(username)
        generation = doc.get("token_generation", 0) + (1 if disabled else 0)
        return self.update_account(username, disabled=disabled, token_generation=generation)

    def revoke_device(self, username: str, device_id: str) -> dict:
        """Revoke the tokens of one device of an account (its other devices keep working).
        The device stays out until the account logs in on it with its password; its tokens
        issued before now stay dead even then (`device_tokens_after`, kept for a token's life)."""
        doc = self.require_account(username)
        revoked = [d for d in doc.get("revoked_devices") or [] if d != device_id] + [device_id]
        now_ms = int(time.time() * 1000)
        after = {device: at for device, at in (doc.get("device_tokens_after") or {}).items()
                 if now_ms - at < (TOKEN_TTL_S + 86400) * 1000}
        after[device_id] = now_ms
        return self.update_account(username, revoked_devices=revoked[-500:],
                                   device_tokens_after=after)

    def readmit_device(self, username: str, device_id: str) -> None:
        """Let a revoked device in again: called only when the account logs in on it with its
        password (never for a token)."""
        doc = self.require_account(username)
        if device_id in (doc.get("revoked_devices") or []):
            self.update_account(username, revoked_devices=[
                d for d in doc["revoked_devices"] if d != device_id])

    def reset_password(self, username: str, password: str) -> dict:
        """Set a new password and revoke every token issued under the old one."""
        doc = self.require_account(username)
        return self.update_account(username, password_hash=hash_password(password),
                                   token_generation=doc.get("token_generation", 0) + 1,
                                   password_changed_at=utc_now())
