"""Migrations: every older version still in the field reads as the current one, losing nothing."""
import pytest
from hypothesis import given, settings, strategies as st

from models import hlc
from models.examples import example
from models.migrations import MigrationError, upgrade
from models.registry import REGISTRY, load_document, validation_problems

FAST = settings(max_examples=100, deadline=None)
json_leaves = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6),
                        st.text(max_size=8))
json_values = st.recursive(json_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6)
extra_fields = st.dictionaries(st.from_regex(r"\Ax_[a-z]{1,6}\Z"), json_values, max_size=3)


def household_v1(phone, income, extras) -> dict:
    doc = example("household")
    for name in ("phones", "income_per_capita_fen", "field_stamps"):
        doc.pop(name)
    doc["schema_version"] = 1
    doc.update(extras)
    if phone is not None:
        doc["phone"] = phone
    if income is not None:
        doc["income"] = income
    return doc


def mediation_v1(name, phone, amount, extras) -> dict:
    doc = example("mediation_request")
    for field in ("applicant", "urgency", "amount_in_dispute_fen"):
        doc.pop(field)
    doc.update(schema_version=1, applicant_name=name, applicant_phone=phone, **extras)
    if amount is not None:
        doc["amount"] = amount
    return doc


def leaves(value, path=()):
    """Every (path, leaf value) in a JSON value."""
    if isinstance(value, dict) and value:
        for key, nested in value.items():
            yield from leaves(nested, (*path, key))
    elif isinstance(value, list) and value:
        for index, nested in enumerate(value):
            yield from leaves(nested, (*path, index))
    else:
        yield path, value


def lookup(doc, path):
    for key in path:
        try:
            doc = doc[key]
        except (KeyError, IndexError, TypeError):
            return KeyError
    return doc


def assert_nothing_lost(old: dict, new: dict) -> None:
    for path, value in leaves(old):
        if path == ("schema_version",):
            continue
        here = lookup(new, path)
        kept = lookup(new, ("legacy", f"v{old['schema_version']}", *path))
        assert value in (here, kept), f"{path} = {value!r} was lost"


phones = st.one_of(st.none(), st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
                   st.from_regex(r"\A\+86 1[3-9][0-9]-[0-9]{4}-[0-9]{4}\Z"), st.text(max_size=12))
incomes = st.one_of(st.none(), st.integers(0, 10 ** 6),
                    st.floats(0, 10 ** 6, allow_nan=False), st.text(max_size=5))


@FAST
@given(phones, incomes, extra_fields)
def test_household_v1_to_current_loses_nothing(phone, income, extras):
    old = household_v1(phone, income, extras)
    new = upgrade(old, REGISTRY["household"].version)
    assert new["schema_version"] == 2
    assert_nothing_lost(old, new)
    assert_nothing_lost(old, load_document(old))  # and reading it back keeps it all


@FAST
@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z"), st.integers(0, 10 ** 6))
def test_a_valid_v1_household_becomes_a_valid_current_one(phone, income):
    new = upgrade(household_v1(phone, income, {}), 2)
    assert validation_problems(new, "household") == []
    assert new["phones"] == [phone]
    assert new["income_per_capita_fen"] == round(income * 100 / len(new["members"]))
    assert set(new["field_stamps"].values()) == {hlc.MIGRATED}  # any real edit beats them


names = st.text(min_size=1, max_size=8)
amounts = st.one_of(st.none(), st.integers(0, 10 ** 6), st.floats(0, 10 ** 6, allow_nan=False))


@FAST
@given(names, phones, amounts, extra_fields)
def test_mediation_request_v1_to_current_loses_nothing(name, phone, amount, extras):
    old = mediation_v1(name, phone, amount, extras)
    new = upgrade(old, REGISTRY["mediation_request"].version)
    assert_nothing_lost(old, new)
    assert new["urgency"] == "normal" and new["applicant"]["name"] == name
    for field in extras:
        assert new[field] == extras[field]


def test_a_valid_v1_request_is_valid_after_migration():
    new = upgrade(mediation_v1("何永明", "139 2661 1234", 12000.5, {}), 2)
    assert validation_problems(new, "mediation_request") == []
    assert new["applicant"]["phone"] == "13926611234" and new["amount_in_dispute_fen"] == 1200050


def test_upgrade_does_not_touch_its_input_and_refuses_unknown_versions():
    old = household_v1("13802261234", 1000, {})
    snapshot = repr(old)
    upgrade(old, 2)
    assert repr(old) == snapshot
    for version, code in ((3, "schema_version_unsupported"), ("2", "invalid_type"),
                          (0, "invalid_type")):
        with pytest.raises(MigrationError) as raised:
            upgrade({**old, "schema_version": version}, 2)
        assert raised.value.code == code
    with pytest.raises(MigrationError):
        upgrade({"type": "household"}, 2)


def test_registry_lists_the_migrations_per_type():
    assert set(REGISTRY["household"].migrations) == {1}
    assert set(REGISTRY["mediation_request"].migrations) == {1}
