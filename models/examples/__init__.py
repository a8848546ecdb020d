"""Valid example documents of the current versions, one per device-written type (JSON files)."""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

EXAMPLE_TYPES = ("household", "verification_visit", "mediation_request", "case_event")
_HERE = Path(__file__).parent


@lru_cache(maxsize=None)
def _read(doc_type: str) -> dict:
    return json.loads((_HERE / f"{doc_type}.json").read_text(encoding="utf-8"))


def example(doc_type: str) -> dict:
    """A fresh copy of the example document of `doc_type` (safe to modify)."""
    return copy.deepcopy(_read(doc_type))
