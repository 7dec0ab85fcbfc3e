"""The TC Kimlik No check: valid numbers pass; each broken rule is named."""

from __future__ import annotations

import pytest

from processes import identity

# Numbers that satisfy the official rule (the first is the well-known test number).
VALID = ("10000000146", "12345678950", "98765432150", "11111111110")


def _digits_for(first_nine: str) -> str:
    """The check digits worked out by hand from the rule, independently of the module."""
    d = [int(c) for c in first_nine]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return f"{first_nine}{tenth}{(sum(d) + tenth) % 10}"


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass(number):
    assert identity.national_id_problem(number) is None
    assert identity.is_valid(number)


@pytest.mark.parametrize("first_nine", ["100000001", "123456789", "987654321", "555555555", "203040506"])
def test_numbers_built_by_the_rule_pass_and_their_digits_agree(first_nine):
    number = _digits_for(first_nine)
    assert identity.check_digits(first_nine) == number[9:]
    assert identity.is_valid(number)


def test_spaces_between_digit_groups_are_ignored():
    assert identity.is_valid(" 100 000 001 46 ")
    assert identity.normalize(" 100 000 001 46 ") == "10000000146"


@pytest.mark.parametrize(("number", "code"), [
    ("", identity.REQUIRED),
    (None, identity.REQUIRED),
    ("1000000014", identity.DIGITS),           # 10 digits
    ("100000001460", identity.DIGITS),         # 12 digits
    ("1000000014a", identity.DIGITS),          # a letter
    ("١٠٠٠٠٠٠٠١٤٦", identity.DIGITS),          # Arabic-Indic digits are digits to Python, not to the state
    ("01234567890", identity.LEADING_ZERO),
    ("10000000156", identity.CHECK_10),         # 10th digit off by one
    ("10000000147", identity.CHECK_11),         # 11th digit off by one
    ("10000001046", identity.CHECK_10),         # two digits swapped
])
def test_each_broken_rule_is_named(number, code):
    problem = identity.national_id_problem(number, field="tc")
    assert problem is not None and problem.code == code and problem.location == "tc"
    assert problem.message
    assert not identity.is_valid(number)


def test_every_single_digit_typo_in_a_valid_number_is_caught():
    number = "12345678950"
    for position in range(11):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1:]
            assert not identity.is_valid(typo), typo
