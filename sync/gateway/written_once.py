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
| ... naming another author than the current revision        | `author_changed`        |
| the same slot taken by another request with other content  | `written_elsewhere`     |
| a first revision not signed by the account writing it      | `author_not_signed_in`, |
|     (sync/gateway/authorship.py)                           | `device_not_signed_in`, |
|                                                            | `channel_not_device`    |

A replicated revision already stored with the same content is a retry: it is answered as done
and not sent again. `_rev`/`_revisions` themselves are checked before (models/revisions.py).
Lookups are made only for ids that exist: a batch of new documents costs one `_all_docs`.
Each revision that passes then takes its slot (the child of its parent, or the first revision)
with a `write_claim:` document in the state database, so two requests racing past these reads
cannot both store one (docs/security.md, "Two writes at once"): one `_bulk_docs` more.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from models.doc_ids import quarantine_id
from models.registry import DEVICE, REGISTRY
from models.revisions import extends, history
from sync.couch.client import Conflict, CouchError, CouchServer, Database, NotFound
from sync.couch.names import DatabaseNames
from sync.directory.access import Principal
from sync.gateway.authorship import author_kept, author_problem
from sync.gateway.screening import ScreenedDoc, WriteBatch, refusal

CLAIM_TTL_S = 120.0  # longer than any write request takes
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
        parents = {}  # doc id -> the revision the write adds a child to ("0": a first revision)
        for entry in once:
            if entry.doc_id not in stored and batch.new_edits and "_rev" in entry.doc:
                _refuse(batch, entry, "written_once")  # an edit of a document never stored
            elif entry.doc_id not in stored and _unsigned(batch, entry):
                continue  # a first revision names the account writing it (sync/gateway/authorship.py)
            elif entry.doc_id not in stored:
                parents[entry.doc_id] = "0"
        existing = [e for e in once if e.doc_id in stored]
        if existing and not batch.new_edits:
            existing = self._drop_retries(village_db, batch, existing)
        candidates = []
        for entry in existing:
            if stored[entry.doc_id].deleted or "_rev" not in entry.doc:
                _refuse(batch, entry, "written_once")
            else:
                candidates.append(entry)
        open_entries = self._open_quarantines(req.village, [(e.doc_id, stored[e.doc_id].rev)
                                                             for e in candidates]) if candidates else set()
        for entry in candidates:
            current = stored[entry.doc_id].rev
            if (entry.doc_id, current) not in open_entries:
                _refuse(batch, entry, "written_once")
            elif not is_cadre_of(req.principal, req.village):
                _refuse(batch, entry, "correction_forbidden", village=req.village)
            elif not self._builds_on(village_db, entry, current, batch.new_edits):
                _refuse(batch, entry, "correction_base", current=current)
            elif not author_kept(entry.doc, village_db.get(entry.doc_id, rev=current),
                                 entry.verdict.doc_type or ""):
                _refuse(batch, entry, "author_changed")  # sync/gateway/authorship.py
            else:
                parents[entry.doc_id] = current
        self._claim(batch, parents)

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

    def _claim(self, batch: WriteBatch, parents: dict[str, str]) -> None:
        """Take the one child slot of each parent revision (a `write_claim:` document in the state
        database); a slot another request holds with other content is refused. The checks above
        read what is stored; two requests that read at once would both pass them, and with
        `new_edits=false` CouchDB stores both: two leaves of one written-once document."""
        village = batch.request.village
        slots = {claim_id(village, e.doc_id, parents[e.doc_id]): e
                 for e in batch.accepted if e.doc_id in parents}
        if not slots:
            return
        state = self.couch.database(self.names.state)
        now = time.time()
        claims = {slot: {"_id": slot, "type": "write_claim", "village_code": village,
                         "doc_id": e.doc_id, "parent": parents[e.doc_id],
                         "fingerprint": fingerprint(e.doc), "claimed_at": now}
                  for slot, e in slots.items()}
        rows = state.bulk_docs(list(claims.values()))
        failed = [row for row in rows if row.get("error") and row["error"] != "conflict"]
        if failed:
            raise CouchError(None, "write_claim", str(failed), "POST", state.path)
        held = [row["id"] for row in rows if row.get("error") == "conflict"]
        for row in state.all_docs(keys=held, include_docs=True)["rows"] if held else []:
            holder, entry = row.get("doc") or {}, slots[row["key"]]
            if holder.get("fingerprint") == claims[row["key"]]["fingerprint"]:
                continue  # a retry of the same write
            if not self._take_over(state, holder, claims[row["key"]], entry, parents[entry.doc_id]):
                _refuse(batch, entry, "written_elsewhere")

    def _take_over(self, state: Database, holder: dict, claim: dict, entry: ScreenedDoc,
                   parent: str) -> bool:
        """A slot whose write never landed (refused upstream, or its process died) is free again
        after CLAIM_TTL_S; whether it landed is read after taking the slot over."""
        if not isinstance(holder.get("claimed_at"), (int, float)) or \
                claim["claimed_at"] - holder["claimed_at"] < CLAIM_TTL_S:
            return False
        try:
            state.put({**claim, "_rev": holder["_rev"]})
        except Conflict:
            return False  # another request took it over first
        village_db = self.couch.database(self.names.village(claim["village_code"]))
        now_stored = self._stored(village_db, [entry.doc_id]).get(entry.doc_id)
        return (now_stored is None) if parent == "0" else (now_stored is not None
                                                           and now_stored.rev == parent)


def claim_id(village: str, doc_id: str, parent: str) -> str:
    """The one child slot of a revision of a written-once document ("0": its first revision)."""
    return f"write_claim:{village}:{doc_id}:{parent}"


def fingerprint(doc: dict) -> str:
    """What a write sends for one document, to tell a retry from another write of the slot."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _unsigned(batch: WriteBatch, entry: ScreenedDoc) -> bool:
    """Refuse a first revision that does not name the account writing it; whether it did."""
    problem = author_problem(entry.doc, entry.verdict.doc_type or "", batch.request.principal)
    if problem:
        _refuse(batch, entry, problem[0], **problem[1])
    return problem is not None


def _refuse(batch: WriteBatch, entry: ScreenedDoc, code: str, **params: object) -> None:
    batch.accepted.remove(entry)
    batch.rejections.append(refusal(entry.doc, code, 403, **params))


def purge_claims(state: Database, now: float | None = None, batch_size: int = 500) -> int:
    """Delete write claims older than CLAIM_TTL_S; how many (the worker's `write_claim_purge`
    job). Safe at any time: an old slot is free anyway, and once its write landed the stored
    document itself refuses every other revision of the slot."""
    now = time.time() if now is None else now
    deleted, stubs = 0, []
    for claim in state.docs_with_prefix("write_claim:"):
        at = claim.get("claimed_at")
        if not isinstance(at, (int, float)) or now - at >= CLAIM_TTL_S:
            stubs.append({"_id": claim["_id"], "_rev": claim["_rev"], "_deleted": True})
        if len(stubs) >= batch_size:
            deleted += sum(1 for row in state.bulk_docs(stubs) if not row.get("error"))
            stubs = []
    return deleted + (sum(1 for row in state.bulk_docs(stubs) if not row.get("error")) if stubs else 0)
