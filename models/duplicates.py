"""Keyed hashes of identity numbers and of (town, name, birth date), for finding duplicates.

The central view and the review queue never hold a raw identity number: households are compared
by HMAC-SHA256 of the normalised number under the installation's secret key (a plain hash of an
18-character number with a known structure is easy to reverse by enumeration; a keyed one is
not without the key), and shown only masked (4412**********1234).
"""
from __future__ import annotations

import hashlib
import hmac

from .identity import birth_date_of, mask_id_number, normalise_id_number

HASH_LABEL = b"fieldsync-id-number:"


def hashing_key(secret_key: str) -> bytes:
    """The HMAC key for identity numbers, derived from the installation's secret key."""
    return hashlib.sha256(HASH_LABEL + secret_key.encode()).digest()


def id_hash(key: bytes, id_number: str) -> str:
    """The keyed hash (hex) of a normalised identity number."""
    return hmac.new(key, normalise_id_number(id_number).encode(), hashlib.sha256).hexdigest()


def town_of(village_code: str) -> str:
    """The 12-digit code of the town a village belongs to."""
    return village_code[:9] + "000" if len(village_code) == 12 else village_code


def near_duplicate_key(key: bytes, village_code: str, name: str, id_number: str) -> str | None:
    """The keyed hash of (town, name, birth date) of a household head, or None if unknown."""
    if not isinstance(name, str) or not isinstance(id_number, str):
        return None
    born = birth_date_of(normalise_id_number(id_number))
    if born is None or not name.strip():
        return None
    text = f"{town_of(village_code)}|{name.strip()}|{born.isoformat()}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def identity_numbers(household: dict) -> list[str]:
    """Every identity number a household names (head and members), normalised, once each."""
    found = []
    head = household.get("head") if isinstance(household.get("head"), dict) else {}
    members = household.get("members") if isinstance(household.get("members"), list) else []
    for person in [head, *members]:
        number = person.get("id_number") if isinstance(person, dict) else None
        if isinstance(number, str) and number.strip():
            found.append(normalise_id_number(number))
    return list(dict.fromkeys(found))


def hashed_identities(key: bytes, household: dict) -> dict[str, str]:
    """Keyed hash -> masked number for every identity number of a household."""
    return {id_hash(key, number): mask_id_number(number)
            for number in identity_numbers(household)}


def mask_identity_numbers(value: object) -> object:
    """A copy of a JSON value with every `id_number` masked, at any depth."""
    if isinstance(value, dict):
        return {k: (mask_id_number(v) if k == "id_number" and isinstance(v, str)
                    else mask_identity_numbers(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_identity_numbers(item) for item in value]
    return value
