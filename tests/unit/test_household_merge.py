"""The household merge: order-free, idempotent, associative, and it never loses a value."""
from __future__ import annotations

import copy

from hypothesis import given, settings, strategies as st

from models.examples import example
from models.household import household_schema
from models.household_merge import (MISSING, MergeResult, canonical, get_path,
                                    merge_households, merge_paths)

PATH_VALUES = {
    "head": [{"name": "梁国强", "id_number": "441226197803121236"},
             {"name": "梁国强", "id_number": "441226198005062424"}],
    "phones": [["13802261234"], ["13802261234", "13926611234"], []],
    "address": ["德庆县德城街道某村3巷12号", "德庆县新圩镇新圩村5号", None],
    "income_per_capita_fen": [865050, 900000, 1200000, None],
    "poverty_status": ["monitored", "lifted", "at_risk"],
    "notes": ["房屋墙体有裂缝", "已完成危房改造", None],
    "indicators.safe_housing": [True, False, None],
    "indicators.basic_medical": [True, False],
}


def base_household() -> dict:
    doc = example("household")
    doc["_rev"] = "1-aaaa"
    return doc


def _set(doc: dict, path: str, value) -> None:
    if path.startswith("indicators."):
        doc.setdefault("indicators", {})[path.split(".", 1)[1]] = value
    else:
        doc[path] = value


@st.composite
def revisions(draw) -> tuple[dict, list[dict]]:
    """A common ancestor and 1-4 leaf revisions edited from it, each edit with its own stamp."""
    ancestor = base_household()
    count = draw(st.integers(1, 4))
    leaves = []
    for index in range(count):
        leaf = copy.deepcopy(ancestor)
        generation = draw(st.integers(2, 4))
        leaf["_rev"] = f"{generation}-{index:x}{draw(st.integers(0, 9999)):04x}"
        for number, path in enumerate(draw(st.sets(st.sampled_from(sorted(PATH_VALUES))))):
            _set(leaf, path, draw(st.sampled_from(PATH_VALUES[path])))
            moment = draw(st.integers(1714525200000, 1714525200009))
            leaf["field_stamps"][path] = f"{moment}-{number:05d}-dev{index}"
        if draw(st.booleans()):
            leaf[f"extra_{draw(st.integers(0, 2))}"] = draw(st.integers(0, 3))
        leaves.append(leaf)
    return ancestor, leaves


def stamped_view(result: MergeResult) -> dict:
    merged = result.merged
    paths, _ = merge_paths([merged])
    return {"stamps": merged.get("field_stamps"),
            "values": {p: canonical(get_path(merged, p)) for p in paths}}


@settings(max_examples=150, deadline=None)
@given(revisions(), st.randoms(use_true_random=False))
def test_order_of_revisions_does_not_matter(case, rnd):
    ancestor, leaves = case
    shuffled = leaves[:]
    rnd.shuffle(shuffled)
    first, second = merge_households(leaves, ancestor), merge_households(shuffled, ancestor)
    assert first.merged == second.merged
    assert sorted(first.disagreements) == sorted(second.disagreements)
    assert {p: sorted(canonical([c.rev, c.value]) for c in losers)
            for p, losers in first.losers_by_field.items()} == \
        {p: sorted(canonical([c.rev, c.value]) for c in losers)
         for p, losers in second.losers_by_field.items()}


@settings(max_examples=150, deadline=None)
@given(revisions())
def test_merging_again_changes_nothing(case):
    ancestor, leaves = case
    result = merge_households(leaves, ancestor)
    again = merge_households(leaves + [copy.deepcopy(leaves[0])], ancestor)
    assert again.merged == result.merged
    written = {**result.merged, "_rev": "9-ffff"}
    assert stamped_view(merge_households([written, *leaves])) == stamped_view(result)
    assert merge_households([written]).merged == {k: v for k, v in written.items()
                                                  if k != "_rev"}


@settings(max_examples=150, deadline=None)
@given(revisions())
def test_merging_in_steps_gives_the_same_fields(case):
    ancestor, leaves = case
    whole = merge_households(leaves, ancestor)
    step = {**merge_households(leaves[:1], ancestor).merged, "_rev": "8-0001"}
    for index, leaf in enumerate(leaves[1:]):
        step = {**merge_households([step, leaf], ancestor).merged, "_rev": f"8-{index + 2:04x}"}
    assert stamped_view(merge_households([step])) == stamped_view(whole)


@settings(max_examples=150, deadline=None)
@given(revisions())
def test_no_value_is_lost(case):
    ancestor, leaves = case
    result = merge_households(leaves, ancestor)
    stamped, plain = merge_paths(leaves)
    for leaf in leaves:
        for path in stamped + plain:
            value, merged = get_path(leaf, path), get_path(result.merged, path)
            if (value is MISSING) == (merged is MISSING) and \
                    (value is MISSING or canonical(value) == canonical(merged)):
                continue
            losers = result.losers_by_field.get(path, [])
            assert any(c.rev == leaf["_rev"] for c in losers), (path, leaf["_rev"])


@settings(max_examples=100, deadline=None)
@given(revisions())
def test_the_merged_household_is_still_valid(case):
    ancestor, leaves = case
    merged = merge_households(leaves, ancestor).merged
    assert household_schema.validate(merged) == {}


def _edit(doc: dict, rev: str, path: str, value, stamp: str) -> dict:
    out = copy.deepcopy(doc)
    out["_rev"] = rev
    _set(out, path, value)
    out["field_stamps"][path] = stamp
    return out


def test_different_fields_merge_cleanly_with_the_ancestor():
    ancestor = base_household()
    a = _edit(ancestor, "2-aaa", "notes", "甲", "1714700000000-00000-dev-a")
    b = _edit(ancestor, "2-bbb", "indicators.safe_housing", True, "1714600000000-00000-dev-b")
    result = merge_households([a, b], ancestor)
    assert result.merged["notes"] == "甲" and result.merged["indicators"]["safe_housing"] is True
    assert result.disagreements == {}
    assert result.base_rev == "2-bbb"
    # the unchanged side's old value lost to the edit: archived, but nobody needs to review it
    assert [c.rev for c in result.losers_by_field["notes"]] == ["2-bbb"]


def test_same_field_later_stamp_wins_and_is_a_disagreement():
    ancestor = base_household()
    a = _edit(ancestor, "2-aaa", "poverty_status", "lifted", "1714700000000-00000-dev-a")
    b = _edit(ancestor, "2-bbb", "poverty_status", "at_risk", "1714600000000-00000-dev-b")
    result = merge_households([b, a], ancestor)
    assert result.merged["poverty_status"] == "lifted"
    assert result.merged["field_stamps"]["poverty_status"] == "1714700000000-00000-dev-a"
    assert list(result.disagreements) == ["poverty_status"]
    assert [(c.rev, c.value) for c in result.losers_by_field["poverty_status"]] == [
        ("2-bbb", "at_risk")]


def test_without_an_ancestor_every_difference_is_a_disagreement():
    ancestor = base_household()
    a = _edit(ancestor, "2-aaa", "notes", "甲", "1714700000000-00000-dev-a")
    b = _edit(ancestor, "2-bbb", "address", "乙村", "1714600000000-00000-dev-b")
    result = merge_households([a, b])
    assert sorted(result.disagreements) == ["address", "notes"]
    assert result.merged["notes"] == "甲" and result.merged["address"] == "乙村"
