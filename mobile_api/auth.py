"""Authentication for API views and the sync gateway: HTTP Basic (password or device token)."""
from __future__ import annotations

import logging
from functools import wraps

from flask import g, request

from mobile_api.context import services
from mobile_api.errors import ApiError
from sync.directory.access import AccessDenied, Principal

log = logging.getLogger("fieldsync.auth")
CHALLENGE = {"WWW-Authenticate": 'Basic realm="fieldsync", charset="UTF-8"'}


def denied(exc: AccessDenied) -> ApiError:
    """The API error for a failed authentication: a Basic challenge, or Retry-After when locked."""
    # only the sync gateway challenges (PouchDB needs it); /api never does, so a wrong password
    # on a page shows the page's error instead of the browser's credential popup
    headers = dict(CHALLENGE) if exc.status == 401 and request.path.startswith("/sync") else {}
    if "retry_after" in exc.params:
        headers["Retry-After"] = str(exc.params["retry_after"])
    return ApiError(exc.status, exc.code, None, headers, **exc.params)


def request_source() -> str:
    """The address password checks are counted against: the peer of this request (behind a
    reverse proxy, set FIELDSYNC_PROXY_HOPS so this is the client, docs/security.md)."""
    return request.remote_addr or "-"


def current_principal() -> Principal:
    """Authenticate the request (once) and return who is calling; 401 otherwise."""
    if "principal" not in g:
        try:
            g.principal = services().authenticator.authenticate_basic(
                request.headers.get("Authorization"), request_source())
        except AccessDenied as exc:
            log.info("authentication failed from %s: %s", request.remote_addr, exc.code)
            raise denied(exc) from None
    return g.principal


def login_required(view):
    """Decorator: the view runs only for an authenticated account."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        current_principal()
        return view(*args, **kwargs)
    return wrapped
