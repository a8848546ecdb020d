"""The directory database: jurisdictions and accounts, read and written."""
from __future__ import annotations

import json
import time
import uuid
import weakref
from dataclasses import dataclass

from marshmallow import ValidationError

from models.accounts import account_doc_id, hash_password, stored_account_schema
from models.hierarchy import Jurisdiction, jurisdiction_doc_id
from sync.clock import utc_now
from sync.cluster.directory_merges import first_creation, merge_account
from sync.cluster.read_back import live_leaves, read_back, withdraw
from sync.couch.client import Conflict, Database
from sync.directory.tokens import TOKEN_TTL_S

EDIT_ATTEMPTS = 8  # concurrent edits of one account re-read and re-applied this many times


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


class UsernameTaken(Exception):
    """Another account has (or was created at the same time with) that username."""


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
        """Create an account; raises UsernameTaken when the username is taken, also when a
        cluster accepted a concurrent create of it (201 + 202) that is the first
        (sync/cluster/directory_merges.py: the one the sweeper keeps), our leaf withdrawn."""
        now = utc_now()
        doc = {"_id": account_doc_id(values["username"]), "type": "account", "schema_version": 1,
               **{k: v for k, v in values.items() if k != "password"},
               "password_hash": hash_password(password), "token_generation": 0,
               "created_at": now, "updated_at": now, "creation": uuid.uuid4().hex}
        try:
            stored_account_schema.load(doc)
        except ValidationError as exc:  # a programming error: callers validate first
            raise ValueError(exc.normalized_messages()) from exc
        try:
            self.db.put(doc)
        except Conflict:
            raise UsernameTaken(values["username"]) from None
        # a 201 is no exclusive claim on a cluster: read back, and the later create gives way
        first = first_creation(read_back(self.db, doc))
        if all(leaf.get("creation") != doc["creation"] for leaf in first):
            withdraw(self.db, doc["_id"], doc["_rev"])
            raise UsernameTaken(values["username"])
        return doc

    def update_account(self, username: str, **changes: object) -> dict:
        """Set fields of an account (applied again to the fresh document if it changed
        meanwhile); bumping token_generation revokes its tokens."""
        return self._edit(username, lambda doc: {**doc, **changes})

    def _edit(self, username: str, change) -> dict:
        """Read, change and write an account, re-reading and re-applying `change` (which must
        decide from the document it is given) on a concurrent edit; raises UnknownAccount.

        On a cluster a concurrent edit may be accepted as well (201 + 202), and the sweeper's
        merge takes the ordinary fields from the latest edit only. So the account is read back
        and, while the merge would lose another edit's fields or ours, our change is applied
        again on top of the others' merge, later than all of them."""
        doc_id = account_doc_id(username)

        def apply(doc: dict | None, after: str = "") -> dict | None:
            if doc is None:
                raise UnknownAccount(username)
            wanted = change(json.loads(json.dumps(doc)))
            if wanted is not None:
                wanted["updated_at"] = max(utc_now(), after)
            return wanted
        stored = self.db.update(doc_id, apply, attempts=EDIT_ATTEMPTS)
        mine, written = {stored.get("_rev")}, []

        def rebase(_current: dict | None) -> dict | None:
            written[:] = [self._rebased(doc_id, mine, apply)]
            return written[0]
        for _ in range(EDIT_ATTEMPTS):
            result = self.db.update(doc_id, rebase, attempts=EDIT_ATTEMPTS)
            if written[0] is None:
                break
            stored = result
            mine.add(result["_rev"])
        else:
            raise Conflict(409, "conflict", f"{doc_id}: concurrent edits kept coming", "PUT",
                           doc_id)
        ACCOUNT_LISTENERS.notify(username)
        return stored

    def _rebased(self, doc_id: str, mine: set, apply) -> dict | None:
        """Our change applied again on top of the merge of the account's leaves that are not
        ours, later than all of them, if the sweeper's merge of every leaf would lose a field;
        None when nothing stands beside our writes or the merge keeps everything. What protects
        the account stays (a re-enable beside a disable stays disabled, as in the merge)."""
        leaves = live_leaves(self.db, doc_id)
        # a concurrent create's leaves give way whole (first_creation): never rebase on them
        others = [leaf for leaf in first_creation(leaves) if leaf["_rev"] not in mine]
        if len(leaves) < 2 or not others:
            return None
        base = merge_account(others)
        wanted = apply(base, max(str(leaf.get("updated_at") or "") for leaf in leaves))
        if wanted is None:
            return None
        wanted = merge_account([wanted, base])
        return None if _fields(wanted) == _fields(merge_account(leaves)) else wanted

    def set_disabled(self, username: str, disabled: bool) -> dict:
        """Disable or re-enable an account; disabling also revokes its tokens."""
        return self._edit(username, lambda doc: {
            **doc, "disabled": disabled,
            "token_generation": doc.get("token_generation", 0) + (1 if disabled else 0)})

    def revoke_device(self, username: str, device_id: str) -> dict:
        """Revoke the tokens of one device of an account (its other devices keep working).
        The device stays out until the account logs in on it with its password; its tokens
        issued before now stay dead even then (`device_tokens_after`, kept for a token's life)."""
        now_ms = int(time.time() * 1000)

        def revoke(doc: dict) -> dict:
            revoked = [d for d in doc.get("revoked_devices") or [] if d != device_id] + [device_id]
            after = {device: at for device, at in (doc.get("device_tokens_after") or {}).items()
                     if now_ms - at < (TOKEN_TTL_S + 86400) * 1000}
            after[device_id] = max(now_ms, after.get(device_id, 0))
            return {**doc, "revoked_devices": revoked[-500:], "device_tokens_after": after}
        return self._edit(username, revoke)

    def readmit_device(self, username: str, device_id: str) -> None:
        """Let a revoked device in again: called only when the account logs in on it with its
        password (never for a token)."""
        def readmit(doc: dict) -> dict | None:
            revoked = doc.get("revoked_devices") or []
            if device_id not in revoked:
                return None
            return {**doc, "revoked_devices": [d for d in revoked if d != device_id]}
        if device_id in (self.require_account(username).get("revoked_devices") or []):
            self._edit(username, readmit)

    def reset_password(self, username: str, password: str) -> dict:
        """Set a new password and revoke every token issued under the old one."""
        password_hash, changed_at = hash_password(password), utc_now()
        return self._edit(username, lambda doc: {
            **doc, "password_hash": password_hash, "password_changed_at": changed_at,
            "token_generation": doc.get("token_generation", 0) + 1})


def _fields(account: dict) -> dict:
    """An account's content, without revision and edit time."""
    return {k: v for k, v in account.items() if not k.startswith("_") and k != "updated_at"}
