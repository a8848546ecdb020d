"""People's text, in Simplified Chinese (the default) and English, read from the catalogue.

The catalogue is one JSON file per language, `models/catalogue/zh-CN.json` and `en.json`, read
by this module and by the front end (frontend/src/i18n.js): `errors` holds the API's messages by
their stable machine-readable code (what clients and tests match on), `cli` the command line's
text (looked up as `cli_<key>`), `codes` the label of every enumerated value, `fields` the names
of document fields, the other sections the pages' text. Add a message as one key in both files;
tests/unit/test_catalogue.py checks that both have the same keys and placeholders.
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")
FILES = {"zh": "zh-CN.json", "en": "en.json"}


def normalise_lang(lang: str | None) -> str:
    """Map a language tag ('en-US', 'zh-Hans-CN', None) to one of LANGS."""
    if lang and lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANG


@cache
def catalogue(lang: str = DEFAULT_LANG) -> dict:
    """The whole catalogue of one language (parsed once per process)."""
    path = resources.files("models").joinpath("catalogue", FILES[normalise_lang(lang)])
    return json.loads(path.read_text(encoding="utf-8"))


def _messages() -> dict[str, tuple[str, str]]:
    # a key missing in English falls back to Chinese here; tests/unit/test_catalogue.py fails on it
    zh, en = catalogue("zh"), catalogue("en")
    found = {code: (zh_text, en["errors"].get(code, zh_text)) for code, zh_text in zh["errors"].items()}
    found.update({f"cli_{key}": (zh_text, en["cli"].get(key, zh_text)) for key, zh_text in zh["cli"].items()})
    return found


# code: (简体中文, English), from the catalogue's `errors` and `cli` sections
CATALOGUE: dict[str, tuple[str, str]] = _messages()


def _entry(key: str, lang: str | None) -> object:
    node: object = catalogue(normalise_lang(lang))
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def text(key: str, lang: str | None = DEFAULT_LANG) -> str | None:
    """The catalogue entry at a dotted key ('fields.head'), or None when there is none."""
    node = _entry(key, lang)
    return node if isinstance(node, str) else None


def render(key: str, lang: str | None = DEFAULT_LANG, /, **params: object) -> str:
    """The catalogue entry at a dotted key with its {placeholders} filled; the key if there is none."""
    template = text(key, lang)
    return key if template is None else _filled(template, params)


def _filled(template: str, params: dict) -> str:
    """The template with its placeholders filled; as written when a parameter is missing."""
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def pairs(section: str) -> dict[str, tuple[str, str]]:
    """The texts of a catalogue section ('reports.titles') by key, as (zh, en), in catalogue order."""
    zh, en = text_section(section, "zh"), text_section(section, "en")
    return {key: (value, en.get(key, value)) for key, value in zh.items()}


def text_section(section: str, lang: str | None = DEFAULT_LANG) -> dict[str, str]:
    """The texts directly in a catalogue section, by key ({} when there is no such section)."""
    node = _entry(section, lang)
    return {k: v for k, v in node.items() if isinstance(v, str)} if isinstance(node, dict) else {}


def label(group: str, code: str, lang: str | None = DEFAULT_LANG) -> str:
    """The label of an enumerated value (`codes.<group>.<code>`); the code itself if unknown."""
    return text(f"codes.{group}.{code}", lang) or code


def codes(group: str) -> tuple[str, ...]:
    """The codes of a label group in catalogue order."""
    return tuple(catalogue(DEFAULT_LANG)["codes"][group])


def size_limit(limit_bytes: int) -> str:
    """A byte limit as a message parameter: whole MiB, or bytes under one MiB."""
    mib = 1024 * 1024
    return f"{limit_bytes // mib} MiB" if limit_bytes >= mib else f"{limit_bytes} bytes"


def message(code: str, lang: str | None = DEFAULT_LANG, /, **params: object) -> str:
    """The text for `code` in `lang`, with params filled in; unknown codes fall back to the code."""
    texts = CATALOGUE.get(code)
    if texts is None:
        return code
    return _filled(texts[LANGS.index(normalise_lang(lang))], params)


def both(code: str, /, **params: object) -> dict[str, str]:
    """The text for `code` in every language, keyed by language."""
    return {lang: message(code, lang, **params) for lang in LANGS}


class Coded(str):
    """A message code that carries its parameters, for use inside marshmallow's ValidationError.

    `ValidationError(Coded("role_level_mismatch", role="cadre", level="village"))` keeps the
    parameters next to the code through marshmallow's error dictionaries.
    """

    params: dict

    def __new__(cls, code: str, /, **params: object) -> "Coded":
        instance = super().__new__(cls, code)
        instance.params = params
        return instance


def describe(code: str, lang: str | None = DEFAULT_LANG, /, **context: object) -> str:
    """The text for a code or a Coded message; its own parameters win over `context`."""
    return message(str(code), lang, **{**context, **getattr(code, "params", {})})
