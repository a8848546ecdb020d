"""Written once: a visit, mediation request or case event is stored once and never rewritten.

The one later revision a device may write is the documented correction of a quarantined one
(docs/device-contract.md section 6): the child of the document's current revision, whose
quarantine entry is open, written by a cadre of that village. Everything else that would add a
revision to a stored written-once document is refused per document, in every write form
(`PUT`, `PUT ?new_edits=false`, `_bulk_docs` with or without `new_edits: false`):

| what arrives for a stored document                         | code                    |
|------------------------------------------------------------|-------------------------|
| the same id twice in one request                           | `duplicate_in_batch`    |
| an edit without `_rev`, or any `_rev` for an unknown id    | `written_once`          |
| a replicated revision already stored, with other content   | `written_once`          |
| any new revision while the current one is not quarantined  | `written_once`          |
| ... by anyone but a cadre of the village                   | `correction_forbidden`  |
| ... not the child of the current revision (another parent, | `correction_base`       |
|     a skipped generation, no history, another ancestry)    |                         |

A replicated revision already stored with the same content is a retry: it is answered as done
and not sent again. `_rev`/`_revisions` themselves are checked before (models/revisions.py).
Lookups are made only for ids that exist: a batch of new documents costs one `_all_docs`.
"""
from __future__ import annotations

from dataclasses import dataclass

from models.doc_ids import quarantine_id
from models.registry import DEVICE, REGISTRY
from models.revisions import extends, history
from sync.couch.client import CouchServer, Database, NotFound
from sync.couch.names import DatabaseNames
from sync.directory.access import Principal
from sync.gateway.screening import ScreenedDoc, WriteBatch, refusal

WRITTEN_ONCE = frozenset(name for name, spec in REGISTRY.items() if spec.owner == DEVICE)


@dataclass(frozen=True)
class Stored:
    """The winning revision of a stored document."""
    rev: str
    deleted: bool


def is_cadre_of(principal: Principal | None, village: str) -> bool:
    """Whether the principal is a cadre of this village (an official's sync grant is not enough)."""
    return principal is not None and principal.role == "cadre" and principal.jurisdiction == village


def _content(doc: dict) -> tuple:
    """What a revision says, for telling a retry from a rewrite under the same revision id."""
    body = {k: v for k, v in doc.items() if not k.startswith("_")}
    return body, bool(doc.get("_deleted")), sorted(doc.get("_attachments") or {})


class WrittenOnceGuard:
    """Refuses, per document, every write that would rewrite a stored written-once document."""

    def __init__(self, couch: CouchServer, names: DatabaseNames):
        self.couch, self.names = couch, names

    def check(self, batch: WriteBatch) -> None:
        """Move the forbidden documents of a screened batch from `accepted` to `rejections`."""
        req = batch.request
        once = self._one_per_id(batch, [e for e in batch.accepted if e.verdict.doc_type in WRITTEN_ONCE])
        if not once:
            return
        village_db = self.couch.database(self.names.village(req.village))
        stored = self._stored(village_db, [e.doc_id for e in once])
        for entry in once:
            if entry.doc_id not in stored and batch.new_edits and "_rev" in entry.doc:
                _refuse(batch, entry, "written_once")  # an edit of a document never stored
        existing = [e for e in once if e.doc_id in stored]
        if existing and not batch.new_edits:
            existing = self._drop_retries(village_db, batch, existing)
        candidates = []
        for entry in existing:
            if stored[entry.doc_id].deleted or "_rev" not in entry.doc:
                _refuse(batch, entry, "written_once")
            else:
                candidates.append(entry)
        if not candidates:
            return
        open_entries = self._open_quarantines(req.village, [(e.doc_id, stored[e.doc_id].rev)
                                                             for e in candidates])
        for entry in candidates:
            current = stored[entry.doc_id].rev
            if (entry.doc_id, current) not in open_entries:
                _refuse(batch, entry, "written_once")
            elif not is_cadre_of(req.principal, req.village):
                _refuse(batch, entry, "correction_forbidden", village=req.village)
            elif not self._builds_on(village_db, entry, current, batch.new_edits):
                _refuse(batch, entry, "correction_base", current=current)

    @staticmethod
    def _one_per_id(batch: WriteBatch, once: list[ScreenedDoc]) -> list[ScreenedDoc]:
        """Two revisions of one id in one request would both be stored: a conflict."""
        seen: set[str] = set()
        kept = []
        for entry in once:
            if entry.doc_id in seen:
                _refuse(batch, entry, "duplicate_in_batch", doc_id=entry.doc_id)
            else:
                seen.add(entry.doc_id)
                kept.append(entry)
        return kept

    @staticmethod
    def _stored(village_db: Database, ids: list[str]) -> dict[str, Stored]:
        rows = village_db.all_docs(keys=ids)["rows"]
        return {row["key"]: Stored(row["value"]["rev"], bool(row["value"].get("deleted")))
                for row in rows if isinstance(row.get("value"), dict)}

    def _drop_retries(self, village_db: Database, batch: WriteBatch,
                      existing: list[ScreenedDoc]) -> list[ScreenedDoc]:
        """Replicated revisions already in the tree: a retry is answered as done (CouchDB would
        ignore it); the same revision id with other content is refused."""
        missing = self.couch.json("POST", f"{village_db.path}/_revs_diff",
                                  json_body={e.doc_id: [e.doc["_rev"]] for e in existing},
                                  idempotent=True)
        new = []
        for entry in existing:
            if entry.doc["_rev"] in (missing.get(entry.doc_id) or {}).get("missing", []):
                new.append(entry)
                continue
            try:
                known = village_db.get(entry.doc_id, rev=entry.doc["_rev"])
            except NotFound:
                known = None
            batch.accepted.remove(entry)
            if known is None or _content(known) != _content(entry.doc):
                batch.rejections.append(refusal(entry.doc, "written_once"))
        return new

    def _open_quarantines(self, village: str, revisions: list[tuple[str, str]]) -> set[tuple[str, str]]:
        keys = {quarantine_id(village, doc_id, rev): (doc_id, rev) for doc_id, rev in revisions}
        rows = self.couch.database(self.names.review).all_docs(keys=list(keys),
                                                              include_docs=True)["rows"]
        return {keys[row["key"]] for row in rows
                if isinstance(row.get("doc"), dict) and row["doc"].get("state") == "open"}

    @staticmethod
    def _builds_on(village_db: Database, entry: ScreenedDoc, current: str, new_edits: bool) -> bool:
        if new_edits:  # CouchDB makes the child of `_rev` (`_revisions` was dropped at screening)
            return entry.doc["_rev"] == current
        if not extends(entry.doc, current, []):
            return False
        if len(history(entry.doc)) <= 2:
            return True  # nothing beyond the parent to compare
        stored = village_db.get(entry.doc_id, rev=current, revs=True).get("_revisions") or {}
        return extends(entry.doc, current, stored.get("ids") or [])

def _refuse(batch: WriteBatch, entry: ScreenedDoc, code: str, **params: object) -> None:
    batch.accepted.remove(entry)
    batch.rejections.append(refusal(entry.doc, code, 403, **params))
