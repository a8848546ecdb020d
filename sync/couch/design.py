"""Design documents that fieldsync installs, built from the ES5 sources in sync/couch/design/.

They hold only what something queries (on CouchDB 3.x every view is brought up to date by the
next query after writes, and every JavaScript function runs in a query-server process: see
docs/couchdb-notes.md, "JavaScript on CouchDB 3.x"). Readers:
- village `conflicts` view: sync/reconcile/conflicts.py (ConflictResolver.conflicted_ids);
- village `device_changes` filter: sync/gateway/forwarding.py (every device `_changes`);
- village `validate_doc_update`: CouchDB itself, on every write (the second line behind the
  gateway's own checks: a document of another village never lands, whatever path it took);
- audit `by_subject`: sync/gateway/audit.py; photos `by_phash_chunk`: sync/photos/queue.py.
The village `by_type` view and the Mango index on `type` had no reader and were dropped
(DESIGN_VERSION 5); RETIRED_VILLAGE_DDOCS lists what provisioning deletes where it remains
(sync/directory/provisioning.py, drop_retired_designs: at provisioning and at worker start).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sync.couch.client import Conflict, Database

DESIGN_DIR = Path(__file__).with_name("design")
DESIGN_VERSION = 5  # bump when a design document changes so provisioning rewrites it
VILLAGE_DDOC = "_design/fieldsync"
DEVICE_CHANGES_FILTER = "fieldsync/device_changes"  # what devices pull: all but design docs
CONFLICTS_VIEW = "fieldsync/conflicts"  # conflicted documents, for reconciliation


@lru_cache(maxsize=None)
def _source(name: str) -> str:
    return (DESIGN_DIR / name).read_text(encoding="utf-8").strip()


def village_design_doc(village_code: str) -> dict:
    """The design document of a village database: validation, the conflicts view and the
    devices' changes filter."""
    return {
        "_id": VILLAGE_DDOC,
        "language": "javascript",
        "fieldsync_design_version": DESIGN_VERSION,
        "validate_doc_update": _source("village_validate.js").replace("%VILLAGE_CODE%",
                                                                      village_code),
        "views": {"conflicts": {"map": _source("conflicts_map.js")}},
        "filters": {"device_changes": _source("device_changes_filter.js")},
    }


def same_design(current: dict | None, wanted: dict) -> bool:
    """Whether a stored design document already says what `wanted` says."""
    if current is None:
        return False
    stored = {k: v for k, v in current.items() if k != "_rev"}
    return stored == wanted


def ensure_design_doc(db: Database, wanted: dict, attempts: int = 4) -> bool:
    """Install or update one design document; False when it was already as wanted. Several
    processes may do this at once (the first requests after a start, provisioning beside a
    worker): a 409 means another one wrote meanwhile, so read again rather than fail."""
    for _ in range(attempts):
        current = db.get_or_none(wanted["_id"])
        if same_design(current, wanted):
            return False
        try:
            db.put({**wanted, **({"_rev": current["_rev"]} if current else {})})
            return True
        except Conflict:
            continue
    if same_design(db.get_or_none(wanted["_id"]), wanted):
        return False
    raise Conflict(f"design document {wanted['_id']} keeps changing under this writer")


# Mango indexes: (name, fields). Always query `_find` with `use_index` naming one of these.
# None today: nothing queries a village database with `_find`.
VILLAGE_INDEXES: tuple[tuple[str, list[str]], ...] = ()
# design documents of earlier versions that nothing reads any more (the Mango index on `type`)
RETIRED_VILLAGE_DDOCS = ("_design/fieldsync-indexes",)


AUDIT_DDOC = "_design/audit"


def audit_design_doc() -> dict:
    """The audit database's design document: revisions -> the requests that carried them."""
    return {"_id": AUDIT_DDOC, "language": "javascript",
            "views": {"by_subject": {"map": _source("audit_by_subject_map.js")}}}


def photos_design_doc() -> dict:
    """The photos database's design document: fingerprints cut in four 16-bit chunks, so a
    photo within a few bits of another shares at least one chunk with it (sync/photos/queue.py)."""
    return {"_id": "_design/photos", "language": "javascript",
            "views": {"by_phash_chunk": {"map": _source("photos_by_phash_chunk_map.js")}}}
