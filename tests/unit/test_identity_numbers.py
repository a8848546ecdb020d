"""GB 11643 identity numbers and mainland mobile numbers."""
from datetime import date

from hypothesis import given, settings, strategies as st

from models.identity import (check_character, id_number_problem, mask_id_number, mask_phone,
                             normalise_id_number, normalise_phone)

FAST = settings(max_examples=200, deadline=None)

areas = st.sampled_from(["441226", "441202", "110101", "440305", "510104", "650102"])
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 1, 1))
sequences = st.integers(0, 999)


def build(area: str, born: date, sequence: int) -> str:
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def test_known_numbers():
    assert check_character("11010519491231002") == "X"  # the standard's own example
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("441226197803121236") is None
    assert id_number_problem("441226197803121235") == "id_number_checksum"


def test_each_rule_has_its_own_code():
    assert id_number_problem("44122619780312123") == "id_number_format"
    assert id_number_problem("4412261978031212X6") == "id_number_format"
    assert id_number_problem("991226197803121236") == "id_number_area"
    assert id_number_problem(build("441226", date(2000, 1, 1), 1)[:10] + "0230"
                             + "0011") == "id_number_birth_date"
    future = build("441226", date(2030, 1, 1), 1)
    assert id_number_problem(future, today=date(2024, 1, 1)) == "id_number_birth_date"


@FAST
@given(areas, births, sequences)
def test_built_numbers_are_valid(area, born, sequence):
    assert id_number_problem(build(area, born, sequence)) is None


@FAST
@given(areas, births, sequences, st.sampled_from("0123456789X"))
def test_any_other_check_character_is_refused(area, born, sequence, wrong):
    number = build(area, born, sequence)
    if wrong != number[-1]:
        assert id_number_problem(number[:17] + wrong) == "id_number_checksum"


@FAST
@given(areas, births, sequences, st.integers(0, 16), st.integers(1, 9))
def test_a_single_mistyped_digit_is_always_caught(area, born, sequence, position, shift):
    number = build(area, born, sequence)
    digit = str((int(number[position]) + shift) % 10)
    assert id_number_problem(number[:position] + digit + number[position + 1:]) is not None


def test_normalise_and_mask():
    assert normalise_id_number(" 11010519491231002x ") == "11010519491231002X"
    assert mask_id_number("441226199001011234") == "4412**********1234"
    assert mask_phone("13802261234") == "138****1234"


@FAST
@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z"), st.sampled_from(["", "+86", "+86 ", "0086", "86"]),
       st.sampled_from(["", " ", "-"]))
def test_phone_noise_is_normalised_away(phone, prefix, separator):
    written = prefix + separator.join([phone[:3], phone[3:7], phone[7:]])
    assert normalise_phone(written) == phone


def test_non_mobile_numbers_are_refused():
    for raw in ("12802261234", "1380226123", "0758-1234567", "138022612345", "", "abc"):
        assert normalise_phone(raw) is None
