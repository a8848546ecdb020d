"""The directory database: jurisdictions and accounts, read and written."""
from __future__ import annotations

import weakref
from dataclasses import dataclass

from marshmallow import ValidationError

from models.accounts import account_doc_id, hash_password, stored_account_schema
from models.hierarchy import Jurisdiction, jurisdiction_doc_id
from sync.clock import utc_now
from sync.couch.client import Database


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
        """Revoke the token of one device of an account (its other devices keep working)."""
        doc = self.require_account(username)
        revoked = [d for d in doc.get("revoked_devices") or [] if d != device_id] + [device_id]
        return self.update_account(username, revoked_devices=revoked[-200:])

    def readmit_device(self, username: str, device_id: str) -> None:
        """Let a revoked device log in again (called when it logs in with the password)."""
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
