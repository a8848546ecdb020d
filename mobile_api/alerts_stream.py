"""`GET /api/v1/alerts/stream`: server-sent events for the officials' page.

Events: `alert` (an alert the caller may see was raised or changed) and `inbox` (a new item in
the caller's inbox), each with the document as JSON; a comment line every `heartbeat` seconds
keeps proxies from closing the stream. Before every event and at least every RECHECK_S seconds
the caller is checked again: once the account is disabled, its password reset or the token's
device revoked, a last `ended` event (`error`: the reason code) closes the stream. The number of
open streams per process is bounded (503 `too_many_streams` beyond it).
"""
from __future__ import annotations

import json
import queue
import time
from collections import OrderedDict

from flask import Blueprint, Response, request, stream_with_context

from mobile_api.alerts_api import official
from mobile_api.context import services
from mobile_api.errors import ApiError
from models.messages import both
from sync.alerts.live import TooManyStreams
from sync.directory.access import AccessDenied

bp = Blueprint("alerts_stream", __name__, url_prefix="/api/v1")
HEARTBEAT_S = 15.0
RECHECK_S = 2.0  # how often a quiet stream checks that its account and token still hold


_encoded: OrderedDict[tuple, str] = OrderedDict()  # an event each open stream sends: encoded once
ENCODED_KEPT = 256


def _event(name: str, doc: dict) -> str:
    key = (name, doc["_id"], doc.get("_rev"))
    text = _encoded.get(key)
    if text is None:
        text = f"event: {name}\nid: {doc['_id']}\ndata: {json.dumps(doc, ensure_ascii=False)}\n\n"
        if key[2] is None:  # not a stored revision (the `ended` event): never kept
            return text
        _encoded[key] = text
        while len(_encoded) > ENCODED_KEPT:
            _encoded.popitem(last=False)
    return text


@bp.get("/alerts/stream")
def stream():
    """Live alerts and inbox items for the caller."""
    principal = official()
    live = services().alerts.live
    try:
        heartbeat = min(60.0, max(0.05, float(request.args.get("heartbeat", HEARTBEAT_S))))
        subscriber = live.subscribe(principal.username)
    except ValueError:
        raise ApiError(400, "bad_request") from None
    except TooManyStreams as exc:  # the process's budget or the account's share of it
        raise ApiError(503, exc.code, None, {"Retry-After": str(exc.retry_after)},
                       limit=exc.limit) from None

    authenticator = services().authenticator

    def events():
        try:
            yield ": connected\n\n"
            beat = time.monotonic()
            while True:
                try:
                    doc = subscriber.get(timeout=min(heartbeat, RECHECK_S))
                except queue.Empty:
                    doc = None
                try:  # cheap (the account cache): a disabled account or revoked token ends here
                    authenticator.recheck(principal)
                except AccessDenied as exc:
                    yield _event("ended", {"_id": exc.code, "error": exc.code,
                                           "messages": both(exc.code, **exc.params)})
                    return
                if doc is None:
                    if time.monotonic() - beat >= heartbeat:
                        beat = time.monotonic()
                        yield ": heartbeat\n\n"
                    continue
                if doc["type"] == "alert" and principal.may_see(doc.get("town_code", "")):
                    yield _event("alert", doc)
                elif (doc["type"] == "delivery" and doc.get("channel") == "inbox"
                      and doc.get("recipient") == principal.username
                      and doc.get("state") == "delivered"):
                    yield _event("inbox", doc)
        finally:
            live.unsubscribe(subscriber)

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
