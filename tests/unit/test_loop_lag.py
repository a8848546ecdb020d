"""The web worker's loop-lag gauge (mobile_api/loop_lag.py): what it records and reports, fed by
a fake clock and a fake sleep (no timing here: the overshoot is what the fake clock says)."""
from __future__ import annotations

import pytest

from mobile_api import loop_lag
from mobile_api.loop_lag import LoopLag


def counts(lag: LoopLag) -> dict:
    return {bound: count for bound, count in lag.figures()["at_most_ms"] if count}


def test_each_lag_is_counted_under_the_smallest_bound_it_does_not_exceed():
    lag = LoopLag()
    for ms in (0.0, 1.0, 1.5, 50.0, 50.1, 4999.0, 7000.0):
        lag.record(ms)
    assert counts(lag) == {1: 2, 2: 1, 50: 1, 100: 1, 5000: 1, None: 1}
    figures = lag.figures()
    assert figures["samples"] == 7 and figures["max_ms"] == 7000.0
    assert figures["last_minute"] == {"p50_ms": 50.0, "p99_ms": 7000.0, "max_ms": 7000.0}


def test_the_last_minute_forgets_old_lags_and_the_counts_since_start_do_not():
    lag = LoopLag()
    lag.record(900.0)
    for _ in range(LoopLag.RECENT):
        lag.record(3.0)
    figures = lag.figures()
    assert figures["last_minute"]["max_ms"] == 3.0
    assert figures["max_ms"] == 900.0 and figures["samples"] == LoopLag.RECENT + 1


def test_nothing_recorded_yet_reports_none_rather_than_zero():
    assert LoopLag().figures()["last_minute"] == {"p50_ms": None, "p99_ms": None, "max_ms": None}


def test_run_records_how_much_later_than_asked_each_sleep_ended(monkeypatch):
    clock = {"now": 100.0}
    overshoots = iter([0.0, 0.002, 0.3])

    def fake_sleep(seconds: float) -> None:
        try:
            clock["now"] += seconds + next(overshoots)
        except StopIteration:
            raise KeyboardInterrupt from None  # stops the forever loop
    monkeypatch.setattr(loop_lag.time, "monotonic", lambda: clock["now"])
    lag = LoopLag()
    with pytest.raises(KeyboardInterrupt):
        lag.run(fake_sleep)
    assert sorted(round(ms, 3) for ms in lag.recent) == [0.0, 2.0, 300.0]
