"""Hybrid logical clock stamps: causally ordered, close to wall time, and sortable as strings.

A stamp is "PPPPPPPPPPPPP-CCCCC-node": physical milliseconds since the epoch (13 digits), a
counter (5 digits) and the id of the node that made it (a device id, or a server name). Fixed
widths make string order equal to (physical, counter, node) order, so CouchDB views and plain
`max()` sort stamps correctly. Phone clocks are wrong: the counter keeps causality when a clock
stands still or goes back, and `receive` refuses remote stamps implausibly far ahead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PHYSICAL_DIGITS = 13
COUNTER_DIGITS = 5
MAX_COUNTER = 10 ** COUNTER_DIGITS - 1
# ASCII digits only, whole string only: `\d` takes full-width digits, which sort after every ASCII
# stamp (a stamp that wins every merge), and `$` takes a trailing newline
NODE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
STAMP_RE = re.compile(r"([0-9]{13})-([0-9]{5})-([A-Za-z0-9_.:-]{1,64})")
# a remote clock this far ahead of ours is a wrong clock, not news from the future
DEFAULT_MAX_DRIFT_MS = 24 * 3600 * 1000
# the stamp given to values that existed before stamps did (migrated v1 households):
# lower than any real stamp, so any real edit wins a merge against it
MIGRATED = "0000000000000-00000-migrated"


class ClockDriftError(ValueError):
    """A remote stamp is further ahead of the local clock than the allowed drift."""


@dataclass(frozen=True, order=True)
class Stamp:
    """A parsed stamp; compares like its string form."""
    physical_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        physical = str(self.physical_ms).zfill(PHYSICAL_DIGITS)
        return f"{physical}-{str(self.counter).zfill(COUNTER_DIGITS)}-{self.node}"


def parse(stamp: str) -> Stamp:
    """The parts of a stamp string; raises ValueError if it is not one."""
    match = STAMP_RE.fullmatch(stamp) if isinstance(stamp, str) else None
    if not match:
        raise ValueError(f"not a hybrid logical clock stamp: {stamp!r}")
    return Stamp(int(match.group(1)), int(match.group(2)), match.group(3))


def is_stamp(value: object) -> bool:
    """Whether `value` is a well-formed stamp string."""
    return isinstance(value, str) and STAMP_RE.fullmatch(value) is not None


def _make(physical_ms: int, counter: int, node: str) -> str:
    if not NODE_RE.fullmatch(node or ""):
        raise ValueError(f"not a valid node id: {node!r}")
    if counter > MAX_COUNTER:  # the counter is full: borrow a millisecond, order is kept
        physical_ms, counter = physical_ms + 1, 0
    return str(Stamp(physical_ms, counter, node))


def tick(now_ms: int, last: str | None, node: str) -> str:
    """The stamp for a local event at wall time `now_ms`, after the node's `last` stamp."""
    if last is None:
        return _make(now_ms, 0, node)
    previous = parse(last)
    if now_ms > previous.physical_ms:
        return _make(now_ms, 0, node)
    return _make(previous.physical_ms, previous.counter + 1, node)


def receive(now_ms: int, last: str | None, remote: str, node: str,
            max_drift_ms: int = DEFAULT_MAX_DRIFT_MS) -> str:
    """The node's stamp after seeing `remote`; raises ClockDriftError for a far-future remote."""
    seen = parse(remote)
    if seen.physical_ms - now_ms > max_drift_ms:
        raise ClockDriftError(remote)
    previous = parse(last) if last is not None else Stamp(0, 0, node)
    physical = max(now_ms, previous.physical_ms, seen.physical_ms)
    if physical == previous.physical_ms == seen.physical_ms:
        counter = max(previous.counter, seen.counter) + 1
    elif physical == previous.physical_ms:
        counter = previous.counter + 1
    elif physical == seen.physical_ms:
        counter = seen.counter + 1
    else:
        counter = 0
    return _make(physical, counter, node)


def compare(a: str | None, b: str | None) -> int:
    """-1, 0 or 1 as stamp `a` is before, equal to or after `b`; a missing stamp is the earliest."""
    left, right = a or "", b or ""
    return (left > right) - (left < right)


def latest(*stamps: str | None) -> str | None:
    """The latest of some stamps, ignoring missing ones."""
    present = [stamp for stamp in stamps if stamp]
    return max(present) if present else None


def is_ahead(stamp: str, now_ms: int, tolerance_ms: int = DEFAULT_MAX_DRIFT_MS) -> bool:
    """Whether a stamp claims a time more than `tolerance_ms` after `now_ms` (a wrong clock)."""
    return parse(stamp).physical_ms - now_ms > tolerance_ms
