"""National and BIS numbers: validation through stdnum, and masking for people to read."""

from __future__ import annotations

import pytest

from reminders.domain.national_number import (
    InvalidNationalNumberError,
    masked_national_number,
    validated_national_number,
)


@pytest.mark.parametrize(
    ("value", "compact"),
    [
        ("85.07.30-033.28", "85073003328"),  # domain.md §3.1, born 1985
        ("17.07.30-033.84", "17073003384"),  # born 2017: check over "2" + 9 digits
        ("85073003328", "85073003328"),
        (" 85 07 30 033 28", "85073003328"),
        ("85.47.30-033.17", "85473003317"),  # BIS number, sex known: month + 40
    ],
)
def test_valid_numbers_come_back_compact(value: str, compact: str) -> None:
    """Punctuated, spaced, 2000s and BIS numbers are accepted and compacted."""
    assert validated_national_number(value) == compact


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("85.07.30-033.61", "invalid check digits"),  # the contract's old example
        ("8507300332", "expected 11 digits, got 10 characters"),
        ("85O73003328", "expected digits only (punctuation . - allowed)"),
        ("85.13.30-033.70", "the birth date part is not a valid date"),
    ],
)
def test_invalid_numbers_say_why(value: str, reason: str) -> None:
    """Each kind of invalid number gets its own reason, without echoing the number."""
    with pytest.raises(InvalidNationalNumberError) as caught:
        validated_national_number(value)
    assert caught.value.reason == reason
    assert value not in caught.value.reason


def test_masking_keeps_only_the_check_digits() -> None:
    """The birth date is masked too: it identifies people (domain.md §6.3)."""
    assert masked_national_number("85.07.30-033.28") == "**.**.**-***.28"
    assert masked_national_number("123") == "**.**.**-***.**"
