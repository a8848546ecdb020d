"""The central office's review API: open review tasks, the conflict archive, duplicates, the
quarantine list, and deciding a household disagreement (the decision is written as a household
edit that syncs back).

Every official sees the review queues of their own jurisdiction: the central office everything,
a county official its towns, a town official its villages (a cross-village duplicate group is
listed for every village in it). Deciding a disagreement is for county officials and the
central office. Identity numbers are masked in every answer (4412**********1234).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from mobile_api.auth import current_principal, login_required
from mobile_api.context import services
from mobile_api.errors import ApiError
from mobile_api.json_body import request_json
from models.duplicates import mask_identity_numbers
from models.review_terms import MONEY_FIELDS, yuan_to_fen
from sync.reconcile.duplicate_decisions import dismiss_duplicate, merge_duplicate
from sync.reconcile.pipeline import MISSING_VALUE, ReviewError, decide_household_task
from sync.reconcile.review_terms import in_peoples_terms

bp = Blueprint("review", __name__, url_prefix="/api/v1/review")
VIEWER_ROLES = frozenset({"central_admin", "county_official", "town_official"})
DECIDER_ROLES = frozenset({"central_admin", "county_official"})
DUPLICATE_KINDS = ("duplicate_household", "near_duplicate_household")
MAX_LIMIT = 200


def _reviewer(roles: frozenset = VIEWER_ROLES):
    principal = current_principal()
    if principal.role not in roles:
        raise ApiError(403, "forbidden")
    return principal


def _visible(principal, doc: dict) -> bool:
    villages = doc.get("villages") or [doc.get("village_code")]
    return any(isinstance(code, str) and principal.may_see(code) for code in villages)


def _page(docs: list[dict]) -> dict:
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), MAX_LIMIT)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError:
        raise ApiError(400, "bad_request") from None
    items = _in_terms(docs[offset:offset + limit])
    return {"total": len(docs), "offset": offset, "limit": limit, "items": items}


def _review_docs(prefix: str) -> list[dict]:
    return list(services().reconciliation.review_db.docs_with_prefix(prefix))


@bp.get("/tasks")
@login_required
def tasks():
    """Review tasks (`?state=open` by default, `?kind=`), oldest first, paginated."""
    principal = _reviewer()
    state, kind = request.args.get("state", "open"), request.args.get("kind")
    found = [doc for doc in _review_docs("review:") if doc.get("type") == "review_task"
             and (state == "all" or doc.get("state") == state)
             and (kind is None or doc.get("kind") == kind) and _visible(principal, doc)]
    return jsonify(_page(sorted(found, key=lambda d: (d.get("created_at", ""), d["_id"]))))


@bp.get("/duplicates")
@login_required
def duplicates():
    """Duplicate groups: households sharing an identity number, and near-duplicates."""
    principal = _reviewer()
    found = [doc for doc in _review_docs("review:") if doc.get("kind") in DUPLICATE_KINDS
             and _visible(principal, doc)]
    return jsonify(_page(sorted(found, key=lambda d: d["_id"])))


@bp.get("/conflicts")
@login_required
def conflicts():
    """The conflict archive (`?doc_id=` for one document), paginated."""
    principal = _reviewer()
    prefix = f"conflict:{request.args['doc_id']}:" if request.args.get("doc_id") else "conflict:"
    found = [doc for doc in _review_docs(prefix) if _visible(principal, doc)]
    return jsonify(_page(sorted(found, key=lambda d: (d.get("archived_at", ""), d["_id"]))))


@bp.get("/quarantine")
@login_required
def quarantine():
    """Quarantined revisions (`?state=open` by default, or `resolved`, `all`), oldest first."""
    principal = _reviewer()
    state = request.args.get("state", "open")
    found = [doc for doc in _review_docs("quarantine:") if doc.get("type") == "quarantine_entry"
             and (state == "all" or doc.get("state") == state) and _visible(principal, doc)]
    return jsonify(_page(sorted(found, key=lambda d: (d.get("received_at", ""), d["_id"]))))


@bp.post("/tasks/<path:task_id>/decision")
@login_required
def decide(task_id: str):
    """Decide a household disagreement: `{"pick": <candidate index>}` or `{"value": ...}`."""
    principal = _reviewer(DECIDER_ROLES)
    body = request_json()
    if set(body) - {"pick", "value", "value_yuan", "notes"}:
        raise ApiError(400, "review_pick_invalid")
    desk = services().reconciliation
    task = desk.review_db.get_or_none(task_id)
    if task is None or not _visible(principal, task):
        raise ApiError(404, "review_task_unknown", task=task_id)
    if "value_yuan" in body:  # typed in yuan: converted exactly, for money fields only
        if "value" in body or task.get("field") not in MONEY_FIELDS:
            raise ApiError(400, "review_pick_invalid")
        try:
            body["value"] = yuan_to_fen(body["value_yuan"])
        except ValueError:
            raise ApiError(422, "yuan_format", None, None,
                           value=str(body["value_yuan"])[:40]) from None
    try:
        decided = decide_household_task(desk, task_id, principal.username, body.get("pick"),
                                        body.get("value", MISSING_VALUE))
    except ReviewError as exc:
        raise ApiError(exc.status, exc.code, exc.details, **exc.params) from None
    return _decided(decided)


def _in_terms(docs: list[dict]) -> list[dict]:
    """The entries in people's terms, identity numbers masked, who decided by name."""
    directory = services().directory
    names = {code: place.name for code, place in directory.jurisdictions().items()}
    deciders = {doc.get("decided_by") for doc in docs if doc.get("decided_by")}
    authors = {c["author"]["username"] for doc in docs for c in doc.get("candidates") or []
               if isinstance(c, dict) and isinstance(c.get("author"), dict)
               and isinstance(c["author"].get("username"), str)}
    people = {name: (directory.account(name) or {}).get("display_name") or name
              for name in deciders | authors}
    answered = []
    for doc in docs:
        entry = in_peoples_terms({k: v for k, v in doc.items() if k != "_rev"}, names,
                                 services().reconciliation)
        if doc.get("decided_by"):
            entry["terms"]["decided_by_name"] = people[doc["decided_by"]]
        entry["terms"]["author_names"] = {name: people[name] for name in authors & {
            (c.get("author") or {}).get("username") for c in doc.get("candidates") or []
            if isinstance(c, dict) and isinstance(c.get("author"), dict)}}
        answered.append(mask_identity_numbers(entry))
    return answered


def _decided(task: dict):
    return jsonify(_in_terms([task])[0])


def _duplicate_decision(task_id: str, decide):
    principal = _reviewer(DECIDER_ROLES)
    body = request_json()
    desk = services().reconciliation
    task = desk.review_db.get_or_none(task_id)
    if task is None or not _visible(principal, task):
        raise ApiError(404, "review_task_unknown", task=task_id)
    try:
        return _decided(decide(desk, principal.username, body))
    except ReviewError as exc:
        raise ApiError(exc.status, exc.code, exc.details, **exc.params) from None


@bp.post("/tasks/<path:task_id>/merge")
@login_required
def merge(task_id: str):
    """The same household recorded twice: `{"keep": "<village>/<household id>"}`; the others
    are merged into it (nothing lost, archived) and removed."""
    return _duplicate_decision(task_id, lambda desk, who, body: merge_duplicate(
        desk, task_id, who, str(body.get("keep") or "")))


@bp.post("/tasks/<path:task_id>/dismiss")
@login_required
def dismiss(task_id: str):
    """Different households after all: `{"reason": "..."}` closes the task."""
    return _duplicate_decision(task_id, lambda desk, who, body: dismiss_duplicate(
        desk, task_id, who, str(body.get("reason") or "")))
