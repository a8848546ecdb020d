"""What a device says it still holds (docs/device-contract.md §8): sent as headers on its sync
requests, kept in its `device:<id>` document, shown to officials so an account can be disabled
or a phone replaced without losing work.

- `X-Device-Pending: <n>`: documents saved on the device that no push has carried yet;
- `X-Device-Refused: <n>`: documents the gateway refused, kept on the device (never uploaded);
- `X-Device-Seq: <seq>`: the local database's update sequence (PouchDB `info().update_seq`).

All three are optional, but a device that sends any sends `X-Device-Pending`. A malformed value
is refused (400 `device_status_format`) rather than guessed at.
"""
from __future__ import annotations

import re
from typing import Mapping

HEADERS = {"pending": "X-Device-Pending", "refused": "X-Device-Refused",
           "local_seq": "X-Device-Seq"}
COUNT_RE = re.compile(r"[0-9]{1,7}\Z")
SEQ_RE = re.compile(r"[0-9A-Za-z._-]{1,64}\Z")
FIELDS = ("pending_at_last_contact", "refused_at_last_contact", "local_seq",
          "status_reported_at", "all_uploaded_at", "holding_since")


class BadStatus(ValueError):
    """A device status header that is not what the contract says."""

    def __init__(self, header: str):
        super().__init__(header)
        self.header = header


def parse_status(headers: Mapping[str, str]) -> dict | None:
    """The status a request reports, or None when it reports none; raises BadStatus."""
    raw = {key: headers.get(name) for key, name in HEADERS.items()}
    if all(value is None for value in raw.values()):
        return None
    if raw["pending"] is None:
        raise BadStatus(HEADERS["pending"])
    status: dict = {"local_seq": None, "refused": 0}
    for key in ("pending", "refused"):
        if raw[key] is not None:
            if not COUNT_RE.match(raw[key].strip()):
                raise BadStatus(HEADERS[key])
            status[key] = int(raw[key])
    if raw["local_seq"] is not None:
        if not SEQ_RE.match(raw["local_seq"].strip()):
            raise BadStatus(HEADERS["local_seq"])
        status["local_seq"] = raw["local_seq"].strip()
    return status


def apply_status(doc: dict, status: dict, now: str) -> None:
    """Record a report in a device document: the counts at this contact, when everything was
    last uploaded (nothing pending, nothing refused), and since when the device holds work."""
    doc.update(pending_at_last_contact=status["pending"], refused_at_last_contact=status["refused"],
               local_seq=status["local_seq"], status_reported_at=now)
    if status["pending"] == 0 and status["refused"] == 0:
        doc.update(all_uploaded_at=now, holding_since=None)
    elif not doc.get("holding_since"):
        doc["holding_since"] = now


def holds_work(doc: dict) -> bool:
    """Whether a device last said it holds documents the server does not have."""
    return bool(doc.get("pending_at_last_contact") or doc.get("refused_at_last_contact"))
