"""The hand-off from the sync gateway to the alert path: every accepted mediation request.

Listeners are called at once, in the web request that stored the request, with the village,
the document and its revision. The alert path (sync/alerts) registers here; a listener that
fails is logged and does not undo the write (the worker's sweep catches up on it).
"""
from __future__ import annotations

import logging
from typing import Callable

from models.registry import ACCEPT
from sync.clock import utc_now
from sync.gateway.screening import WriteBatch

log = logging.getLogger("fieldsync.intake")

MediationListener = Callable[[str, dict, str, str], None]  # village, doc, rev, received_at


class MediationIntake:
    """Calls its listeners for each mediation request a write stored."""

    def __init__(self, listeners: list[MediationListener] | None = None):
        self.listeners = list(listeners or [])

    def after_write(self, batch: WriteBatch) -> None:
        """After-write hook: hand accepted mediation requests to every listener."""
        received_at = utc_now()
        for entry in batch.written:
            if entry.verdict.doc_type != "mediation_request" or entry.verdict.action != ACCEPT:
                continue
            for listener in self.listeners:
                try:
                    listener(batch.request.village, entry.doc, entry.rev, received_at)
                except Exception:
                    log.exception("mediation listener %s failed for %s", listener, entry.doc_id)
