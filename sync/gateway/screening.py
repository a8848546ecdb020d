"""Screening device writes at the edge, document by document.

Every document of a `_bulk_docs` (or a single PUT) is either forwarded or answered with a
per-document error that PouchDB reports through its `denied` event and keeps on the device:
`{"id", "rev", "error": "forbidden", "reason": "<code>: <text>", "status", "fieldsync": {...}}`.
PouchDB treats a per-document error named `forbidden` (or `unauthorized`) as "denied" and goes on
with the rest of the batch; any other name would abort the whole replication, so every refusal
is `forbidden` and the precise reason is in `fieldsync.code` (docs/validation-rules.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from models.messages import both, message, size_limit
from models.registry import REJECT, Verdict
from models.revisions import revision_problem
from sync.gateway.attachments import ATTACHMENT_TYPES, media_type

if TYPE_CHECKING:
    from sync.gateway.forwarding import SyncRequest

Classifier = Callable[[dict, str, "int | None"], Verdict]  # (doc, village, server clock in ms)


@dataclass
class ScreenedDoc:
    """A document that passed the edge, with its verdict and, once written, its revision."""
    doc: dict
    verdict: Verdict
    rev: str | None = None

    @property
    def doc_id(self) -> str:
        return self.doc.get("_id", "")


@dataclass
class WriteBatch:
    """The documents of one write request: forwarded ones and refused ones."""
    request: "SyncRequest"
    accepted: list[ScreenedDoc] = field(default_factory=list)
    rejections: list[dict] = field(default_factory=list)
    written: list[ScreenedDoc] = field(default_factory=list)
    new_edits: bool = True
    altered: bool = False  # a forwarded document differs from the one sent (`_revisions` dropped)

    def record_upstream(self, results: list[dict]) -> None:
        """Note which forwarded documents CouchDB stored, under the revision it stores: with
        new_edits=false the one sent (CouchDB lists errors only; `_rev` was checked to agree with
        the `_revisions` CouchDB stores), otherwise the one CouchDB answered in the document's row."""
        if not self.new_edits:
            failed = {r.get("id") for r in results if r.get("error")}
            for entry in self.accepted:
                if entry.doc_id not in failed:
                    entry.rev = entry.doc["_rev"]
                    self.written.append(entry)
            return
        # matched by id, never by position: CouchDB answers in request order, pouchdb-server
        # reorders rows under concurrent writes; one id sent twice takes its rows in turn
        rows: dict[str, list[dict]] = {}
        for row in results:
            if isinstance(row, dict) and isinstance(row.get("id"), str):
                rows.setdefault(row["id"], []).append(row)
        for entry in self.accepted:
            row = rows[entry.doc_id].pop(0) if rows.get(entry.doc_id) else {}
            if row.get("rev") and not row.get("error"):
                entry.rev = row["rev"]
                self.written.append(entry)


def refusal(doc: dict, code: str, status: int = 403, errors: list | None = None,
            **params: object) -> dict:
    """The per-document error result for a refused document."""
    text_en = message(code, "en", **params)
    return {"id": doc.get("_id") if isinstance(doc, dict) else None,
            "rev": doc.get("_rev") if isinstance(doc, dict) else None,
            "error": "forbidden", "name": "forbidden", "status": status,
            "reason": f"{code}: {text_en}",
            "fieldsync": {"code": code, "messages": both(code, **params), "errors": errors or []}}


# CouchDB refuses a whole _bulk_docs request over one unknown `_` member, which would stall the
# device's replication for good: such documents are refused one by one at the edge instead.
SPECIAL_MEMBERS = frozenset({"_id", "_rev", "_deleted", "_attachments", "_revisions",
                             "_conflicts", "_deleted_conflicts", "_local_seq", "_revs_info"})


def attachment_bytes(doc: dict) -> int:
    """The decoded size of the largest inline (base64) attachment of a document."""
    largest = 0
    for attachment in (doc.get("_attachments") or {}).values():
        data = attachment.get("data") if isinstance(attachment, dict) else None
        if isinstance(data, str):
            largest = max(largest, len(data) * 3 // 4 - data[-2:].count("="))
    return largest


def attachment_type_refusal(doc: dict) -> dict | None:
    """The refusal for a new attachment (not a stub) whose type is not a photo type, if any
    (a text/html "photo" would otherwise be served from the app's origin)."""
    attachments = doc.get("_attachments") or {}
    if not isinstance(attachments, dict):
        return refusal(doc, "malformed_document")
    for name, attachment in sorted(attachments.items()):
        if not isinstance(attachment, dict):
            return refusal(doc, "malformed_document")
        if attachment.get("stub") is True:
            continue
        content_type = attachment.get("content_type")
        if media_type(content_type) not in ATTACHMENT_TYPES:
            return refusal(doc, "attachment_type", 415, name=name, content_type=content_type or "-")
    return None


def screen_documents(docs: list, req: "SyncRequest", max_attachment_bytes: int,
                     classify: Classifier, now_ms: int | None = None,
                     new_edits: bool = True) -> WriteBatch:
    """Split a write into forwarded documents and per-document refusals; `now_ms` is the server's
    clock (household stamps more than a day ahead of it are quarantined)."""
    batch = WriteBatch(request=req, new_edits=new_edits)
    seen: set = set()
    for doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("_id"), str):
            batch.rejections.append(refusal(doc if isinstance(doc, dict) else {},
                                            "malformed_document"))
            continue
        # new edits of one id in one request: CouchDB stores one at most, and which one a row
        # stands for is ambiguous on pouchdb-server (it reorders rows); one revision sent twice
        # (new_edits=false) is stored once, with either body. The first sent on wins; two
        # replicated revisions of one id are two leaves, both sent on.
        if _slot(doc, new_edits) in seen:
            batch.rejections.append(refusal(doc, "duplicate_in_batch", 403, doc_id=doc["_id"]))
            continue
        reserved = sorted(k for k in doc if k.startswith("_") and k not in SPECIAL_MEMBERS)
        if reserved:
            batch.rejections.append(refusal(doc, "reserved_field", 403, field=reserved[0]))
            continue
        wrong_type = attachment_type_refusal(doc)
        if wrong_type:
            batch.rejections.append(wrong_type)
            continue
        size = attachment_bytes(doc)
        if size > max_attachment_bytes:
            batch.rejections.append(refusal(doc, "attachment_too_large", 413,
                                            limit=size_limit(max_attachment_bytes),
                                            size=size))
            continue
        bad_revision = None if doc["_id"].startswith("_local/") else revision_problem(doc, new_edits)
        if bad_revision:
            batch.rejections.append(refusal(doc, bad_revision))
            continue
        if new_edits and "_revisions" in doc:  # an edit's parent is `_rev` alone (CouchDB would
            del doc["_revisions"]                  # also build on `_revisions`, PouchDB would not)
            batch.altered = True
        verdict = classify(doc, req.village, now_ms)
        if verdict.action == REJECT:
            batch.rejections.append(refusal(doc, verdict.code or "forbidden", 403,
                                            list(verdict.problems)))
            continue
        batch.accepted.append(ScreenedDoc(doc, verdict))
        seen.add(_slot(doc, new_edits))  # the first copy sent on (one refused takes no slot)
    return batch


def _slot(doc: dict, new_edits: bool) -> str | tuple:
    """What one request may write once: an id (new edits), an id's revision (replicated)."""
    return doc["_id"] if new_edits else (doc["_id"], doc.get("_rev"))
