"""Division codes and the rules of the four-level hierarchy (pure)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from models.hierarchy import HierarchyError, check_jurisdiction, is_within, level_of, parent_code


@pytest.mark.parametrize("code, level, parent", [
    ("441200000000", "city", None),
    ("441226000000", "county", "441200000000"),
    ("441226101000", "town", "441226000000"),
    ("441226101201", "village", "441226101000"),
    ("441204001001", "village", "441204001000"),
])
def test_levels_and_parents(code, level, parent):
    assert level_of(code) == level
    assert parent_code(code) == parent
    check_jurisdiction(code, level, parent)


@pytest.mark.parametrize("code, rule", [
    ("44120000000", "division_code_format"),
    ("4412000000001", "division_code_format"),
    ("44120000000x", "division_code_format"),
    ("440000000000", "division_code_level"),       # a province: above our four levels
])
def test_malformed_codes(code, rule):
    with pytest.raises(HierarchyError) as info:
        level_of(code)
    assert info.value.code == rule


def test_child_must_extend_parent():
    with pytest.raises(HierarchyError) as info:
        check_jurisdiction("441226101000", "town", "441223000000")
    assert info.value.code == "division_parent_mismatch"
    with pytest.raises(HierarchyError) as info:
        check_jurisdiction("441226101000", "village", "441226000000")
    assert info.value.code == "division_code_level"


def test_is_within():
    assert is_within("441226101201", "441226000000")
    assert is_within("441226101201", "441226101201")
    assert not is_within("441223102201", "441226000000")
    assert not is_within("garbage", "441226000000")


segments = st.tuples(st.integers(1, 99), st.integers(1, 99), st.integers(1, 999),
                     st.integers(1, 999))


@given(segments)
def test_every_generated_chain_is_consistent(parts):
    city, county, town, village = parts
    codes = [f"44{city:02d}00000000", f"44{city:02d}{county:02d}000000",
             f"44{city:02d}{county:02d}{town:03d}000", f"44{city:02d}{county:02d}{town:03d}{village:03d}"]
    for level, code in zip(("city", "county", "town", "village"), codes):
        assert level_of(code) == level
    for child, parent in zip(codes[1:], codes):
        assert parent_code(child) == parent
        assert is_within(child, codes[0])
