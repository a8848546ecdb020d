"""Turn marshmallow's nested error messages into a flat, bilingual list of problems.

Our validators raise catalogue codes; marshmallow's own validators speak English. Both become
`{"field": "members.0.id_number", "code": "id_number_checksum", "message": {...}}`.
"""
from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema

from .messages import CATALOGUE, both, message

# marshmallow's built-in English messages, by pattern -> catalogue code
_BUILTIN: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), code) for pattern, code in (
        (r"^Missing data for required field\.$", "required"),
        (r"^Field may not be null\.$", "required"),
        (r"^Unknown field\.$", "unknown_field"),
        (r"^Not a valid (string|integer|number|boolean|list|tuple|mapping type|UUID)\.$",
         "invalid_type"),
        (r"^Invalid (input )?type\.$", "invalid_type"),
        (r"^Not a valid utf-8 string\.$", "invalid_type"),
        (r"^Must be one of: (?P<choices>.*)\.$", "invalid_choice"),
        (r"^Must be (greater|less) than.*\.$", "out_of_range"),
        (r"^Number too large\.$", "out_of_range"),
        (r"^Special numeric values .* not permitted\.$", "out_of_range"),
        (r"^Longer than maximum length \d+\.$", "too_long"),
        (r"^Shorter than minimum length \d+\.$", "too_short"),
        (r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$", "length_range"),
        (r"^Length must be \d+\.$", "invalid_format"),
        (r"^String does not match expected pattern\.$", "invalid_format"),
        (r"^Not a valid .*\.$", "invalid_format"),
    ))


def code_of(text: str) -> tuple[str, dict]:
    """The catalogue code (and message parameters) for one error message or Coded code."""
    text_params = dict(getattr(text, "params", {}))
    text = str(text)
    if text in CATALOGUE:
        return text, text_params
    for pattern, code in _BUILTIN:
        match = pattern.match(text)
        if match:
            return code, {key: value for key, value in match.groupdict().items() if value}
    return "invalid", {}


def _walk(errors: Any, path: tuple[str, ...]):
    if isinstance(errors, dict) and errors and set(errors) <= {"key", "value"} \
            and all(isinstance(nested, list) for nested in errors.values()):
        yield from _walk(list(errors.values()), path)  # a Dict field's key/value errors
    elif isinstance(errors, dict):
        for key, nested in errors.items():
            inner = path if key == "_schema" else (*path, str(key))
            yield from _walk(nested, inner)
    elif isinstance(errors, (list, tuple)):
        for nested in errors:
            yield from _walk(nested, path)
    else:
        yield path, errors


def describe_errors(messages: Any, lang: str | None = None) -> list[dict]:
    """Flat problems from marshmallow errors; `message` is {zh, en}, or one text for `lang`."""
    problems = []
    for path, text in _walk(messages, ()):
        code, params = code_of(text)
        text = both(code, **params) if lang is None else message(code, lang, **params)
        problem = {"field": ".".join(path), "code": code, "message": text}
        if params:
            problem["params"] = params
        problems.append(problem)
    return problems


def unknown_fields(schema: Schema, data: Any, path: tuple[str, ...] = ()) -> dict:
    """Error messages for keys no field declares, at any depth: RAISE for API input, everywhere."""
    if not isinstance(data, dict):
        return {}
    declared = {field.data_key or name: field for name, field in schema.fields.items()}
    errors: dict = {}
    for key, value in data.items():
        field = declared.get(key)
        if field is None:
            errors[key] = ["Unknown field."]
            continue
        nested = getattr(field, "schema", None) if hasattr(field, "nested") else None
        inner = getattr(field, "inner", None)
        if nested is None and inner is not None and hasattr(inner, "nested"):
            nested = inner.schema
            found = {index: unknown_fields(nested, item) for index, item in
                     enumerate(value if isinstance(value, list) else [])}
            found = {index: item for index, item in found.items() if item}
        elif nested is not None:
            found = unknown_fields(nested, value)
        else:
            found = {}
        if found:
            errors[key] = found
    return errors
