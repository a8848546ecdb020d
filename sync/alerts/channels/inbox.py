"""The in-app inbox: the delivered delivery document is the official's inbox item; the
officials' page lists it and the SSE stream (mobile_api/alerts_stream.py) pushes it live."""
from __future__ import annotations


class InboxChannel:
    """Every official with an account has an inbox."""
    name = "inbox"
    immediate = True

    def applies(self, account: dict) -> bool:
        """Whether this recipient can be reached on this channel."""
        return True

    def send(self, delivery: dict, alert: dict, recipient: dict | None) -> None:
        """Nothing to send: storing the delivery delivered it."""
