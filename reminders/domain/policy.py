"""Reminder policies: the stages of reminders per document kind (interfaces.md §2).

>>> from datetime import date
>>> parse_offset("-3 months").applied_to(date(2028, 5, 31))
datetime.date(2028, 2, 29)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from reminders.domain.model import DocumentKind

_OFFSET = re.compile(r"^\s*([+-])?\s*(\d{1,4})\s+(day|week|month|year)s?\s*$")
_UNIT_NAMES = {"day": "days", "week": "weeks", "month": "months", "year": "years"}
# At most 100 years either way, in each unit: with dates kept to 1900-2199 (domain/bounds.py)
# no date a policy computes can leave the calendar Python knows (years 1 to 9999).
MAX_OFFSET = {"days": 36_525, "weeks": 5_218, "months": 1_200, "years": 100}


class InvalidOffsetError(ValueError):
    """The text is not a calendar offset like ``-3 months``."""


@dataclass(frozen=True, slots=True)
class Offset:
    """A calendar offset from a date; months and years clamp to the month's end (domain.md §7.3)."""

    amount: int  # signed: -3 means three units before
    unit: str  # "days", "weeks", "months" or "years"

    def applied_to(self, day: date) -> date:
        """``day`` moved by this offset; 31 May - 3 months is 28 or 29 February."""
        return _shifted(self, day)

    def __str__(self) -> str:
        unit = self.unit if abs(self.amount) != 1 else self.unit[:-1]
        return f"{self.amount:+d} {unit}"


@lru_cache(maxsize=65_536)
def _shifted(offset: Offset, day: date) -> date:
    # A night's documents share a handful of expiry dates, and relativedelta is slow (about
    # 8 µs a call): the cache makes the nightly date arithmetic nearly free.
    if offset.unit == "days":
        return day + timedelta(days=offset.amount)
    if offset.unit == "weeks":
        return day + timedelta(weeks=offset.amount)
    months = offset.amount * (12 if offset.unit == "years" else 1)
    shifted: date = day + relativedelta(months=months)
    return shifted


def parse_offset(text: str) -> Offset:
    """``"-3 months"``, ``"+14 days"``, ``"-1 year"`` or ``"60 days"`` as an Offset."""
    match = _OFFSET.match(text)
    if match is None:
        raise InvalidOffsetError(
            f'expected an offset like "-3 months", "+14 days" or "-1 year", got {text!r}'
        )
    sign, amount, unit = match.groups()
    value, units = int(amount), _UNIT_NAMES[unit]
    if value > MAX_OFFSET[units]:
        raise InvalidOffsetError(
            f"an offset is at most 100 years ({MAX_OFFSET[units]} {units}), got {text!r}"
        )
    return Offset(-value if sign == "-" else value, units)


@dataclass(frozen=True, slots=True)
class Stage:
    """One reminder of a policy: due on ``expires_on + offset``."""

    name: str
    offset: Offset
    final_grace: Offset | None = None  # only on the final stage: not sent after due + grace


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """The ordered stages for one document kind; config/policies.py checks the order."""

    kind: DocumentKind
    stages: tuple[Stage, ...]

    def due_dates(self, expires_on: date) -> tuple[date, ...]:
        """The day each stage is due for a document expiring on ``expires_on``, in order;
        computed per document, as month offsets clamp and cannot be inverted (domain.md §7.3)."""
        return tuple(stage.offset.applied_to(expires_on) for stage in self.stages)

    @property
    def digest(self) -> str:
        """SHA-256 of the stages as written: a scan watermark is only valid for the policy it
        was made under, and the dispatch log can name the policy a letter was decided by."""
        text = ";".join(
            f"{stage.name}|{stage.offset}|{stage.final_grace or ''}" for stage in self.stages
        )
        return hashlib.sha256(f"{self.kind}:{text}".encode()).hexdigest()
