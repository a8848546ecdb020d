"""Who is calling, and may they touch this village? Authentication and authorisation.

Credentials are HTTP Basic: a username with either the account's password or a device token
(sync/directory/tokens.py). `POST /api/v1/login` takes a password only; a token is renewed by
its own endpoint. Every request re-reads the account (from the per-process cache that the
directory's changes feed keeps fresh), so a disabled account, a reset password or a revoked
device stops working on its very next request, and `recheck` ends held streams within seconds.

Password checks are scrypt (~50 ms) and counted per (account, source address) and per account
in CouchDB before they are made (sync/directory/lockout.py), so parallel guesses and several web
processes get the same limits. An unknown username runs the same path with a dummy hash and gets
the same answer as a wrong password. A password that verified recently is remembered for a few
minutes per source address, keyed by the stored hash (a password reset forgets it): repeated
requests of a device that syncs with its password cost no CouchDB request; a stranger's guesses
from another address never meet the entry, and a wrong password from the same address drops it.

The scrypt call goes through `run_blocking(function, args)`: the web process (server/serve.py)
hands it to a small pool of OS threads (scrypt releases the GIL), so a check costs the waiting
request 50 ms and every other connection nothing; elsewhere it is a plain call.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from models.accounts import hash_password, verify_password
from models.hierarchy import is_within
from sync.directory.cache import AccountCache
from sync.directory.lockout import Locked, LoginThrottle
from sync.directory.store import Directory
from sync.directory.tokens import TOKEN_PREFIX, TOKEN_TTL_S, TokenSigner  # noqa: F401 (re-exported)


class AccessDenied(Exception):
    """Authentication (401), lock (429) or authorisation (403) failed; `code` is a message code."""

    def __init__(self, status: int, code: str, /, **params: object):
        super().__init__(code)
        self.status, self.code, self.params = status, code, params


@dataclass(frozen=True)
class Principal:
    """An authenticated account, and how it proved itself (to check it again later)."""
    username: str
    role: str
    jurisdiction: str
    sync_grants: tuple[str, ...] = ()
    device_id: str | None = None
    generation: int = 0                 # the account's token generation when authenticated
    issued_at: int | None = None        # token only: claims `iat` (ms) and `exp` (s)
    expires_at: int | None = None

    def may_sync(self, village: str) -> bool:
        """A cadre syncs their own village; anyone else only villages granted to them."""
        if self.role == "cadre" and self.jurisdiction == village:
            return True
        return village in self.sync_grants

    def may_see(self, code: str) -> bool:
        """Whether `code` lies in this account's jurisdiction subtree."""
        return is_within(code, self.jurisdiction)


class _VerifiedPasswords:
    """A small LRU of (username, source, stored hash, password digest) that verified recently."""

    def __init__(self, size: int = 4096, ttl_s: float = 300.0):
        self.size, self.ttl_s = size, ttl_s
        self._entries: OrderedDict[tuple, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, source: str, stored_hash: str, password: str) -> tuple:
        return username, source, stored_hash, hashlib.sha256(password.encode()).digest()

    def recent(self, username: str, source: str, stored_hash: str, password: str) -> bool:
        with self._lock:
            seen = self._entries.get(self._key(username, source, stored_hash, password))
        return seen is not None and time.monotonic() - seen < self.ttl_s

    def forget(self, username: str, source: str) -> None:
        """A wrong password came from this source: its next right one is checked afresh."""
        with self._lock:
            for key in [k for k in self._entries if k[:2] == (username, source)]:
                del self._entries[key]

    def remember(self, username: str, source: str, stored_hash: str, password: str) -> None:
        key = self._key(username, source, stored_hash, password)
        with self._lock:
            self._entries[key] = time.monotonic()
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def run_here(function: Callable[..., Any], args: tuple) -> Any:
    """Run a blocking call in the calling thread (the default of Authenticator.run_blocking)."""
    return function(*args)


class Authenticator:
    """Checks Basic credentials (password or device token) against the directory."""

    def __init__(self, directory: Directory, secret_key: str, throttle: LoginThrottle,
                 run_blocking: Callable[[Callable[..., Any], tuple], Any] = run_here):
        self.directory, self.throttle, self.run_blocking = directory, throttle, run_blocking
        self.accounts = AccountCache(directory.db)
        self.tokens = TokenSigner(secret_key)
        self._verified = _VerifiedPasswords()

    @cached_property
    def _dummy_hash(self) -> str:
        """What an unknown username's password is checked against (same cost as a real one)."""
        return self.run_blocking(hash_password, (secrets.token_urlsafe(16),))

    def issue_token(self, account: dict, device_id: str | None, now: float | None = None) -> str:
        """A signed token naming the account, its token generation, the device and an expiry."""
        return self.tokens.issue(account, device_id, now)[0]

    # --- authentication -----------------------------------------------------------------------
    def authenticate(self, username: str, secret: str, source: str = "-") -> Principal:
        """The principal for a password or a device token; raises AccessDenied otherwise."""
        if secret.startswith(TOKEN_PREFIX):
            return self.authenticate_token(username, secret)
        return self.authenticate_password(username, secret, source)

    def authenticate_password(self, username: str, password: str, source: str = "-") -> Principal:
        """A password check, counted against (account, source) before it is made."""
        account = self.accounts.get(username) if username else None
        stored = (account or {}).get("password_hash") or ""
        remembered = (username, source, stored)
        if account and stored and self._verified.recent(*remembered, password):
            # verified from this very source a moment ago, and no wrong one from it since (the
            # entry is per source: a stranger's guesses never meet it): no CouchDB request
            return self._password_principal(account)
        try:
            self.throttle.check(username, source)
            attempt = self.throttle.reserve(username, source)
        except Locked as exc:
            raise AccessDenied(429, "account_locked", retry_after=exc.retry_after) from None
        right = self.run_blocking(verify_password, (password, stored or self._dummy_hash))
        if not (right and account and stored):
            self._verified.forget(username, source)
            try:
                locks_for = self.throttle.failed(attempt)
            except Locked as exc:
                locks_for = exc.retry_after
            if locks_for:
                raise AccessDenied(429, "account_locked", retry_after=int(locks_for))
            raise AccessDenied(401, "invalid_credentials")
        try:
            self.throttle.succeeded(attempt)
        except Locked:
            pass  # the counter kept changing: the password was right all the same
        self._verified.remember(*remembered, password)
        return self._password_principal(account)

    def _password_principal(self, account: dict) -> Principal:
        if account.get("disabled"):
            raise AccessDenied(401, "account_disabled")
        return self._principal(account)

    def authenticate_token(self, username: str, token: str) -> Principal:
        """A device token's principal. A forged token looks like a wrong password; only a
        token this service signed may learn that it was revoked or has expired."""
        if not token.startswith(TOKEN_PREFIX):
            raise AccessDenied(401, "token_required")
        claims = self.tokens.claims(token)
        account = self.accounts.get(username) if claims and claims.get("u") == username else None
        if account is None:
            raise AccessDenied(401, "invalid_credentials")
        principal = self._principal(account, device_id=claims.get("d"),
                                    generation=claims.get("g"), issued_at=claims.get("iat", 0),
                                    expires_at=claims.get("exp", 0))
        self._check_live(account, principal)
        return principal

    def recheck(self, principal: Principal) -> None:
        """Raise AccessDenied if this principal would no longer be let in (held streams)."""
        account = self.accounts.get(principal.username)
        if account is None:
            raise AccessDenied(401, "account_disabled")
        self._check_live(account, principal)
        if (account["role"], account["jurisdiction"]) != (principal.role, principal.jurisdiction):
            raise AccessDenied(401, "token_revoked")

    @staticmethod
    def _check_live(account: dict, principal: Principal) -> None:
        if account.get("disabled"):
            raise AccessDenied(401, "account_disabled")
        if principal.generation != account.get("token_generation", 0):
            raise AccessDenied(401, "token_revoked")
        if principal.issued_at is None:
            return  # a password principal
        if principal.expires_at < time.time():
            raise AccessDenied(401, "token_expired")
        device = principal.device_id
        readmitted = (account.get("device_tokens_after") or {}).get(device, 0) if device else 0
        if device and (device in (account.get("revoked_devices") or ()) or
                       principal.issued_at < readmitted):
            raise AccessDenied(401, "token_revoked")

    @staticmethod
    def _principal(account: dict, **token: object) -> Principal:
        token.setdefault("generation", account.get("token_generation", 0))
        return Principal(username=account["username"], role=account["role"],
                         jurisdiction=account["jurisdiction"],
                         sync_grants=tuple(account.get("sync_grants") or ()), **token)

    def authenticate_basic(self, header: str | None, source: str = "-") -> Principal:
        """Parse an `Authorization: Basic ...` header and authenticate it."""
        username, secret = parse_basic(header)
        return self.authenticate(username, secret, source)


def parse_basic(header: str | None) -> tuple[str, str]:
    """(username, secret) of an `Authorization: Basic ...` header; AccessDenied(401) otherwise."""
    if not header or not header.lower().startswith("basic "):
        raise AccessDenied(401, "unauthorized")
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise AccessDenied(401, "unauthorized") from None
    username, _, secret = decoded.partition(":")
    if not username or not secret:  # no account has an empty name or password: not a guess
        raise AccessDenied(401, "unauthorized")
    return username, secret


def authorize_village(principal: Principal, village: str) -> None:
    """Raise AccessDenied(403) unless the principal may replicate this village's database."""
    if not principal.may_sync(village):
        raise AccessDenied(403, "village_forbidden", village=village,
                           own=principal.jurisdiction)
