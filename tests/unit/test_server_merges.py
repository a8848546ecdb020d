"""Merges of server documents a cluster left in conflict: one per type, the same result
whatever order the leaves come in, nothing a writer meant lost."""
from __future__ import annotations

import itertools

from models.escalation import DEFAULT_CHAIN
from sync.cluster import merges
from sync.cluster.membership import active_members, rendezvous_owner
from sync.reconcile.central_view import merge_entries


def _every_order(merge, leaves):
    results = [merge([dict(leaf) for leaf in order]) for order in itertools.permutations(leaves)]
    assert all(result == results[0] for result in results)
    return results[0]


def _alert(rev, **fields):
    base = {"_id": "alert:m", "_rev": rev, "type": "alert", "state": "alerted",
            "alerted_at": "2026-05-03T08:00:00.000Z", "escalation_level": 0, "history": [],
            "steps": {}, "acknowledged_at": None, "resolved_at": None, "delivered_at": None,
            "mediator": None}
    return {**base, **fields}


def test_an_alert_keeps_the_union_of_its_history_and_the_furthest_state():
    acked = _alert("2-a", state="acknowledged", acknowledged_at="2026-05-03T08:03:00.000Z",
                   acknowledged_by="huang.jh",
                   history=[{"at": "2026-05-03T08:03:00.000Z", "by": "huang.jh",
                             "action": "acknowledged"}],
                   steps={"0": {"at": "2026-05-03T08:00:00.000Z", "fanned_out": True}})
    escalated = _alert("2-b", escalation_level=1, delivered_at="2026-05-03T08:00:01.000Z",
                       history=[{"at": "2026-05-03T08:04:00.000Z", "by": "wu.cd",
                                 "action": "note"}],
                       steps={"0": {"at": "2026-05-03T08:00:00.000Z", "fanned_out": False},
                              "1": {"at": "2026-05-03T08:05:00.000Z", "fanned_out": True}})
    merged = _every_order(lambda leaves: merges.merge_alert(leaves, DEFAULT_CHAIN),
                          [acked, escalated])
    assert merged["state"] == "acknowledged" and merged["acknowledged_by"] == "huang.jh"
    assert [h["action"] for h in merged["history"]] == ["acknowledged", "note"]
    assert merged["escalation_level"] == 1 and sorted(merged["steps"]) == ["0", "1"]
    assert merged["steps"]["0"]["fanned_out"] is True
    assert merged["delivered_at"] == "2026-05-03T08:00:01.000Z"
    # acknowledged: the chain's acknowledgement steps stop, the next due is a reminder
    assert merged["next_escalation_at"] > "2026-05-03T08:30"


def test_a_delivery_that_was_sent_stays_sent():
    sent = {"_id": "delivery:x", "_rev": "3-a", "type": "delivery", "state": "delivered",
            "attempts": 1, "delivered_at": "2026-05-03T08:00:02.000Z", "lease_until": "L"}
    retried = {"_id": "delivery:x", "_rev": "3-z", "type": "delivery", "state": "pending",
               "attempts": 2, "delivered_at": None, "lease_until": "2026-05-03T08:01:00.000Z",
               "last_error": "timeout"}
    merged = _every_order(merges.merge_delivery, [sent, retried])
    assert merged["state"] == "delivered" and merged["attempts"] == 2
    assert merged["delivered_at"] == "2026-05-03T08:00:02.000Z" and merged["lease_until"] is None


def test_a_review_task_keeps_the_decided_state():
    open_task = {"_id": "review:t", "_rev": "2-z", "type": "review_task", "state": "open",
                 "households": [1, 2, 3]}
    decided = {"_id": "review:t", "_rev": "2-a", "type": "review_task", "state": "decided",
               "decided_at": "2026-05-03T09:00:00Z", "decided_by": "liang.lj"}
    assert _every_order(merges.merge_review_task, [open_task, decided])["decided_by"] == "liang.lj"


def test_checkpoints_and_heartbeats_keep_the_latest():
    older = {"_id": "checkpoint:c:v", "_rev": "5-z", "updated_at": "2026-05-03T08:00:00Z",
             "since": "12-g1AAAAold"}
    newer = {"_id": "checkpoint:c:v", "_rev": "5-a", "updated_at": "2026-05-03T08:00:05Z",
             "since": "14-g1AAAAnew"}
    assert _every_order(merges.merge_latest("updated_at"), [older, newer])["since"] == \
        "14-g1AAAAnew"


def test_a_central_case_entry_is_recomputed_from_the_union_of_its_events():
    def case(rev, events):
        return {"_id": "case:v:m", "_rev": rev, "type": "central_case", "request_rev": "1-r",
                "events": events, "state": {}}
    contacted = {"_id": "case_event:1", "_rev": "1-a", "kind": "contacted",
                 "recorded_at": "2024-05-03T17:00:00+08:00"}
    assigned = {"_id": "case_event:2", "_rev": "1-b", "kind": "mediator_assigned",
                "recorded_at": "2024-05-04T09:05:00+08:00", "mediator": {"name": "梁"}}
    merged = _every_order(merge_entries, [case("2-a", {"case_event:1": contacted}),
                                          case("2-b", {"case_event:2": assigned})])
    assert sorted(merged["events"]) == ["case_event:1", "case_event:2"]
    assert merged["state"]["event_count"] == 2 and merged["state"]["stage"] == "mediator_assigned"


def test_work_is_split_by_rendezvous_over_the_members_whose_handover_is_over():
    keys = [f"village-{n}" for n in range(200)]
    two = {key: rendezvous_owner(key, ["w1", "w2"]) for key in keys}
    assert 60 < sum(owner == "w1" for owner in two.values()) < 140
    three = {key: rendezvous_owner(key, ["w1", "w2", "w3"]) for key in keys}
    # a member joining takes keys only for itself: nothing moves between the others
    assert all(three[key] in (two[key], "w3") for key in keys)
    beats = [{"worker_id": "w1", "started_at": 0, "beat_at": 100},
             {"worker_id": "w2", "started_at": 95, "beat_at": 100},     # in its handover
             {"worker_id": "w3", "started_at": 0, "beat_at": 20}]       # gone stale
    assert active_members(beats, now=101, stale_s=60, handover_s=20) == ["w1"]
    assert active_members(beats, now=116, stale_s=60, handover_s=20) == ["w1", "w2"]
    # workers that all just started share the work at once
    fresh = [{"worker_id": w, "started_at": 99, "beat_at": 100} for w in ("w1", "w2")]
    assert active_members(fresh, now=101, stale_s=60, handover_s=20) == ["w1", "w2"]
