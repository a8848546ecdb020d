"""Receipt numbers of mediation requests filed online (群众端), and what a villager may see of
the progress of their own request.

A receipt is 10 characters of Crockford's base32 (50 random bits, shown as `ABCDE-FGH12`). The
request's document id is derived from it (`mediation:<uuid5(NAMESPACE, receipt)>`), so nothing
has to be stored to find a request from its receipt, and the receipt cannot be read back from
the id that officials, webhooks and devices see. A lookup needs the receipt and the applicant's
phone; a wrong phone is answered exactly like an unknown receipt.
"""
from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
import uuid

from .identity import normalise_phone

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 10
NAMESPACE = uuid.UUID("5d0c8a3e-2f4b-5c1d-9e7a-6b3f0d2c1a94")
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS_RE = re.compile(r"[\s\-_.·—－]+")
STATUSES = ("received", "acknowledged", "assigned", "resolved")


def new_receipt() -> str:
    """A fresh receipt number (canonical form, no separator)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_receipt(text: object) -> str | None:
    """The canonical receipt typed in any reasonable way (case, spaces, dashes, O for 0, I or L
    for 1, full-width forms), or None if it cannot be one."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    folded = unicodedata.normalize("NFKC", text)
    canonical = _SEPARATORS_RE.sub("", folded).upper().translate(_LOOKALIKES)
    if len(canonical) != LENGTH or any(ch not in ALPHABET for ch in canonical):
        return None
    return canonical


def shown(receipt: str) -> str:
    """How a receipt is printed for people: two groups of five."""
    return f"{receipt[:5]}-{receipt[5:]}"


def request_id_of(receipt: str) -> str:
    """The id of the mediation request a (canonical) receipt was issued for."""
    return f"mediation:{uuid.uuid5(NAMESPACE, receipt)}"


def same_phone(given: object, stored: object) -> bool:
    """Whether the phone typed at a lookup is the applicant's (compared in constant time)."""
    a, b = normalise_phone(given), normalise_phone(stored)
    return a is not None and b is not None and hmac.compare_digest(a, b)


def progress(alert: dict, receipt: str) -> dict:
    """What the applicant sees of their request: the stage, when each step happened, the
    mediator's name (never the officials' notes, the other parties or anyone's phone)."""
    mediator = alert.get("mediator") or None
    if alert.get("resolved_at"):
        status = "resolved"
    elif mediator:
        status = "assigned"
    elif alert.get("acknowledged_at"):
        status = "acknowledged"
    else:
        status = "received"
    return {"receipt": shown(receipt), "status": status,
            "village_name": alert.get("village_name"), "town_name": alert.get("town_name"),
            "category": alert.get("category"), "filed_at": alert.get("received_at"),
            "acknowledged_at": alert.get("acknowledged_at"),
            "assigned_at": (mediator or {}).get("assigned_at"),
            "mediator": {"name": mediator.get("name")} if mediator else None,
            "resolved_at": alert.get("resolved_at"),
            "outcome": alert.get("outcome") if alert.get("resolved_at") else None}
