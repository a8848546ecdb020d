"""Who is calling, and may they touch this village? Authentication and authorisation.

Credentials are HTTP Basic: a username with either the account's password or a device token
issued at login. Every request re-reads the account, so a disabled account or a revoked token
(token_generation bumped) stops working on its very next request. Password checks are scrypt
(~45 ms), so a successful check is remembered for a few minutes, keyed by the stored hash: a
password reset changes the hash and forgets the old entry.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from models.accounts import verify_password
from models.hierarchy import is_within
from sync.directory.cache import AccountCache
from sync.couch.client import CouchError
from sync.directory.store import Directory

TOKEN_PREFIX = "fst1."
TOKEN_TTL_S = 30 * 24 * 3600  # a device token lasts 30 days; logging in again renews it
LOCKOUT_FAILURES, LOCKOUT_WINDOW_S, LOCKOUT_S = 5, 900, 900  # 5 wrong passwords in 15 min


class AccessDenied(Exception):
    """Authentication (401) or authorisation (403) failed; `code` is a message code."""

    def __init__(self, status: int, code: str, /, **params: object):
        super().__init__(code)
        self.status, self.code, self.params = status, code, params


@dataclass(frozen=True)
class Principal:
    """An authenticated account."""
    username: str
    role: str
    jurisdiction: str
    sync_grants: tuple[str, ...] = ()
    device_id: str | None = None

    def may_sync(self, village: str) -> bool:
        """A cadre syncs their own village; anyone else only villages granted to them."""
        if self.role == "cadre" and self.jurisdiction == village:
            return True
        return village in self.sync_grants

    def may_see(self, code: str) -> bool:
        """Whether `code` lies in this account's jurisdiction subtree."""
        return is_within(code, self.jurisdiction)


class _VerifiedPasswords:
    """A small LRU of (username, stored hash, password digest) that verified recently."""

    def __init__(self, size: int = 4096, ttl_s: float = 300.0):
        self.size, self.ttl_s = size, ttl_s
        self._entries: OrderedDict[tuple, float] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, username: str, stored_hash: str, password: str) -> bool:
        key = (username, stored_hash, hashlib.sha256(password.encode()).digest())
        now = time.monotonic()
        with self._lock:
            seen = self._entries.get(key)
            if seen is not None and now - seen < self.ttl_s:
                return True
        if not verify_password(password, stored_hash):
            return False
        with self._lock:
            self._entries[key] = now
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return True


class Authenticator:
    """Checks Basic credentials (password or device token) against the directory."""

    def __init__(self, directory: Directory, secret_key: str):
        self.directory = directory
        self.accounts = AccountCache(directory.db)
        self._key = hashlib.sha256(("fieldsync-token:" + secret_key).encode()).digest()
        self._verified = _VerifiedPasswords()

    # --- tokens -----------------------------------------------------------------------------
    def issue_token(self, account: dict, device_id: str | None, now: float | None = None) -> str:
        """A signed token naming the account, its token generation, the device and an expiry."""
        claims = {"u": account["username"], "g": account.get("token_generation", 0),
                  "d": device_id, "exp": int((now or time.time()) + TOKEN_TTL_S)}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, body, hashlib.sha256).digest()
        return TOKEN_PREFIX + body.decode() + "." + base64.urlsafe_b64encode(signature).decode()

    def _token_claims(self, token: str) -> dict | None:
        try:
            body, signature = token[len(TOKEN_PREFIX):].rsplit(".", 1)
            expected = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, base64.urlsafe_b64decode(signature)):
                return None
            return json.loads(base64.urlsafe_b64decode(body))
        except (ValueError, TypeError):
            return None

    # --- authentication -----------------------------------------------------------------------
    def authenticate(self, username: str, secret: str) -> Principal:
        """The principal for these credentials; raises AccessDenied(401) otherwise."""
        account = self.accounts.get(username) if username else None
        if account is None:
            raise AccessDenied(401, "invalid_credentials")
        device_id = None
        if secret.startswith(TOKEN_PREFIX):
            claims = self._token_claims(secret)
            if (claims is None or claims.get("u") != username
                    or claims.get("g") != account.get("token_generation", 0)):
                raise AccessDenied(401, "token_revoked")
            if claims.get("exp", 0) < time.time():
                raise AccessDenied(401, "token_expired")
            device_id = claims.get("d")
            if device_id and device_id in (account.get("revoked_devices") or ()):
                raise AccessDenied(401, "token_revoked")
        else:
            self._check_password(account, secret)
        if account.get("disabled"):
            raise AccessDenied(401, "account_disabled")
        return Principal(username=username, role=account["role"],
                         jurisdiction=account["jurisdiction"],
                         sync_grants=tuple(account.get("sync_grants") or ()), device_id=device_id)

    def _check_password(self, account: dict, password: str) -> None:
        """Verify a password, with lockout after repeated failures (tokens are not affected,
        so a locked-out cadre's phone keeps syncing with its device token)."""
        now = time.time()
        locked_until = account.get("locked_until") or 0
        if locked_until > now:
            raise AccessDenied(429, "account_locked", retry_after=int(locked_until - now) + 1)
        if self._verified.check(account["username"], account.get("password_hash") or "", password):
            if account.get("failed_logins"):
                self._save_failures(account["username"], [], 0)
            return
        failures = [t for t in account.get("failed_logins") or [] if now - t < LOCKOUT_WINDOW_S]
        failures.append(now)
        locked = now + LOCKOUT_S if len(failures) >= LOCKOUT_FAILURES else 0
        self._save_failures(account["username"], failures[-LOCKOUT_FAILURES:], locked)
        if locked:
            raise AccessDenied(429, "account_locked", retry_after=LOCKOUT_S)
        raise AccessDenied(401, "invalid_credentials")

    def _save_failures(self, username: str, failures: list[float], locked_until: float) -> None:
        try:
            self.directory.update_account(username, failed_logins=failures,
                                          locked_until=locked_until)
        except CouchError:  # a concurrent update: the next attempt counts again
            pass

    def authenticate_basic(self, header: str | None) -> Principal:
        """Parse an `Authorization: Basic ...` header and authenticate it."""
        if not header or not header.lower().startswith("basic "):
            raise AccessDenied(401, "unauthorized")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise AccessDenied(401, "unauthorized") from None
        username, _, secret = decoded.partition(":")
        return self.authenticate(username, secret)


def authorize_village(principal: Principal, village: str) -> None:
    """Raise AccessDenied(403) unless the principal may replicate this village's database."""
    if not principal.may_sync(village):
        raise AccessDenied(403, "village_forbidden", village=village,
                           own=principal.jurisdiction)
