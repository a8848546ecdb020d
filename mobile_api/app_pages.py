"""The front end built from frontend/ (Vite): the cadres' field app at /app/ and the villagers'
page at /apply, served from the files the build wrote into mobile_api/static/app/.

Hashed assets are cached for a year; the HTML shells, the service worker and the manifest are
revalidated on every load, so a new release reaches phones on their next online start.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory

from mobile_api.errors import ApiError

BUILD_DIR = Path(__file__).resolve().parent / "static" / "app"
bp = Blueprint("app_pages", __name__)
REVALIDATED = {"index.html", "sw.js", "manifest.webmanifest"}
YEAR_S = 365 * 24 * 3600


def built_file(name: str):
    """One file of the build, with caching headers fit for it (also the officials' page,
    mobile_api/pages.py): hashed assets for a year, everything else revalidated."""
    if not (BUILD_DIR / "index.html").is_file():
        raise ApiError(503, "frontend_not_built")
    if not (BUILD_DIR / name).is_file():
        raise ApiError(404, "not_found")
    fresh = name in REVALIDATED or not name.startswith("assets/")
    response = send_from_directory(BUILD_DIR, name, max_age=0 if fresh else YEAR_S)
    if fresh:
        response.headers["Cache-Control"] = "no-cache"
    else:
        response.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
    return response


@bp.get("/app")
def app_root():
    """The field app lives under /app/ (the service worker's scope)."""
    return redirect("/app/")


@bp.get("/app/")
def field_app():
    """The cadres' field app (扶贫干部端): an offline-first PWA."""
    return built_file("index.html")


@bp.get("/apply")
def villagers_page():
    """The villagers' page (群众端): file a mediation request, follow it by receipt number."""
    return built_file("apply.html")


@bp.get("/app/<path:rest>")
def field_app_file(rest: str):
    """A file of the front-end build (scripts, styles, icons, manifest, service worker)."""
    return built_file(rest)

