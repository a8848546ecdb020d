"""Resident identity card numbers (GB 11643-1999) and mainland mobile phone numbers.

A citizen identity number is 18 characters: a 6-digit address code, the birth date YYYYMMDD,
a 3-digit sequence (odd for men, even for women) and a check character computed mod 11.
The 15-digit first-generation numbers have not been valid since 2013 and are refused.
"""
from __future__ import annotations

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
# ASCII digits, whole string (fullmatch): `\d` takes full-width and Arabic-Indic digits, which
# int() reads as digits, so a disguised number would pass the checksum and hash differently
ID_NUMBER_RE = re.compile(r"[0-9]{17}[0-9X]\Z")
# first two digits of the address code: provinces, plus 71 Taiwan, 81/82 Hong Kong/Macao and
# 83 (residence permits for Taiwan residents)
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})
EARLIEST_BIRTH = date(1900, 1, 1)
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}\Z")  # \Z: safe with match (marshmallow's Regexp)
_PHONE_NOISE_RE = re.compile(r"[\s\-()（）]")


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an identity number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def normalise_id_number(raw: str) -> str:
    """An identity number with surrounding spaces removed and a lower-case x made upper-case."""
    return raw.strip().upper()


def birth_date_of(id_number: str) -> date | None:
    """The birth date written in an identity number, or None if it is not a real date."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def id_number_problem(id_number: str, today: date | None = None) -> str | None:
    """The message code of what is wrong with a normalised identity number, or None if valid."""
    if not isinstance(id_number, str) or not ID_NUMBER_RE.fullmatch(id_number):
        return "id_number_format"
    if id_number[:2] not in PROVINCE_CODES or id_number[2:6] == "0000":
        return "id_number_area"
    born = birth_date_of(id_number)
    if born is None or born < EARLIEST_BIRTH or born > (today or date.today()):
        return "id_number_birth_date"
    if check_character(id_number[:17]) != id_number[17]:
        return "id_number_checksum"
    return None


def mask_id_number(id_number: str) -> str:
    """An identity number with everything but the first 4 and the last 4 characters hidden."""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def normalise_phone(raw: str) -> str | None:
    """A mainland mobile number as 11 digits (spaces, dashes, +86/0086 removed), or None."""
    if not isinstance(raw, str):
        return None
    digits = _PHONE_NOISE_RE.sub("", raw)
    for country_prefix in ("+86", "0086"):
        if digits.startswith(country_prefix):
            digits = digits[len(country_prefix):]
            break
    else:
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
    return digits if MOBILE_RE.fullmatch(digits) else None


def mask_phone(phone: str) -> str:
    """A phone number with the middle four digits hidden, as banks and 12345 print them."""
    return phone[:3] + "****" + phone[7:] if len(phone) == 11 else phone
