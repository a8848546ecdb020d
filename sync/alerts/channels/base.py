"""What every delivery channel shares: the failure it raises when a message did not get through."""
from __future__ import annotations


class DeliveryFailed(Exception):
    """The channel could not deliver; the message says why (kept as `last_error`)."""
