"""Budgets of requests held at once (sync/budgets.py): per process, per account, and the wait
for a turn that the per-account share of device reads gives a burst."""
from __future__ import annotations

import threading

import pytest

from sync.budgets import HeldBudget, OverBudget


def test_past_the_share_of_an_account_refused_at_once_without_a_wait():
    budget = HeldBudget("waiting", total=3, per_account=2)
    budget.take("a")
    budget.take("a")
    with pytest.raises(OverBudget) as refused:
        budget.take("a")
    assert (refused.value.code, refused.value.limit) == ("too_many_waiting_account", 2)
    budget.take("b")
    with pytest.raises(OverBudget) as full:
        budget.take("c")
    assert full.value.code == "too_many_waiting"
    assert budget.figures()["refused"] == {"too_many_waiting_account": 1, "too_many_waiting": 1}


def test_a_request_past_its_share_waits_for_a_turn_and_gets_it():
    budget = HeldBudget("reads", None, per_account=1, wait_s=30.0)
    budget.take("a")
    got = threading.Event()

    def second() -> None:
        budget.take("a")
        got.set()
    waiter = threading.Thread(target=second)
    waiter.start()
    for _ in range(500):  # bounded: until the second request is seen waiting
        if budget.figures()["waiting_for_share"] == 1:
            break
        threading.Event().wait(0.01)
    assert budget.figures()["waiting_for_share"] == 1 and not got.is_set()
    budget.take("b")  # another account is not held up by a's queue
    budget.give_back("a")
    waiter.join(timeout=30)
    assert got.is_set() and budget.figures()["held"] == 2 and budget.figures()["refused"] == {}


def test_a_wait_that_ends_without_a_turn_is_refused_with_the_account_code():
    budget = HeldBudget("reads", None, per_account=1, retry_after=2, wait_s=0.05)
    budget.take("a")
    with pytest.raises(OverBudget) as refused:
        budget.take("a")
    assert (refused.value.code, refused.value.retry_after) == ("too_many_reads_account", 2)
    assert budget.figures()["waiting_for_share"] == 0 and budget.figures()["held"] == 1
