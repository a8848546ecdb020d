"""Authorship: a device document written through /sync is signed by the account that writes it.

A visit names its `cadre` and `device_id`, a mediation request its `source` (channel, device,
cadre), a case event its `actor` (username, role, device). The gateway knows who is writing: the
authenticated principal, and its device when it signed in with a device token (a password proves
no device); the villagers' page files its requests through the gateway as the principal
`villager-online` (role `villager`, no account has it), and only a `villager_online` request
naming no cadre passes as that. So, per document (docs/validation-rules.md, "Who wrote it"):

| what arrives                                                     | code                   |
|------------------------------------------------------------------|------------------------|
| a first revision naming another account (or none, or the wrong   | `author_not_signed_in` |
|   role of a case event's actor)                                   |                        |
| a first revision naming another device than the token's           | `device_not_signed_in` |
| a mediation request whose channel is not `cadre_device`           | `channel_not_device`   |
| a later revision (a correction) whose author is not the stored one | `author_changed`       |

A correction keeps who first recorded the document: the schemas record no editor apart from
the author, and any cadre of the village may correct a quarantined record (a colleague's too);
who wrote each revision is in the audit trail. Both are checked in sync/gateway/written_once.py,
which knows whether the server holds the document (a phone's first upload of a record it edited
offline is its first revision on the server, whatever its generation).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sync.directory.access import Principal


def _part(doc: dict, name: str) -> dict:
    return doc[name] if isinstance(doc.get(name), dict) else {}


def _visit(doc: dict) -> tuple:
    return doc.get("cadre"), doc.get("device_id")


def _request(doc: dict) -> tuple:
    source = _part(doc, "source")
    return source.get("cadre"), source.get("device_id")


def _event(doc: dict) -> tuple:
    actor = _part(doc, "actor")
    return actor.get("username"), actor.get("device_id")


VILLAGER = "villager"  # mobile_api/public_api.py's principal; no account has this role

# doc type -> (who wrote it, on which device); the members that say so, for comparing revisions
AUTHOR_OF = {"verification_visit": _visit, "mediation_request": _request, "case_event": _event}
AUTHOR_MEMBERS = {"verification_visit": ("cadre", "device_id"), "mediation_request": ("source",),
                  "case_event": ("actor",)}


def _actor_role(principal: "Principal") -> str:
    return "cadre" if principal.role == "cadre" else "official"


def author_problem(doc: dict, doc_type: str, principal: "Principal | None") -> tuple[str, dict] | None:
    """The refusal code (and its parameters) for a first revision not signed by `principal`."""
    author_of = AUTHOR_OF.get(doc_type)
    if author_of is None or principal is None:
        return None
    author, device = author_of(doc)
    if principal.role == VILLAGER:  # the villagers' page files through the gateway too
        online = doc_type == "mediation_request" and author is None and device is None and \
            _part(doc, "source").get("channel") == "villager_online"
        return None if online else ("author_not_signed_in", {"author": author or "-",
                                                             "account": principal.username})
    if doc_type == "mediation_request" and _part(doc, "source").get("channel") != "cadre_device":
        return "channel_not_device", {}
    role_ok = doc_type != "case_event" or _part(doc, "actor").get("role") == _actor_role(principal)
    if author != principal.username or not role_ok:
        return "author_not_signed_in", {"author": author if isinstance(author, str) else "-",
                                        "account": principal.username}
    # a case event may be recorded without a device; a visit and a request always name one
    if principal.device_id and device != principal.device_id and \
            (device is not None or doc_type != "case_event"):
        return "device_not_signed_in", {"device": device if isinstance(device, str) else "-",
                                        "signed_device": principal.device_id}
    return None


def author_kept(doc: dict, stored: dict, doc_type: str) -> bool:
    """Whether a later revision names the same author as the stored revision it builds on."""
    return all(doc.get(name) == stored.get(name) for name in AUTHOR_MEMBERS.get(doc_type, ()))
