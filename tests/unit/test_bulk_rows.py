"""`_bulk_docs` rows are matched to documents by id, never by position: pouchdb-server (the
embedded server) reorders them when a batch races another write of the same ids (measured:
docs/couchdb-notes.md), CouchDB answers in request order. Both must give the same result."""
from models.registry import classify_device_document
from sync.gateway.screening import ScreenedDoc, WriteBatch
from sync.reconcile.duplicates import DuplicateIndex

VILLAGE = "441226100201"


def _batch(ids: list[str]) -> WriteBatch:
    batch = WriteBatch(request=None)
    for doc_id in ids:
        doc = {"_id": doc_id}
        batch.accepted.append(ScreenedDoc(doc, classify_device_document(doc, VILLAGE)))
    return batch


def test_written_documents_are_found_in_reordered_rows():
    batch = _batch(["household:a", "household:b", "household:c"])
    batch.record_upstream([  # b and c swapped, as pouchdb-server answered; b lost a race
        {"id": "household:a", "ok": True, "rev": "1-a"},
        {"id": "household:c", "ok": True, "rev": "1-c"},
        {"id": "household:b", "error": "conflict", "reason": "Document update conflict."}])
    assert [(e.doc_id, e.rev) for e in batch.written] == [("household:a", "1-a"),
                                                          ("household:c", "1-c")]


def test_one_id_sent_twice_takes_its_rows_in_turn():
    batch = _batch(["household:a", "household:a"])
    batch.record_upstream([{"id": "household:a", "ok": True, "rev": "1-a"},
                           {"id": "household:a", "error": "conflict", "reason": "conflict"}])
    assert [(e.doc_id, e.rev) for e in batch.written] == [("household:a", "1-a")]
    assert batch.accepted[1].rev is None


class _Central:
    """A central database whose `_bulk_docs` answers rows out of order, one row missing."""

    def __init__(self):
        self.stored: dict[str, dict] = {}

    def bulk_docs(self, docs):
        rows = []
        for doc in docs:
            if doc["_id"] in self.stored and doc.get("_rev") != self.stored[doc["_id"]]["_rev"]:
                rows.append({"id": doc["_id"], "error": "conflict", "reason": "conflict"})
            else:
                rev = f"{int(doc.get('_rev', '0-').split('-')[0]) + 1}-x"
                self.stored[doc["_id"]] = {**doc, "_rev": rev}
                rows.append({"id": doc["_id"], "ok": True, "rev": rev})
        return rows[::-1]


def test_an_index_write_is_only_taken_as_done_from_its_own_row():
    central = _Central()
    index = DuplicateIndex(central, review_db=None)
    central.stored["idn:b"] = {"_id": "idn:b", "_rev": "1-x", "households": {"V/h0": {}}}
    # idn:b exists (a 409 comes back, but in another position than idn:b was sent)
    assert index._write([{"_id": "idn:a", "households": {}},
                         {"_id": "idn:b", "households": {}}]) == {"idn:b"}
    # a row that never came back is not written either
    central.bulk_docs = lambda docs: [{"id": docs[0]["_id"], "ok": True, "rev": "1-y"}]
    assert index._write([{"_id": "idn:c", "households": {}},
                         {"_id": "idn:d", "households": {}}]) == {"idn:d"}
