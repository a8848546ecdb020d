"""Security headers on every answer of the web app: pages, the API, the sync gateway, assets.

The policy allows scripts, styles and connections from the app's own origin only, and no inline
script, style or event handler (the pages' templates and the Vite build under /app are external
files). `frame-ancestors 'none'` and `X-Frame-Options: DENY` keep the pages out of frames;
`nosniff` makes browsers honour the declared type (an attachment is never run as a page);
`no-referrer` keeps tokens and ids in URLs out of other sites' logs.
"""
from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
    "connect-src 'self'", "font-src 'self'", "worker-src 'self'", "manifest-src 'self'",
    "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# what the database server or a library may add that names software, versions or internals
IDENTITY_PREFIXES = ("server", "x-powered-by", "x-couch")


def secure(response: Response) -> Response:
    """Set the security headers on one response; drop headers naming the software behind."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    for name in [k for k in response.headers.keys() if k.lower().startswith(IDENTITY_PREFIXES)]:
        response.headers.pop(name, None)
    return response


def init_app(app: Flask) -> None:
    """Register the headers for every response of `app`, errors included."""
    app.after_request(secure)
