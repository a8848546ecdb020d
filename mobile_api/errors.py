"""JSON errors: HTTP status + machine-readable code + message in the caller's language.

Body: {"error": code, "message": text, "messages": {"zh": ..., "en": ...}, "details": [...]}.
`reason` mirrors `message` so CouchDB clients (PouchDB) show it too.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from mobile_api.context import request_lang
from models.messages import both, message
from sync.couch.client import BadPath, Busy, Unavailable

log = logging.getLogger("fieldsync.api")

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large"}


class ApiError(Exception):
    """Raise from a view to answer with a documented JSON error."""

    def __init__(self, status: int, code: str, details: list | None = None,
                 headers: dict | None = None, /, **params: object):
        super().__init__(code)
        self.status, self.code, self.details = status, code, details or []
        self.headers, self.params = headers or {}, params


def error_response(status: int, code: str, details: list | None = None,
                   headers: dict | None = None, /, **params: object):
    """Build the JSON error response."""
    text = message(code, request_lang(), **params)
    body = {"error": code, "message": text, "reason": text,
            "messages": both(code, **params), "details": details or []}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer every error, including Flask's own 404/405/413, with the JSON error body."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.details, exc.headers, **exc.params)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = HTTP_CODES.get(exc.code or 500, "bad_request")
        params = {}
        if exc.code == 413:
            params["limit"] = f"{app.config.get('MAX_CONTENT_LENGTH') or 0} bytes"
        return error_response(exc.code or 500, code, **params)

    @app.errorhandler(BadPath)
    def _bad_path(exc: BadPath):
        # the client refused to send a path with a dot segment, backslash or NUL: the id came
        # from the request (a route that forgot to check it), so it is the caller's 400
        log.warning("refused path: %s", exc)
        return error_response(400, "bad_path")

    @app.errorhandler(Busy)
    def _couch_busy(exc: Busy):  # every connection of the pool in use: busy, not down
        log.warning("CouchDB busy: %s", exc)
        return error_response(503, "couchdb_busy", None, {"Retry-After": "2"})

    @app.errorhandler(Unavailable)
    def _couch_down(exc: Unavailable):
        log.error("CouchDB unavailable: %s", exc)
        return error_response(503, "couchdb_unavailable", None, {"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error")
