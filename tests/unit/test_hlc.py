"""Hybrid logical clock stamps."""
import pytest
from hypothesis import given, settings, strategies as st

from models import hlc

FAST = settings(max_examples=200, deadline=None)
nodes = st.from_regex(r"\A[a-z0-9-]{1,12}\Z")
stamps = st.builds(lambda p, c, n: str(hlc.Stamp(p, c, n)), st.integers(0, 4 * 10 ** 12),
                   st.integers(0, hlc.MAX_COUNTER), nodes)


@FAST
@given(stamps, stamps)
def test_string_order_is_stamp_order(a, b):
    assert (a < b) == (hlc.parse(a) < hlc.parse(b))
    assert hlc.compare(a, b) == -hlc.compare(b, a)


@FAST
@given(st.lists(st.integers(0, 4 * 10 ** 12), min_size=1, max_size=30), nodes)
def test_tick_is_strictly_increasing_even_when_the_clock_goes_back(clock_readings, node):
    last = None
    for now in clock_readings:
        stamp = hlc.tick(now, last, node)
        assert last is None or stamp > last
        last = stamp


@FAST
@given(stamps, stamps, st.integers(0, 4 * 10 ** 12), nodes)
def test_receive_is_after_both_the_local_and_the_remote_stamp(last, remote, now, node):
    if hlc.parse(remote).physical_ms - now > hlc.DEFAULT_MAX_DRIFT_MS:
        with pytest.raises(hlc.ClockDriftError):
            hlc.receive(now, last, remote, node)
        return
    stamp = hlc.receive(now, last, remote, node)
    assert (hlc.parse(stamp).physical_ms, hlc.parse(stamp).counter) > \
        (hlc.parse(last).physical_ms, hlc.parse(last).counter)
    assert (hlc.parse(stamp).physical_ms, hlc.parse(stamp).counter) > \
        (hlc.parse(remote).physical_ms, hlc.parse(remote).counter)


def test_format_and_helpers():
    stamp = hlc.tick(1714525200000, None, "dev-7f3a9c21")
    assert stamp == "1714525200000-00000-dev-7f3a9c21"
    assert hlc.parse(stamp).node == "dev-7f3a9c21"
    assert hlc.tick(1714525200000, stamp, "dev-7f3a9c21") == "1714525200000-00001-dev-7f3a9c21"
    assert hlc.MIGRATED < stamp and hlc.compare(None, hlc.MIGRATED) == -1
    assert hlc.latest(None, stamp, hlc.MIGRATED) == stamp
    assert hlc.is_ahead(stamp, 1714525200000 - 2 * hlc.DEFAULT_MAX_DRIFT_MS)
    assert not hlc.is_stamp("2024-05-01T00:00:00Z")


def test_a_full_counter_borrows_a_millisecond():
    full = str(hlc.Stamp(1000, hlc.MAX_COUNTER, "a"))
    assert hlc.tick(500, full, "a") == str(hlc.Stamp(1001, 0, "a"))
    with pytest.raises(ValueError):
        hlc.tick(1, None, "bad node")
