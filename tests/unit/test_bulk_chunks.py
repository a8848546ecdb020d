"""A partly refused batch is sent on in bodies of a few MiB: every accepted document exactly once."""
from __future__ import annotations

import json
from types import SimpleNamespace

from sync.gateway.forwarding import bulk_chunks


def entries(n: int, size: int) -> list:
    return [SimpleNamespace(doc={"_id": f"visit:{i:04d}", "notes": "备" * size}) for i in range(n)]


def test_every_document_once_in_order_and_each_body_under_the_limit():
    docs = entries(50, 3000)  # ~9 KB of UTF-8 each
    bodies = list(bulk_chunks(docs, new_edits=True, limit=40_000))
    assert len(bodies) > 1 and all(len(b) <= 40_000 + 100 for b in bodies)
    sent = [doc for body in bodies for doc in json.loads(body)["docs"]]
    assert sent == [e.doc for e in docs]
    assert all("new_edits" not in json.loads(body) for body in bodies)


def test_replicated_batches_keep_new_edits_false_and_a_big_document_goes_alone():
    docs = entries(3, 10) + entries(1, 100_000)
    bodies = [json.loads(b) for b in bulk_chunks(docs, new_edits=False, limit=1_000)]
    assert all(body["new_edits"] is False for body in bodies)
    assert [len(body["docs"]) for body in bodies] == [3, 1]
