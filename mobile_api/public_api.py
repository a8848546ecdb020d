"""The villagers' side (群众端): filing a mediation request online without an account.

The request is validated, rate-limited per IP address and per phone number, then stored in the
village database through the same gateway path as a device's write, so it gets the same audit
entry and raises the same alert. The villager gets a receipt number (models/receipts.py) and
looks up the progress with it and the phone they gave; the list of towns and villages to file
for is public too.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError

from mobile_api.context import services
from mobile_api.errors import ApiError
from mobile_api.json_body import request_json
from mobile_api.rate_limit import SharedWindow
from models.identity import normalise_phone
from models.doc_ids import alert_id
from models.messages import both
from models.receipts import new_receipt, normalise_receipt, progress, request_id_of, same_phone, shown
from models.registry import load_input
from models.validation import describe_errors
from sync.directory.access import Principal
from sync.gateway.forwarding import SyncRequest

log = logging.getLogger("fieldsync.public")
bp = Blueprint("public", __name__, url_prefix="/api/v1/public")

def _windows() -> dict[str, SharedWindow]:
    """This app's limits: 10 filings an hour per IP address, 3 a day per phone number; counted
    in CouchDB, so every web process behind one address gives the same answer."""
    state = services().state_db
    return current_app.extensions.setdefault("fieldsync_public_limits", {
        "ip": SharedWindow(state, "ip", limit=10, window_s=3600),
        "phone": SharedWindow(state, "phone", limit=3, window_s=24 * 3600),
        # lookups: 30 an hour per IP address (guessing receipts), 10 a day per receipt (guessing
        # the phone that goes with one)
        "lookup_ip": SharedWindow(state, "lookup_ip", limit=30, window_s=3600),
        "lookup_receipt": SharedWindow(state, "lookup_receipt", limit=10, window_s=24 * 3600)})

FORM_FIELDS = ("applicant", "other_parties", "category", "description",
               "amount_in_dispute_fen", "urgency")


def _limited(window: SharedWindow, key: str) -> None:
    wait = window.hit(key)
    if wait is not None:
        raise ApiError(429, "rate_limited", None, {"Retry-After": str(wait)}, retry_after=wait)


@bp.post("/mediation-requests")
def file_mediation_request():
    """File a mediation request for a village; answers 201 with the request id."""
    payload = request_json()
    village = str(payload.get("village_code", ""))
    svc = services()
    unknown = sorted(set(payload) - set(FORM_FIELDS) - {"village_code"})
    receipt = _unused_receipt(svc)
    doc = {"_id": request_id_of(receipt), "type": "mediation_request", "schema_version": 2,
           "village_code": village,
           "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "source": {"channel": "villager_online"},
           **{k: payload[k] for k in FORM_FIELDS if k in payload}}
    try:
        load_input("mediation_request", doc)
        problems = []
    except ValidationError as exc:
        problems = describe_errors(exc.normalized_messages())
    problems += [{"field": name, "code": "unknown_field", "message": both("unknown_field")}
                 for name in unknown]
    if not svc.village_exists(village):
        problems.append({"field": "village_code", "code": "village_unknown",
                         "message": both("village_unknown", village=village)})
    if problems:
        raise ApiError(422, "validation_failed", problems)
    _limited(_windows()["ip"], request.remote_addr or "-")
    _limited(_windows()["phone"], normalise_phone(doc["applicant"]["phone"]) or doc["applicant"]["phone"])
    filing = SyncRequest(method="POST", village=village, segments=["_bulk_docs"],
                         body=json.dumps({"docs": [doc]}, ensure_ascii=False).encode(),
                         content_type="application/json",
                         principal=Principal("villager-online", "villager", village),
                         request_id=uuid.uuid4().hex, device={"id": None})
    answer = svc.gateway.handle(filing)
    results = json.loads(b"".join(answer.body))
    errors = [r for r in results if r.get("error")]
    if errors:
        log.error("online mediation request %s not stored: %s", doc["_id"], errors)
        raise ApiError(503, "couchdb_unavailable", None, {"Retry-After": "30"})
    log.info("online mediation request %s filed for village %s", doc["_id"], village)
    return jsonify({"ok": True, "id": doc["_id"], "village_code": village,
                    "receipt": shown(receipt)}), 201


def _unused_receipt(svc) -> str:
    """A receipt whose request id has no alert yet (two receipts sharing 50 random bits are
    unlikely; alert ids are global, so a repeat would leave the second request unalerted)."""
    for _ in range(3):
        receipt = new_receipt()
        if svc.alerts.store.get(alert_id(request_id_of(receipt))) is None:
            return receipt
    raise ApiError(503, "couchdb_unavailable", None, {"Retry-After": "30"})


LOOKUP_FIELDS = {"receipt", "phone"}


@bp.post("/mediation-requests/lookup")
def look_up_mediation_request():
    """The progress of one's own request, by receipt number and the applicant's phone. A wrong
    phone answers exactly as an unknown receipt does (404 `receipt_not_found`)."""
    _limited(_windows()["lookup_ip"], request.remote_addr or "-")
    payload = request_json()
    problems = [{"field": name, "code": "unknown_field", "message": both("unknown_field")}
                for name in sorted(set(payload) - LOOKUP_FIELDS)]
    receipt = normalise_receipt(payload.get("receipt"))
    if receipt is None:
        problems.append({"field": "receipt", "code": "receipt_format",
                         "message": both("receipt_format")})
    if not isinstance(payload.get("phone"), str) or normalise_phone(payload["phone"]) is None:
        problems.append({"field": "phone", "code": "phone_format", "message": both("phone_format")})
    if problems:
        raise ApiError(422, "validation_failed", problems)
    _limited(_windows()["lookup_receipt"], receipt)
    alert = services().alerts.store.get(alert_id(request_id_of(receipt)))
    if alert is None or alert.get("channel") != "villager_online" \
            or not same_phone(payload["phone"], alert.get("applicant_phone")):
        raise ApiError(404, "receipt_not_found")
    return jsonify(progress(alert, receipt))


@bp.get("/villages")
def public_villages():
    """The towns and their villages one can file for (names and codes, nothing else)."""
    cache = current_app.extensions.setdefault("fieldsync_public_villages", {})
    now = time.monotonic()
    if not cache or now - cache["at"] > 60:
        cache.update(at=now, towns=_towns(services().directory.jurisdictions()))
    response = jsonify({"towns": cache["towns"]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _towns(jurisdictions: dict) -> list[dict]:
    towns: dict[str, dict] = {}
    for code, place in sorted(jurisdictions.items()):
        town = jurisdictions.get(place.parent or "")
        if place.level != "village" or town is None or town.level != "town":
            continue
        county = jurisdictions.get(town.parent or "")
        entry = towns.setdefault(town.code, {"code": town.code, "name": town.name,
                                             "county_name": county.name if county else None,
                                             "villages": []})
        entry["villages"].append({"code": code, "name": place.name})
    return sorted(towns.values(), key=lambda town: town["code"])
