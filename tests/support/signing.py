"""Example documents signed by the account that pushes them (sync/gateway/authorship.py): the
gateway refuses a first revision that names another author than the signed-in account."""
from __future__ import annotations

CADRE_ROLE = "cadre"


def signed(doc: dict, username: str, role: str = CADRE_ROLE, device_id: str | None = None) -> dict:
    """A copy of a visit, mediation request or case event that names `username` as its author
    (and `device_id`, if given, as its device); other documents are returned as they are."""
    doc_type = doc.get("type") or doc.get("_id", "").split(":")[0]
    if doc_type in ("verification_visit", "visit"):
        return {**doc, "cadre": username, **({"device_id": device_id} if device_id else {})}
    if doc_type in ("mediation_request", "mediation"):
        source = {**(doc.get("source") or {}), "channel": "cadre_device", "cadre": username}
        source["device_id"] = device_id or source.get("device_id") or "dev-7f3a9c21"
        return {**doc, "source": source}
    if doc_type == "case_event":
        actor = {"username": username, "role": "cadre" if role == CADRE_ROLE else "official",
                 "device_id": device_id if device_id else (doc.get("actor") or {}).get("device_id")}
        return {**doc, "actor": actor}
    return doc
