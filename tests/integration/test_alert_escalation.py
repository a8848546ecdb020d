"""Escalation with an injected clock; requests written past the gateway; webhook retries."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest

from models.alerts import retry_delay_s
from models.doc_ids import alert_id
from models.escalation import DEFAULT_CHAIN, due_steps, parse_chain
from server.worker import Worker
from support.alerting import TOWN, bypass_write, mediation_request, run_until_idle


def sent(services, alert: str) -> set[tuple]:
    return {(d["channel"], d["recipient"], d["step"])
            for d in services.alerts.store.deliveries_of(alert) if d["state"] == "delivered"}


def test_a_request_written_past_the_gateway_is_caught_by_the_sweep(quiet, webhook):
    request = mediation_request()
    bypass_write(quiet, request)
    invalid = mediation_request(urgency="whenever")  # quarantine material: no alert
    bypass_write(quiet, invalid)
    run_until_idle(Worker(quiet, worker_id="w1"))
    alert = quiet.alerts.store.get(alert_id(request["_id"]))
    assert alert["detected_by"] == "sweep" and alert["steps"]["0"]["recipients"] == ["huang.jh"]
    assert quiet.alerts.store.get(alert_id(invalid["_id"])) is None
    assert [p["json"]["alert"]["_id"] for p in webhook.wait_for(1)] == [alert["_id"]]


def test_unacknowledged_alerts_escalate_and_acknowledgement_stops_the_chain(quiet, webhook):
    worker = Worker(quiet, worker_id="w1")
    first, second = mediation_request(), mediation_request()
    bypass_write(quiet, first)
    bypass_write(quiet, second)
    run_until_idle(worker)
    a1, a2 = alert_id(first["_id"]), alert_id(second["_id"])
    start = datetime.now(UTC)

    run_until_idle(worker, start + timedelta(minutes=4))
    assert sent(quiet, a1) == {("inbox", "huang.jh", 0), ("webhook", "huang.jh", 0)}

    quiet.alerts.casework.acknowledge(a2, "huang.jh")
    run_until_idle(worker, start + timedelta(minutes=6))
    assert sent(quiet, a1) - {("inbox", "huang.jh", 0), ("webhook", "huang.jh", 0)} == {
        (channel, who, 1) for channel in ("inbox", "webhook") for who in ("zhou.tl", "wu.cd")}
    assert {d["step"] for d in quiet.alerts.store.deliveries_of(a2)} == {0}  # stopped

    run_until_idle(worker, start + timedelta(minutes=31))
    assert {d["recipient"] for d in quiet.alerts.store.deliveries_of(a1) if d["step"] == 2} == {
        "he.cl"}
    quiet.alerts.casework.acknowledge(a1, "zhou.tl")

    run_until_idle(worker, start + timedelta(hours=24, minutes=1))
    reminders = {(d["recipient"], d["step"]) for alert in (a1, a2)
                 for d in quiet.alerts.store.deliveries_of(alert) if d["step"] >= 3}
    assert reminders == {("huang.jh", 3), ("zhou.tl", 3)}  # duty officer + whoever acknowledged
    quiet.alerts.casework.resolve(a2, "huang.jh", "agreement_reached")

    run_until_idle(worker, start + timedelta(hours=48, minutes=1))
    overdue = {(d["recipient"], d["step"]) for d in quiet.alerts.store.deliveries_of(a1)
               if d["step"] == 4}
    assert overdue == {("huang.jh", 4), ("zhou.tl", 4), ("wu.cd", 4)}
    assert not [d for d in quiet.alerts.store.deliveries_of(a2) if d["step"] == 4]
    assert quiet.alerts.store.get(a1)["escalation_level"] == 4
    assert quiet.alerts.store.get(a1)["next_escalation_at"] is None
    # every webhook delivery arrived once, signed
    keys = webhook.keys()
    assert len(keys) == len(set(keys)) and all(p["signed"] for p in webhook.accepted())


def test_due_steps_is_derived_from_the_stored_alert():
    alert = {"alerted_at": "2026-01-01T00:00:00.000Z", "steps": {"0": {}}}
    at = lambda minutes: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)  # noqa: E731
    assert due_steps(alert, at(4)) == []
    assert [s.step for s in due_steps(alert, at(31))] == [1, 2]
    alert["acknowledged_at"] = "2026-01-01T00:03:00.000Z"
    assert due_steps(alert, at(31)) == []
    assert [s.step for s in due_steps(alert, at(49 * 60))] == [3, 4]
    alert["resolved_at"] = "2026-01-01T01:00:00.000Z"
    assert due_steps(alert, at(49 * 60)) == []
    assert parse_chain(None) == DEFAULT_CHAIN
    custom = parse_chain('[{"step": 0, "name": "alert", "kind": "alert", "after_s": 0,'
                         ' "stop_when": "acknowledged", "notify": ["county_duty"]}]')
    assert custom[0].notify == ("county_duty",)
    with pytest.raises(ValueError):
        parse_chain('[{"step": 1, "name": "x", "kind": "alert", "after_s": 0,'
                    ' "stop_when": "acknowledged", "notify": ["nobody"]}]')


def test_failed_webhooks_back_off_and_die_after_a_day(quiet, webhook):
    webhook.fail_left = 10 ** 6
    worker = Worker(quiet, worker_id="w1")
    request = mediation_request()
    bypass_write(quiet, request)
    run_until_idle(worker)
    hook = next(d for d in quiet.alerts.store.deliveries_of(alert_id(request["_id"]))
                if d["channel"] == "webhook")
    assert hook["state"] == "pending" and hook["attempts"] == 1
    assert "500" in hook["last_error"]
    assert [retry_delay_s(n) for n in (1, 2, 3, 7, 8, 30)] == [30, 60, 120, 1920, 3600, 3600]
    created = datetime.fromisoformat(hook["created_at"])
    moment, attempts = created, 1
    while moment < created + timedelta(hours=25):
        moment += timedelta(hours=1)
        worker.services.alerts.outbox.run_due("w1", now=moment)
        attempts += 1
    dead = quiet.alerts.store.db.get(hook["_id"])
    assert dead["state"] == "dead" and dead["dead_at"]
    assert 20 <= dead["attempts"] <= attempts
    listed = quiet.alerts.store.dead_deliveries(["town", TOWN], 10, 0)
    assert [d["_id"] for d in listed] == [hook["_id"]]
