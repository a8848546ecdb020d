"""Device tokens: signed claims naming the account, its token generation, the device and times.

A token is `fst1.<claims>.<signature>`, the claims base64url JSON (`u` username, `g` the
account's token generation, `d` device id, `iat` issued at in milliseconds, `exp` expiry in
seconds), the signature HMAC-SHA256 under a key derived from FIELDSYNC_SECRET_KEY. Nothing about
a token is stored: it dies when the account's generation moves on (disable, password reset),
its device is revoked, or it expires.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

TOKEN_PREFIX = "fst1."
TOKEN_TTL_S = 30 * 24 * 3600  # a device token lasts 30 days; POST /api/v1/token/renew renews it


class TokenSigner:
    """Issues and reads device tokens under one secret key."""

    def __init__(self, secret_key: str):
        if not secret_key:
            raise ValueError("no secret key: set FIELDSYNC_SECRET_KEY")
        self._key = hashlib.sha256(("fieldsync-token:" + secret_key).encode()).digest()

    def issue(self, account: dict, device_id: str | None, now: float | None = None) -> tuple[str, int]:
        """A new token for this account and device, and its expiry (epoch seconds)."""
        now = time.time() if now is None else now
        claims = {"u": account["username"], "g": account.get("token_generation", 0),
                  "d": device_id, "iat": int(now * 1000), "exp": int(now + TOKEN_TTL_S)}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, body, hashlib.sha256).digest()
        return TOKEN_PREFIX + body.decode() + "." + base64.urlsafe_b64encode(signature).decode(), \
            claims["exp"]

    def claims(self, token: str) -> dict | None:
        """The claims of a token signed with this key, or None (forged, mangled, other key)."""
        try:
            body, signature = token[len(TOKEN_PREFIX):].rsplit(".", 1)
            expected = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, base64.urlsafe_b64decode(signature)):
                return None
            claims = json.loads(base64.urlsafe_b64decode(body))
        except (ValueError, TypeError):
            return None
        return claims if isinstance(claims, dict) else None
