"""Review tasks in people's terms: the label of a household field, values as people write them
(yuan with two decimals, 是/否, the status's name), and typed yuan converted exactly to fen.
The words come from the catalogue (`fields`, `codes`, `values` in models/catalogue/)."""
from __future__ import annotations

import re
from decimal import Decimal

from .household import INDICATORS, POVERTY_STATUSES
from .messages import label, normalise_lang, text

MONEY_FIELDS = frozenset({"income_per_capita_fen", "amount_in_dispute_fen"})
YUAN = re.compile(r"[0-9]{1,11}(\.[0-9]{1,2})?")
MAX_FEN = 10**13  # ten thousand billion fen: more is a typing error, not an income


def _field_name(path: str, lang: str) -> str:
    indicator = path.removeprefix("indicators.")
    if indicator != path and indicator in INDICATORS:
        return label("indicators", indicator, lang)
    return text(f"fields.{path}", lang) or path


def field_label(path: str) -> dict:
    """The field's name in both languages ({zh, en}); the path itself when unknown."""
    return {"zh": _field_name(path, "zh"), "en": _field_name(path, "en")}


def fen_to_yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators: 352000 -> '3,520.00'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def yuan_to_fen(typed: object) -> int:
    """What a person typed in yuan ('3520', '3,520.5', '¥3520.50') as fen, exactly; raises
    ValueError for anything else (more than two decimals, negative, not a number)."""
    # input, not output: the separators, signs and unit people type in either script
    cleaned = str(typed).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if cleaned.endswith("元"):
        cleaned = cleaned[:-1].strip()
    if not YUAN.fullmatch(cleaned):
        raise ValueError(typed)
    fen = int(Decimal(cleaned) * 100)  # exact: at most two decimals, no float on the way
    if fen > MAX_FEN:
        raise ValueError(typed)
    return fen


def display_value(path: str, value: object, lang: str = "zh") -> str:
    """A stored value as a person reads it."""
    lang = normalise_lang(lang)
    words = {key: text(f"values.{key}", lang) or key for key in ("empty", "yes", "no", "list_separator")}
    if value is None:
        return words["empty"]
    if path in MONEY_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return (text("values.yuan", lang) or "{amount}").format(amount=fen_to_yuan(value))
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if path == "poverty_status" and value in POVERTY_STATUSES:
        return label("poverty_status", str(value), lang)
    if path == "head" and isinstance(value, dict):
        return str(value.get("name") or "")
    if path == "members" and isinstance(value, list):
        names = [str(m.get("name")) for m in value if isinstance(m, dict) and m.get("name")]
        return words["list_separator"].join(names)
    if isinstance(value, list):
        return words["list_separator"].join(map(str, value))
    return str(value)


def both_displays(path: str, value: object) -> dict:
    """The value for both languages ({zh, en})."""
    return {"zh": display_value(path, value, "zh"), "en": display_value(path, value, "en")}
