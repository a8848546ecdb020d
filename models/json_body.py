"""Strict JSON for request bodies: the one parser of the API and the sync gateway.

Python's `json` is lenient where CouchDB, JavaScript and the next reader are not, and a body one
parser reads differently from another is a way around the checks made on it. Refused, each with
a `problem` name (docs/security.md, "Responses and sizes"):

- `encoding`: not UTF-8 (UTF-16/32 bodies, a byte-order mark, invalid bytes);
- `syntax`: not JSON at all;
- `constant`: the `NaN`, `Infinity`, `-Infinity` literals, and a number too large for a
  double (`1e400` would become infinity);
- `number`: an integer of more digits than Python converts (4300);
- `duplicate_key`: a key twice in one object (which `_id` would CouchDB store?);
- `surrogate`: a lone UTF-16 surrogate escape (`"\\ud800"`), which no UTF-8 encoder writes back;
- `depth`: nesting deeper than MAX_DEPTH (100,000 levels would exhaust the stack);
- `not_object`: a valid value that is not an object where the endpoint wants one.
"""
from __future__ import annotations

import json
import math
import re

MAX_DEPTH = 64  # a device document nests 5 levels at most (docs/device-contract.md)
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadJson(ValueError):
    """A request body that is not strict JSON; `problem` names what is wrong."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def _refuse_constant(name: str) -> float:
    raise BadJson("constant")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson("constant")
    return value


def _object(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise BadJson("duplicate_key")
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_float=_finite,
                            parse_constant=_refuse_constant)


def _check_tree(value: object, max_depth: int) -> None:
    """Depth and lone surrogates, without recursion (the tree may be deep)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise BadJson("surrogate")
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > max_depth:
            raise BadJson("depth")
        if isinstance(node, dict):
            stack.extend((key, depth) for key in node)
            node = node.values()
        stack.extend((child, depth + 1) for child in node)


def parse_json_body(raw: bytes | str, *, expect_object: bool = False,
                    max_depth: int = MAX_DEPTH) -> object:
    """The value of a JSON request body, or BadJson."""
    if isinstance(raw, bytes):
        if raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4]:
            raise BadJson("encoding")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadJson("encoding") from None
    else:
        text = raw
    try:
        value = _DECODER.decode(text)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson("depth") from None
    except ValueError as exc:  # JSONDecodeError, or int() past the 4300-digit limit
        raise BadJson("syntax" if isinstance(exc, json.JSONDecodeError) else "number") from None
    del text
    _check_tree(value, max_depth)
    if expect_object and not isinstance(value, dict):
        raise BadJson("not_object")
    return value
