"""The dates and record numbers the engine accepts, and reading them from what a user typed:
bounds that keep date arithmetic and database integers in range, whatever the input.

Dates run from 1900-01-01 (the registry's oldest birth dates) to 2199-12-31, and a policy
moves a date by at most 100 years (``policy.MAX_OFFSET``), so no date the engine computes from
them leaves Python's years 1 to 9999. Record numbers (runs, volumes, log entries) are at most
2**31 - 1, the largest value of an INTEGER column on PostgreSQL (SQLite's are wider).

>>> parsed_day("2026-11-25")
datetime.date(2026, 11, 25)
>>> parsed_day("9999-12-31")
Traceback (most recent call last):
...
ValueError: expected a date YYYY-MM-DD from 1900-01-01 to 2199-12-31, got '9999-12-31'
>>> parsed_record_number("²")  # a digit to str.isdigit, not a number to int()
Traceback (most recent call last):
...
ValueError: expected a number from 1 to 2147483647, got '²'
"""

from __future__ import annotations

import re
from datetime import date

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
LARGEST_RECORD_NUMBER = 2**31 - 1

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # only this form: fromisoformat takes more
_NUMBER = re.compile(r"[0-9]{1,10}")  # ASCII digits only; ten are enough for 2**31 - 1


def is_supported_day(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


def parsed_day(text: str) -> date:
    """``YYYY-MM-DD`` within the supported dates; ValueError saying what is expected."""
    try:
        if _DAY.fullmatch(text) and is_supported_day(day := date.fromisoformat(text)):
            return day
    except ValueError:
        pass  # 2026-02-30 and the like: the same message
    raise ValueError(
        f"expected a date YYYY-MM-DD from {EARLIEST_DATE} to {LATEST_DATE}, got {text!r}"
    )


def parsed_record_number(text: str, *, smallest: int = 1) -> int:
    """A run, volume or log entry number written in ASCII digits, from ``smallest`` to
    LARGEST_RECORD_NUMBER; ValueError saying what is expected."""
    if _NUMBER.fullmatch(text) and smallest <= (number := int(text)) <= LARGEST_RECORD_NUMBER:
        return number
    raise ValueError(f"expected a number from {smallest} to {LARGEST_RECORD_NUMBER}, got {text!r}")
