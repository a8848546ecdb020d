"""Attachments are photos: the types a device may store, and how the gateway serves them.

A write with any other type is refused per document (sync/gateway/screening.py,
`attachment_type`). What is served comes from the app's origin, so an attachment stored with
another type (before that rule, or written past the gateway) is served as an opaque download,
never as something a browser would render or run.
"""
from __future__ import annotations

from urllib.parse import quote

# the photo formats the worker checks (sync/photos/checks.py)
ATTACHMENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heif", "image/heic"})


def media_type(content_type: object) -> str:
    """The bare, lower-case media type of a Content-Type value ("" when there is none)."""
    return str(content_type or "").split(";", 1)[0].strip().lower()


def served_headers(status: int, headers: dict[str, str], name: str) -> dict[str, str]:
    """The headers an attachment answer goes out with: its stored photo type shown inline, any
    other type as `application/octet-stream` to download; `nosniff` either way."""
    if status >= 300:
        return headers
    out = {k: v for k, v in headers.items()
           if k.lower() not in ("content-type", "content-disposition")}
    stored = media_type(next((v for k, v in headers.items() if k.lower() == "content-type"), ""))
    filename = quote(name.rsplit("/", 1)[-1], safe="")
    if stored in ATTACHMENT_TYPES:
        out.update({"Content-Type": stored,
                    "Content-Disposition": f"inline; filename*=UTF-8''{filename}"})
    else:
        out.update({"Content-Type": "application/octet-stream",
                    "Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})
    out["X-Content-Type-Options"] = "nosniff"
    return out
