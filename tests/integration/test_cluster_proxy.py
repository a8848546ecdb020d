"""The cluster proxy reproduces what a CouchDB cluster did: 201 + 202 for racing writes of one id
(and a document really left in conflict), a lagging `_changes`, opaque sequences."""
from __future__ import annotations

import threading
import time

from sync.couch.client import CouchServer
from support.cluster_proxy import ClusterProxy, _rows_by_doc


def _through(couch_admin, **options) -> tuple[ClusterProxy, CouchServer]:
    proxy = ClusterProxy(couch_admin.url, **options).start()
    return proxy, CouchServer(proxy.url, couch_admin.username, couch_admin.password)


def test_two_racing_creates_of_one_id_both_succeed_and_leave_a_conflict(couch_admin, names):
    proxy, couch = _through(couch_admin, conflict_window_s=1.0)
    try:
        db = couch.database(names.state)
        db.create()
        barrier, revs = threading.Barrier(2), []

        def create(n: int) -> None:
            barrier.wait()
            revs.append(db.put({"_id": "lease:x", "writer": n}))
        threads = [threading.Thread(target=create, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert len(revs) == 2 and sorted(r.accepted for r in revs) == [False, True]
        stored = couch.database(names.state).get("lease:x", conflicts=True)
        assert set([stored["_rev"], *stored["_conflicts"]]) == set(revs)
        # _bulk_docs rows too, and a write after the window is a plain 409 again
        rows = db.bulk_docs([{"_id": "lease:y", "writer": 1}])
        raced = db.bulk_docs([{"_id": "lease:y", "writer": 2}])
        assert rows[0]["ok"] and raced[0]["ok"] and raced[0]["accepted"]
        # the very same edit twice is one revision on CouchDB (its id is derived from the
        # parent and the body): accepted, and no conflict
        same = [db.bulk_docs([{"_id": "lease:z", "writer": 1}]) for _ in range(2)]
        assert same[1][0]["accepted"] and same[1][0]["rev"] == same[0][0]["rev"]
        assert "_conflicts" not in db.get("lease:z", conflicts=True)
        time.sleep(1.1)
        assert db.bulk_docs([{"_id": "lease:y"}])[0]["error"] == "conflict"
        assert proxy.counts["accepted_202"] == 2 and proxy.counts["identical_edits"] == 1
    finally:
        couch.session.close()
        proxy.stop()


def test_changes_lag_behind_a_write_and_sequences_are_opaque(couch_admin, names):
    proxy, couch = _through(couch_admin, changes_lag_s=0.5)
    try:
        db = couch.database(names.state)
        db.create()
        db.put({"_id": "a"})
        time.sleep(0.6)
        first = db.changes()
        assert [r["id"] for r in first.results] == ["a"]
        assert first.last_seq.startswith("1-g1AAAA")
        info_seq = db.info()["update_seq"]
        assert isinstance(info_seq, str) and info_seq != first.last_seq  # never comparable
        db.put({"_id": "b"})
        assert db.changes(first.last_seq).results == []  # not there yet
        time.sleep(0.6)
        later = db.changes(first.last_seq)
        assert [r["id"] for r in later.results] == ["b"]
        assert db.changes(later.last_seq).results == []
        assert db.changes(info_seq).results[0]["id"] == "b"  # update_seq works as `since`
    finally:
        couch.session.close()
        proxy.stop()


def test_bulk_rows_are_paired_with_their_documents_by_id():
    """pouchdb-server reorders `_bulk_docs` rows when batches race (docs/couchdb-notes.md):
    the proxy decided which write lost a race by position, stored a conflict for the wrong
    document and answered the loser's row away (CI, test_central_view, session 6)."""
    docs = [{"_id": "a"}, {"_id": "b"}, {"_id": "c"}, {"_id": "b"}, "junk"]
    rows = [{"id": "c", "ok": True}, {"id": "b", "error": "conflict"}, {"id": "a", "ok": True},
            {"id": "b", "ok": True}, {"error": "bad_request"}]
    aligned, unmatched = _rows_by_doc(docs, rows)
    assert aligned == [{"id": "a", "ok": True}, {"id": "b", "error": "conflict"},
                       {"id": "c", "ok": True}, {"id": "b", "ok": True}, None]
    assert unmatched == [{"error": "bad_request"}]
