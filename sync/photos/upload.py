"""Photos a cadre uploads through the API instead of replicating them as attachments.

The photo becomes an attachment of its verification visit in the village database, exactly as
if the device had synced it, and then goes through the gateway's after-write hooks for an
accepted write (audit trail, photo queue, device registry): the worker checks it, makes the
served copies, looks for reuse and writes feedback for a refused photo, like any synced photo.

Only verification visits carry photos (docs/device-contract.md). A visit whose current revision
is quarantined gets no photo until it is corrected: the correction must be a revision on top of
the quarantined one, which a server-made revision would hide from the gateway's written-once
check. Re-sending the same photo under the same name is answered as done, so a retry after a
lost answer writes nothing; a different photo under a name already taken is refused. On a
cluster two uploads to one visit can both be accepted (201 + 202): each reads the visit back,
and the one whose revision reconciliation would not keep withdraws it and uploads again on top
of the kept one, so "created" always means the photo is on the visit.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from typing import Callable

from models.doc_ids import quarantine_id
from models.household_merge import revision_order
from models.registry import ACCEPT, Verdict
from sync.directory.access import Principal
from sync.couch.client import Conflict, CouchServer
from sync.gateway.forwarding import SyncRequest
from sync.couch.names import DatabaseNames
from sync.cluster.read_back import read_back, withdraw
from sync.photos.checks import image_media_type
from sync.gateway.screening import ScreenedDoc, WriteBatch

log = logging.getLogger("fieldsync.photos")
VISIT_TYPE, VISIT_PREFIX = "verification_visit", "visit:"
MAX_ATTEMPTS = 3


class UploadRefused(Exception):
    """An upload that is not stored; `status` and message `code` go back to the cadre."""

    def __init__(self, status: int, code: str, /, **params: object):
        super().__init__(code)
        self.status, self.code, self.params = status, code, params


@dataclass
class PhotoUploadRequest:
    """One photo sent by an authenticated cadre for a visit of an authorised village."""
    principal: Principal
    village: str
    doc_id: str
    name: str
    data: bytes
    request_id: str
    device: dict


def couch_digest(data: bytes) -> str:
    """The digest CouchDB gives an attachment stored uncompressed (`md5-<base64>`)."""
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324


class PhotoUploads:
    """Stores uploaded photos as visit attachments and hands them to the after-write hooks."""

    def __init__(self, couch: CouchServer, names: DatabaseNames,
                 after_write: list[Callable[[WriteBatch], None]]):
        self.couch, self.names, self.after_write = couch, names, after_write

    def store(self, upload: PhotoUploadRequest) -> dict:
        """Store one photo; returns what the cadre is told (`created` False for a repeat)."""
        if not upload.doc_id.startswith(VISIT_PREFIX):
            raise UploadRefused(400, "photo_doc_type", doc_id=upload.doc_id)
        content_type = image_media_type(upload.data)
        if content_type is None:
            raise UploadRefused(415, "photo_not_image")
        village_db = self.couch.database(self.names.village(upload.village))
        digest = couch_digest(upload.data)
        for _ in range(MAX_ATTEMPTS):
            visit = self._visit(upload)
            existing = (visit.get("_attachments") or {}).get(upload.name)
            if existing is not None:
                if existing.get("digest") != digest:
                    raise UploadRefused(409, "photo_name_taken", name=upload.name)
                return self._answer(upload, visit["_rev"], existing, created=False)
            try:
                rev = village_db.put_attachment(upload.doc_id, upload.name, upload.data,
                                                content_type, visit["_rev"])
            except Conflict:  # the visit changed in between (a device synced it): read again
                continue
            if self._kept(village_db, upload, rev):
                break
        else:
            raise RuntimeError(f"{upload.doc_id} kept changing")
        stub = {"content_type": content_type, "digest": digest, "stub": True,
                "length": len(upload.data)}
        # the hooks see only the new photo, so the visit's other photos are not queued again
        visit.update(_rev=rev, _attachments={upload.name: stub})
        self._after_write(upload, visit, rev)
        return self._answer(upload, rev, stub, created=True)

    @staticmethod
    def _kept(village_db, upload: PhotoUploadRequest, rev: str) -> bool:
        """Whether our new revision of the visit is the one reconciliation keeps. A cluster may
        have accepted a concurrent write of the visit as well (another upload: 201 + 202);
        reconciliation then keeps the lowest revision of a written-once document and archives
        the other (sync/reconcile/conflicts.py), so the other's photo would not be on the
        visit. The visit is read back (sync/cluster/read_back.py); if another leaf is the one
        kept, ours is withdrawn (False: the upload is tried again on top of it, where a
        different photo under the name is refused as taken)."""
        leaves = read_back(village_db, {"_id": upload.doc_id, "_rev": rev})
        if len(leaves) < 2:  # ours, or a later revision on top of it: no conflict
            return True
        kept = min(leaves, key=lambda leaf: revision_order(leaf["_rev"]))
        if kept["_rev"] == rev:
            return True
        withdraw(village_db, upload.doc_id, rev)
        log.info("%s/%s: a concurrent write of the visit is kept; uploading %s again on it",
                 upload.village, upload.doc_id, upload.name)
        return False

    def _visit(self, upload: PhotoUploadRequest) -> dict:
        """The visit's current revision, if it exists and is not waiting for a correction."""
        visit = self.couch.database(self.names.village(upload.village)).get_or_none(upload.doc_id)
        if visit is None:
            raise UploadRefused(404, "document_unknown", village=upload.village,
                                doc_id=upload.doc_id)
        entry = self.couch.database(self.names.review).get_or_none(
            quarantine_id(upload.village, upload.doc_id, visit["_rev"]))
        if entry is not None and entry.get("state") == "open":
            raise UploadRefused(409, "photo_doc_quarantined")
        return visit

    def _after_write(self, upload: PhotoUploadRequest, visit: dict, rev: str) -> None:
        request = SyncRequest(method="PUT", village=upload.village,
                              segments=[upload.doc_id, upload.name], principal=upload.principal,
                              request_id=upload.request_id, device=upload.device)
        entry = ScreenedDoc(visit, Verdict(ACCEPT, VISIT_TYPE), rev)
        batch = WriteBatch(request=request, accepted=[entry], written=[entry])
        for hook in self.after_write:
            try:
                hook(batch)
            except Exception:  # like the gateway: the photo is stored, a hook must not undo that
                log.exception("after-write hook %s failed for uploaded photo %s/%s",
                              getattr(hook, "__name__", hook), upload.doc_id, upload.name)

    @staticmethod
    def _answer(upload: PhotoUploadRequest, rev: str, stub: dict, created: bool) -> dict:
        return {"ok": True, "created": created, "village_code": upload.village,
                "doc_id": upload.doc_id, "attachment": upload.name, "rev": rev,
                "digest": stub.get("digest"), "content_type": stub.get("content_type"),
                "bytes": len(upload.data),
                "photo_url": f"/api/v1/photos/{upload.village}/{upload.doc_id}/{upload.name}"}
