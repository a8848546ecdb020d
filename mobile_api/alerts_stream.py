"""`GET /api/v1/alerts/stream`: server-sent events for the officials' page.

Events: `alert` (an alert the caller may see was raised or changed) and `inbox` (a new item in
the caller's inbox), each with the document as JSON; a comment line every `heartbeat` seconds
keeps proxies from closing the stream. Events that come within GATHER_S of each other go out in
one write, each document once (its latest revision). Before every write and at least every RECHECK_S
seconds the caller is checked again: once the account is disabled, its password reset or the token's
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
BATCH = 64  # events queued for a stream at once are sent in one write, up to this many
# an event waits this long for others to share its write: with 200 pages open each event cost
# every page a wake and a write, and under a stream of requests that was most of the process's time
GATHER_S = 0.2


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


def _for(principal, docs: list[dict]) -> list[tuple[str, dict]]:
    """The events of `docs` for this caller, in order; of several revisions of one document
    queued together only the last (the page shows a document as it is now)."""
    events: dict[str, tuple[str, dict]] = {}
    for doc in docs:
        if doc["type"] == "alert" and principal.may_see(doc.get("town_code", "")):
            name = "alert"
        elif (doc["type"] == "delivery" and doc.get("channel") == "inbox"
              and doc.get("recipient") == principal.username
              and doc.get("state") == "delivered"):
            name = "inbox"
        else:
            continue
        events.pop(doc["_id"], None)  # a later revision takes the place of the earlier one
        events[doc["_id"]] = (name, doc)
    return list(events.values())


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
                    docs = [subscriber.get(timeout=min(heartbeat, RECHECK_S))]
                except queue.Empty:
                    docs = []
                if docs:  # what else comes within GATHER_S goes in the same write
                    time.sleep(GATHER_S)
                while docs and len(docs) < BATCH:
                    try:
                        docs.append(subscriber.get_nowait())
                    except queue.Empty:
                        break
                try:  # cheap (the account cache): a disabled account or revoked token ends here
                    authenticator.recheck(principal)
                except AccessDenied as exc:
                    yield _event("ended", {"_id": exc.code, "error": exc.code,
                                           "messages": both(exc.code, **exc.params)})
                    return
                if not docs:
                    if time.monotonic() - beat >= heartbeat:
                        beat = time.monotonic()
                        yield ": heartbeat\n\n"
                    continue
                text = "".join(_event(*event) for event in _for(principal, docs))
                if text:
                    yield text
        finally:
            live.unsubscribe(subscriber)

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
