"""How views reach the wired services and the request's language."""
from __future__ import annotations

from flask import current_app, request

from models.messages import normalise_lang

EXTENSION_KEY = "fieldsync"


def services():
    """The Services object the app factory attached to this app."""
    return current_app.extensions[EXTENSION_KEY]


def request_lang() -> str:
    """`?lang=en|zh` wins; else the Accept-Language header; else Simplified Chinese."""
    explicit = request.args.get("lang")
    if explicit:
        return normalise_lang(explicit)
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh-CN")
    return normalise_lang(best)
