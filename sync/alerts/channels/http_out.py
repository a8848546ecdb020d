"""Outgoing HTTP that is not CouchDB (webhooks), with the standard library only.

`requests` stays inside sync/couch/client.py; this module is the one place that posts to the
outside world.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class HttpAnswer:
    """What the receiver answered (status 0: no answer at all)."""
    status: int
    body: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def post_json(url: str, body: bytes, headers: dict[str, str], timeout_s: float = 10.0
              ) -> HttpAnswer:
    """POST a JSON body; never raises for HTTP or network errors, answers status 0 instead."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "fieldsync-webhook/1",
        **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return HttpAnswer(response.status, response.read(2000).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        text = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
        exc.close()
        return HttpAnswer(exc.code, text)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return HttpAnswer(0, f"{exc.__class__.__name__}: {exc}")
