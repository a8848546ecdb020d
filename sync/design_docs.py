"""Design documents that fieldsync installs, built from the ES5 sources in sync/design/."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DESIGN_DIR = Path(__file__).with_name("design")
DESIGN_VERSION = 4  # bump when a design document changes so provisioning rewrites it
VILLAGE_DDOC = "_design/fieldsync"
DEVICE_CHANGES_FILTER = "fieldsync/device_changes"  # what devices pull: all but design docs
CONFLICTS_VIEW = "fieldsync/conflicts"  # conflicted documents, for reconciliation


@lru_cache(maxsize=None)
def _source(name: str) -> str:
    return (DESIGN_DIR / name).read_text(encoding="utf-8").strip()


def village_design_doc(village_code: str) -> dict:
    """The design document of a village database: validation and the by-type view."""
    return {
        "_id": VILLAGE_DDOC,
        "language": "javascript",
        "fieldsync_design_version": DESIGN_VERSION,
        "validate_doc_update": _source("village_validate.js").replace("%VILLAGE_CODE%",
                                                                      village_code),
        "views": {"by_type": {"map": _source("by_type_map.js"), "reduce": "_count"},
                  "conflicts": {"map": _source("conflicts_map.js")}},
        "filters": {"device_changes": _source("device_changes_filter.js")},
    }


def same_design(current: dict | None, wanted: dict) -> bool:
    """Whether a stored design document already says what `wanted` says."""
    if current is None:
        return False
    stored = {k: v for k, v in current.items() if k != "_rev"}
    return stored == wanted


# Mango indexes: (name, fields). Always query `_find` with `use_index` naming one of these.
VILLAGE_INDEXES = (("by-type", ["type"]),)
