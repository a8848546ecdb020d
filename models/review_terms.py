"""Review tasks in people's terms: the label of a household field, values as people write them
(yuan with two decimals, 是/否, the status's name), and typed yuan converted exactly to fen."""
from __future__ import annotations

import re
from decimal import Decimal

from .household import INDICATORS, POVERTY_STATUSES

INDICATOR_LABELS = {
    "food_secured": ("不愁吃", "food secured"),
    "clothing_secured": ("不愁穿", "clothing secured"),
    "compulsory_education": ("义务教育有保障", "compulsory education secured"),
    "basic_medical": ("基本医疗有保障", "basic medical care secured"),
    "safe_housing": ("住房安全有保障", "safe housing secured"),
    "safe_drinking_water": ("饮水安全有保障", "safe drinking water secured"),
}
FIELD_LABELS = {
    "head": ("户主", "head of household"), "members": ("家庭成员", "household members"),
    "phones": ("联系电话", "phone numbers"), "address": ("住址", "address"),
    "income_per_capita_fen": ("家庭人均年收入（元）", "yearly income per person (yuan)"),
    "poverty_status": ("脱贫状态", "poverty status"), "notes": ("备注", "notes"),
    **{f"indicators.{name}": INDICATOR_LABELS.get(name, (name, name)) for name in INDICATORS},
}
MONEY_FIELDS = frozenset({"income_per_capita_fen", "amount_in_dispute_fen"})
YUAN = re.compile(r"[0-9]{1,11}(\.[0-9]{1,2})?")
MAX_FEN = 10**13  # ten thousand billion fen: more is a typing error, not an income


def field_label(path: str) -> dict:
    """The field's name in both languages ({zh, en}); the path itself when unknown."""
    zh, en = FIELD_LABELS.get(path, (path, path))
    return {"zh": zh, "en": en}


def fen_to_yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators: 352000 -> '3,520.00'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def yuan_to_fen(text: object) -> int:
    """What a person typed in yuan ('3520', '3,520.5', '¥3520.50') as fen, exactly; raises
    ValueError for anything else (more than two decimals, negative, not a number)."""
    cleaned = str(text).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if cleaned.endswith("元"):
        cleaned = cleaned[:-1].strip()
    if not YUAN.fullmatch(cleaned):
        raise ValueError(text)
    fen = int(Decimal(cleaned) * 100)  # exact: at most two decimals, no float on the way
    if fen > MAX_FEN:
        raise ValueError(text)
    return fen


def display_value(path: str, value: object, lang: str = "zh") -> str:
    """A stored value as a person reads it."""
    zh = lang != "en"
    if value is None:
        return "（空）" if zh else "(empty)"
    if path in MONEY_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return f"{fen_to_yuan(value)} 元" if zh else f"¥{fen_to_yuan(value)}"
    if isinstance(value, bool):
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    if path == "poverty_status" and value in POVERTY_STATUSES:
        return POVERTY_STATUSES[value][0 if zh else 1]
    if path == "head" and isinstance(value, dict):
        return str(value.get("name") or "")
    if path == "members" and isinstance(value, list):
        names = [str(m.get("name")) for m in value if isinstance(m, dict) and m.get("name")]
        return ("、" if zh else ", ").join(names)
    if isinstance(value, list):
        return ("、" if zh else ", ").join(map(str, value))
    return str(value)


def both_displays(path: str, value: object) -> dict:
    """The value for both languages ({zh, en})."""
    return {"zh": display_value(path, value, "zh"), "en": display_value(path, value, "en")}
