"""The server's clock as stored in documents: one format for every timestamp fieldsync writes."""
from __future__ import annotations

import time
from datetime import datetime, timezone


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_ms() -> int:
    """The current time in milliseconds since the epoch (the unit of HLC stamps)."""
    return time.time_ns() // 1_000_000
