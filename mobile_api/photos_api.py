"""Serving photo evidence: the display copy or thumbnail, orientation applied, EXIF stripped."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request

from mobile_api.auth import current_principal, login_required
from mobile_api.context import services
from mobile_api.errors import ApiError
from mobile_api.path_ids import checked_document

bp = Blueprint("photos", __name__, url_prefix="/api/v1/photos")


@bp.get("/backlog")
@login_required
def backlog():
    """How many photos wait for processing (and how many gave up)."""
    return jsonify(services().photo_desk.backlog())


@bp.get("/<village>/<doc_id>/<attachment>")
@login_required
def served_copy(village: str, doc_id: str, attachment: str):
    """`?size=display` (≤ 1600 px, default) or `?size=thumb` (≤ 256 px) JPEG of one photo."""
    checked_document(village, doc_id, attachment)
    principal = current_principal()
    if not (principal.may_sync(village) or principal.may_see(village)):
        raise ApiError(403, "forbidden")
    size = request.args.get("size", "display")
    if size not in ("display", "thumb"):
        raise ApiError(400, "bad_request")
    data = services().photo_desk.served_copy(village, doc_id, attachment, size)
    if data is None:
        raise ApiError(404, "not_found")
    filename = quote(f"{attachment.rsplit('.', 1)[0]}-{size}.jpg", safe="")
    return Response(data, mimetype="image/jpeg",
                    headers={"Cache-Control": "private, max-age=3600",
                             "Content-Disposition": f"inline; filename*=UTF-8''{filename}",
                             "X-Content-Type-Options": "nosniff"})
