"""The Turkish national identity number (TC Kimlik No) the portal asks requesters for.

A valid number has 11 digits, does not start with 0, and ends with two check digits:

* the 10th digit is ``(7 × (d1 + d3 + d5 + d7 + d9) − (d2 + d4 + d6 + d8)) mod 10``;
* the 11th digit is ``(d1 + d2 + … + d10) mod 10``.

The check says which rule failed, so that the form can tell a person what to look at
(a missing digit is not the same mistake as a swapped one).
"""

from __future__ import annotations

from engine.errors import Problem

# Problem codes, one per rule, in the order they are checked.
REQUIRED = "required"
DIGITS = "digits"            # 11 characters, all digits
LEADING_ZERO = "leading_zero"
CHECK_10 = "check_digit_10"
CHECK_11 = "check_digit_11"

_MESSAGES = {
    REQUIRED: "enter your national identity number",
    DIGITS: "a national identity number has exactly 11 digits",
    LEADING_ZERO: "a national identity number does not start with 0",
    CHECK_10: "the 10th digit does not match the first nine: please check the number",
    CHECK_11: "the 11th digit does not match the first ten: please check the number",
}


def normalize(value: str | None) -> str:
    """The number as typed, without the spaces people put between digit groups."""
    return "".join((value or "").split())


def check_digits(first_nine: str) -> str:
    """The two check digits that follow nine digits (used by the check and by tests)."""
    d = [int(c) for c in first_nine]
    tenth = (7 * sum(d[0:9:2]) - sum(d[1:8:2])) % 10
    eleventh = (sum(d) + tenth) % 10
    return f"{tenth}{eleventh}"


def national_id_problem(value: str | None, *, field: str = "national_id") -> Problem | None:
    """What is wrong with a TC Kimlik No, or None when it is valid.

    :param field: the form field the problem is located at
    :returns: a :class:`Problem` whose ``code`` names the failed rule (``digits``,
        ``leading_zero``, ``check_digit_10``, ``check_digit_11`` or ``required``)
    """
    number = normalize(value)
    code = None
    if not number:
        code = REQUIRED
    elif len(number) != 11 or not number.isascii() or not number.isdigit():
        code = DIGITS
    elif number[0] == "0":
        code = LEADING_ZERO
    else:
        expected = check_digits(number[:9])
        if number[9] != expected[0]:
            code = CHECK_10
        elif number[10] != expected[1]:
            code = CHECK_11
    return Problem(field, _MESSAGES[code], code) if code else None


def is_valid(value: str | None) -> bool:
    """Whether ``value`` is a valid TC Kimlik No."""
    return national_id_problem(value) is None
