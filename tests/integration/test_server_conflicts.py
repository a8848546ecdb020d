"""The conflict sweeper of the server databases, against the real server and through the
cluster proxy: conflicts left by two accepted writes are merged, losers archived and deleted."""
from __future__ import annotations

import threading

import pytest

from support.at_once import at_once as _at_once
from sync.cluster.server_conflicts import ServerConflicts, default_merges


@pytest.fixture
def settings(settings, cluster_couch):
    """Single node and through the cluster proxy."""
    return cluster_couch.settings(settings)


def _sibling(db, doc: dict, parent: str | None, tag: str) -> str:
    """Store `doc` as one more leaf on `parent` (what a cluster's second accepted write is)."""
    generation = int(parent.split("-")[0]) + 1 if parent else 1
    rev_id = f"{tag:0<32}"[:32]
    history = [rev_id] + ([parent.split("-", 1)[1]] if parent else [])
    db.bulk_docs([{**doc, "_rev": f"{generation}-{rev_id}",
                   "_revisions": {"start": generation, "ids": history}}], new_edits=False)
    return f"{generation}-{rev_id}"


def test_conflicted_alerts_and_deliveries_are_merged_and_their_losers_archived(services):
    alerts = services.couch.database(services.names.alerts)
    alert = {"_id": "alert:mediation:x", "type": "alert", "schema_version": 1,
             "state": "alerted", "alerted_at": "2026-05-03T08:00:00.000Z", "history": [],
             "steps": {"0": {"at": "2026-05-03T08:00:00.000Z", "fanned_out": True}},
             "escalation_level": 0, "acknowledged_at": None, "resolved_at": None}
    alerts.put(alert)
    parent = alert["_rev"]
    acked = {**alert, "state": "acknowledged", "acknowledged_at": "2026-05-03T08:02:00.000Z",
             "acknowledged_by": "huang.jh",
             "history": [{"at": "2026-05-03T08:02:00.000Z", "by": "huang.jh",
                          "action": "acknowledged"}]}
    escalated = {**alert, "escalation_level": 1,
                 "steps": {**alert["steps"], "1": {"at": "2026-05-03T08:05:00.000Z",
                                                   "fanned_out": True}}}
    acked.pop("_rev")
    escalated.pop("_rev")
    _sibling(alerts, acked, parent, "a")
    _sibling(alerts, escalated, parent, "f")
    delivery = {"_id": "delivery:alert:mediation:x:webhook:huang.jh:0", "type": "delivery",
                "state": "pending", "attempts": 1}
    _sibling(alerts, {**delivery, "state": "delivered", "delivered_at": "2026-05-03T08:00:01Z"},
             None, "a")
    _sibling(alerts, {**delivery, "attempts": 2}, None, "f")
    sweeper = ServerConflicts(services.couch, services.names, default_merges())
    assert sweeper.sweep([services.names.alerts]) == 2
    merged = alerts.get(alert["_id"], conflicts=True)
    assert "_conflicts" not in merged
    assert merged["state"] == "acknowledged" and merged["escalation_level"] == 1
    assert sorted(merged["steps"]) == ["0", "1"] and len(merged["history"]) == 1
    sent = alerts.get(delivery["_id"], conflicts=True)
    assert "_conflicts" not in sent and sent["state"] == "delivered" and sent["attempts"] == 2
    review = services.couch.database(services.names.review)
    archived = list(review.docs_with_prefix("server_conflict:alerts:"))
    assert len(archived) == 2 and all(a["losing_body"]["_id"] in (alert["_id"], delivery["_id"])
                                      for a in archived)
    assert sweeper.sweep([services.names.alerts]) == 0  # nothing left: idempotent


def test_two_workers_saving_one_checkpoint_at_once_leave_one(services, cluster_couch):
    state = services.couch.database(services.names.state)
    barrier = threading.Barrier(2)

    def save(since: str) -> None:
        barrier.wait()
        state.create_doc({"_id": "checkpoint:alerts:441226101201", "type": "checkpoint",
                          "since": since, "updated_at": f"2026-05-03T08:00:0{since[0]}Z"})
    threads = [threading.Thread(target=save, args=(seq,)) for seq in ("1-g1AAAA", "2-g1AAAA")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    stored = state.get("checkpoint:alerts:441226101201", conflicts=True)
    if cluster_couch.cluster:  # both creates were accepted: a conflict a single node never has
        assert stored.get("_conflicts")
    ServerConflicts(services.couch, services.names).sweep([services.names.state])
    stored = state.get("checkpoint:alerts:441226101201", conflicts=True)
    assert "_conflicts" not in stored
    if cluster_couch.cluster:
        assert stored["since"] == "2-g1AAAA"  # the later save


def test_two_processes_starting_at_once_answer_one_server_uuid(services, settings,
                                                                cluster_couch):
    """Fails on the old Services._uuid through the proxy: each process kept the uuid of its
    own accepted create (201 and 202), so devices saw two server uuids."""
    from server.bootstrap import build_services
    for _ in range(5):  # fresh installations: nothing stored yet
        services.state_db.get_or_none("server_identity") and services.state_db.delete(
            "server_identity", services.state_db.get("server_identity")["_rev"])
        one, two = build_services(settings), build_services(settings)
        first = _at_once(one.server_uuid, two.server_uuid)
        assert first[0] == first[1] and len(first[0]) == 32
        assert build_services(settings).server_uuid() == first[0]  # a restart: the same
        ServerConflicts(services.couch, services.names).sweep([services.names.state])
        assert services.state_db.get("server_identity")["uuid"] == first[0]


def test_without_a_server_uuid_the_smallest_proposal_wins_everywhere(services, cluster_couch):
    """A server with no uuid of its own (random proposals): two processes may differ only
    until they have re-read; then both, a restart and the sweeper's merge say the same."""
    from sync.cluster.identity import ServerIdentity, proposal
    clock = [0.0]
    racers = [ServerIdentity(services.state_db, lambda: proposal(None, "x"), settle_s=60,
                             recheck_s=10, clock=lambda: clock[0]) for _ in range(2)]
    _at_once(*(racer.uuid for racer in racers))
    cluster_couch.settle()
    clock[0] = 61.0  # past the re-check and the settling time
    agreed = {racer.uuid() for racer in racers}
    assert len(agreed) == 1
    stored = [row["ok"]["uuid"] for row in services.state_db.get("server_identity",
                                                                  open_revs="all")
              if "ok" in row and not row["ok"].get("_deleted")]
    assert agreed == {min(stored)}
    ServerConflicts(services.couch, services.names).sweep([services.names.state])
    assert services.state_db.get("server_identity", conflicts=True).get("_conflicts") is None
    assert services.state_db.get("server_identity")["uuid"] == min(stored)
    clock[0] = 200.0
    assert {racer.uuid() for racer in racers} == agreed  # settled: never read again


def _queue_photos(services, village: str) -> tuple[dict, dict]:
    """A visit with one good and one broken photo in a village database, queued as the
    gateway queues them; (the visit, its attachment stubs)."""
    import base64

    from support.images import jpeg
    db = services.couch.database(services.names.village(village))
    db.create()
    visit = {"_id": "verification_visit:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
             "type": "verification_visit", "household_id": "household:h1",
             "village_code": village, "_attachments": {
                 "good.jpg": {"content_type": "image/jpeg",
                              "data": base64.b64encode(jpeg()).decode()},
                 "broken.jpg": {"content_type": "image/jpeg",
                                "data": base64.b64encode(b"not a photo at all").decode()}}}
    db.put(visit)
    stored = db.get(visit["_id"])
    services.photo_desk.enqueue(_batch(village, stored))
    return stored, stored["_attachments"]


def _batch(village: str, stored: dict):
    """What the gateway's after-write hooks get for one stored document."""
    from types import SimpleNamespace
    entry = SimpleNamespace(doc_id=stored["_id"], rev=stored["_rev"], doc=stored)
    return SimpleNamespace(request=SimpleNamespace(village=village), written=[entry])


@pytest.mark.cluster_proxy(conflict_window_s=1.0)
def test_two_workers_processing_one_photo_at_once_store_it_once(services, settings,
                                                                 cluster_couch):
    """A handover: both workers process the same photos at once (their leases both accepted
    on a cluster). Fails on the old queue through the proxy: the refused photo's feedback was
    stamped with each worker's own time, so the village database (which the cadre's phone
    replicates) held two conflicting feedback revisions."""
    from server.bootstrap import build_services
    village = "441226101201"
    visit, _ = _queue_photos(services, village)
    other = build_services(settings)
    done = _at_once(lambda: services.photo_desk.process_pending("w1"),
                    lambda: other.photo_desk.process_pending("w2"))
    assert sum(done) >= 2
    cluster_couch.settle()
    ServerConflicts(services.couch, services.names).sweep([services.names.photos])
    photos = services.couch.database(services.names.photos)
    records = list(photos.docs_with_prefix("photo:"))
    assert sorted(r["attachment"] for r in records) == ["broken.jpg", "good.jpg"]
    assert all("_conflicts" not in photos.get(r["_id"], conflicts=True) for r in records)
    assert [j for j in photos.docs_with_prefix("photo_job:")] == []
    village_db = services.couch.database(services.names.village(village))
    feedback = [row["doc"] for row in village_db.all_docs(include_docs=True, conflicts=True)["rows"]
                if row["id"].startswith("feedback:")]
    assert len(feedback) == 1 and "_conflicts" not in feedback[0]
    assert feedback[0]["target"]["attachment"] == "broken.jpg"
    # a repeat (a worker that died after the record, before removing the job) changes nothing
    before = {r["_id"]: r["_rev"] for r in photos.docs_with_prefix("photo:")}
    services.photo_desk.enqueue(_batch(village, visit))
    assert services.photo_desk.process_pending("w3") == 2
    assert {r["_id"]: r["_rev"] for r in photos.docs_with_prefix("photo:")} == before
    assert list(photos.docs_with_prefix("photo_job:")) == []
    assert village_db.get(feedback[0]["_id"])["_rev"] == feedback[0]["_rev"]


def test_a_disable_is_kept_when_a_cluster_also_accepted_a_later_edit(services):
    """The directory database is swept by the worker. Fails on the old worker: the directory
    was not swept, the conflict stayed and CouchDB's winner was the edit without the disable."""
    from server.worker import Worker
    directory = services.couch.database(services.names.directory)
    account = services.directory.add_account(
        {"username": "chen.zq", "display_name": "陈志强", "role": "cadre",
         "jurisdiction": "441226101201"}, "device-pass-1")
    parent = directory.get(account["_id"])
    body = {k: v for k, v in parent.items() if k != "_rev"}
    _sibling(directory, {**body, "disabled": True, "token_generation": 1,
                         "updated_at": "2026-05-03T08:01:00.000Z"}, parent["_rev"], "a")
    _sibling(directory, {**body, "display_name": "陈志强（驻村）",
                         "updated_at": "2026-05-03T08:02:00.000Z"}, parent["_rev"], "f")
    assert not directory.get(account["_id"]).get("disabled")  # CouchDB's pick: the rename
    Worker(services, worker_id="w1").resolve_conflicts()
    merged = directory.get(account["_id"], conflicts=True)
    assert "_conflicts" not in merged and merged["disabled"] is True
    assert merged["token_generation"] == 1 and merged["display_name"] == "陈志强（驻村）"
    review = services.couch.database(services.names.review)
    assert len(list(review.docs_with_prefix("server_conflict:directory:account:"))) == 1


@pytest.mark.cluster_proxy(conflict_window_s=1.0)
def test_two_processes_counting_logins_and_claiming_a_device_at_once(services, settings,
                                                                       cluster_couch):
    """Two web processes at once: a device claimed by two accounts, two password checks of one
    source counted. Through the proxy both writes of each are accepted; the second claimer is
    told at once (tests/integration/test_cluster_directory.py), after the sweep one owner, as
    both processes then read it, and both checks still in flight."""
    from server.bootstrap import build_services
    from sync.directory.devices import DeviceTaken
    from sync.directory.lockout import source_doc_id
    one, two = services, build_services(settings)

    def claim(svc, username: str) -> str | None:
        try:
            svc.devices.claim("dev-7f3a", username, "441226101201")
            return username
        except DeviceTaken:  # what a single node answers the second one
            return None
    told = _at_once(lambda: claim(one, "chen.zq"), lambda: claim(two, "li.xy"))
    assert any(told) and not all(told)  # on a cluster too: the claim is read back
    attempts = _at_once(lambda: one.authenticator.throttle.reserve("chen.zq", "10.0.0.9"),
                        lambda: two.authenticator.throttle.reserve("chen.zq", "10.0.0.9"))
    cluster_couch.settle()
    ServerConflicts(services.couch, services.names).sweep([services.names.directory,
                                                           services.names.state])
    device = services.couch.database(services.names.directory).get("device:dev-7f3a",
                                                                    conflicts=True)
    assert "_conflicts" not in device
    assert one.devices.owner("dev-7f3a") == two.devices.owner("dev-7f3a") == device["username"]
    counter = services.state_db.get(source_doc_id("chen.zq", "10.0.0.9"), conflicts=True)
    assert "_conflicts" not in counter
    assert set(counter["in_flight"]) == {a.mark for a in attempts}  # neither check forgotten
