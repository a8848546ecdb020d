"""A cadre uploads a photo of a verification visit through the API (instead of syncing it).

`POST /api/v1/villages/<village>/docs/<visit id>/photos[?name=<attachment name>]` with the image
as the body (`image/jpeg`, `image/png`, `image/webp`, `image/heif`, `application/octet-stream`)
or as the form field `photo` of a `multipart/form-data` body. The photo is stored as an attachment
of the visit and processed by the worker like a synced one (sync/photos/upload.py).
"""
from __future__ import annotations

import hashlib
import uuid

from flask import Blueprint, jsonify, request

from mobile_api.auth import current_principal, login_required
from mobile_api.context import services
from mobile_api.errors import ApiError
from mobile_api.path_ids import checked_document
from models.messages import both, size_limit
from sync.directory.access import AccessDenied, authorize_village
from sync.photos.upload import PhotoUploadRequest, UploadRefused
from sync.photos.checks import image_media_type
from sync.gateway.paths import ATTACHMENT_RE

bp = Blueprint("photo_upload", __name__, url_prefix="/api/v1/villages")
RAW_TYPES = ("image/", "application/octet-stream")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heif": "heic"}
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the photo


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, "attachment_too_large", size=size, limit=size_limit(limit))


def _photo_bytes(limit: int) -> tuple[bytes, str | None]:
    """The photo and the file name the client gave (multipart only), within `limit` bytes."""
    declared = request.content_length or 0
    if request.mimetype == "multipart/form-data":
        if declared > limit + MULTIPART_SLACK:
            raise _too_large(declared, limit)
        part = request.files.get("photo")
        if part is None:
            raise ApiError(400, "photo_missing")
        data = part.read(limit + 1)
        filename = part.filename
    elif request.mimetype.startswith(RAW_TYPES):
        if declared > limit:
            raise _too_large(declared, limit)
        data, filename = request.get_data(cache=False), None
    else:
        raise ApiError(415, "photo_content_type", content_type=request.mimetype or "-")
    if len(data) > limit:
        raise _too_large(len(data), limit)
    if not data:
        raise ApiError(400, "photo_missing")
    return data, filename


def _attachment_name(data: bytes, filename: str | None) -> str:
    """`?name=` (checked), else the multipart file name if usable, else one from the content."""
    name = request.args.get("name")
    if name is not None:
        if not ATTACHMENT_RE.fullmatch(name):  # the device contract's attachment names
            raise ApiError(422, "validation_failed", [{
                "field": "name", "code": "invalid_format", "message": both("invalid_format")}])
        return name
    if filename and ATTACHMENT_RE.fullmatch(filename):
        return filename
    extension = EXTENSIONS.get(image_media_type(data) or "", "img")
    return f"photo-{hashlib.sha256(data).hexdigest()[:12]}.{extension}"


@bp.post("/<village>/docs/<doc_id>/photos")
@login_required
def upload_photo(village: str, doc_id: str):
    """Store one photo of a visit of the cadre's own village; the worker processes it."""
    checked_document(village, doc_id)
    svc = services()
    principal = current_principal()
    try:
        authorize_village(principal, village)
    except AccessDenied as exc:
        raise ApiError(exc.status, exc.code, **exc.params) from None
    if not svc.village_exists(village):
        raise ApiError(404, "village_unknown", village=village)
    data, filename = _photo_bytes(svc.gateway.limits.max_attachment_bytes)
    device = {"id": principal.device_id or request.headers.get("X-Device-Id"),
              "platform": request.headers.get("X-Device-Platform"),
              "app_version": request.headers.get("X-App-Version")}
    upload = PhotoUploadRequest(principal=principal, village=village, doc_id=doc_id,
                                name=_attachment_name(data, filename), data=data,
                                request_id=request.headers.get("X-Request-Id") or uuid.uuid4().hex,
                                device=device)
    try:
        answer = svc.photo_uploads.store(upload)
    except UploadRefused as exc:
        raise ApiError(exc.status, exc.code, **exc.params) from None
    return jsonify(answer), 201 if answer["created"] else 200
