"""Reminder policies: the stages of reminders per document kind (interfaces.md §2).

>>> from datetime import date
>>> parse_offset("-3 months").applied_to(date(2028, 5, 31))
datetime.date(2028, 2, 29)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from reminders.domain.model import DocumentKind

_OFFSET = re.compile(r"^\s*([+-])?\s*(\d{1,4})\s+(day|week|month|year)s?\s*$")
_UNIT_NAMES = {"day": "days", "week": "weeks", "month": "months", "year": "years"}


class InvalidOffsetError(ValueError):
    """The text is not a calendar offset like ``-3 months``."""


@dataclass(frozen=True, slots=True)
class Offset:
    """A calendar offset from a date; months and years clamp to the month's end (domain.md §7.3)."""

    amount: int  # signed: -3 means three units before
    unit: str  # "days", "weeks", "months" or "years"

    def applied_to(self, day: date) -> date:
        """``day`` moved by this offset; 31 May - 3 months is 28 or 29 February."""
        delta = {
            "days": relativedelta(days=self.amount),
            "weeks": relativedelta(weeks=self.amount),
            "months": relativedelta(months=self.amount),
            "years": relativedelta(years=self.amount),
        }[self.unit]
        result: date = day + delta
        return result

    def __str__(self) -> str:
        unit = self.unit if abs(self.amount) != 1 else self.unit[:-1]
        return f"{self.amount:+d} {unit}"


def parse_offset(text: str) -> Offset:
    """``"-3 months"``, ``"+14 days"``, ``"-1 year"`` or ``"60 days"`` as an Offset."""
    match = _OFFSET.match(text)
    if match is None:
        raise InvalidOffsetError(
            f'expected an offset like "-3 months", "+14 days" or "-1 year", got {text!r}'
        )
    sign, amount, unit = match.groups()
    value = int(amount)
    return Offset(-value if sign == "-" else value, _UNIT_NAMES[unit])


@dataclass(frozen=True, slots=True)
class Stage:
    """One reminder of a policy: due on ``expires_on + offset``."""

    name: str
    offset: Offset
    final_grace: Offset | None = None  # only on the final stage: not sent after due + grace


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """The ordered stages for one document kind; config.py checks the order."""

    kind: DocumentKind
    stages: tuple[Stage, ...]

    @property
    def digest(self) -> str:
        """SHA-256 of the stages as written: a scan watermark is only valid for the policy it
        was made under, and the dispatch log can name the policy a letter was decided by."""
        text = ";".join(
            f"{stage.name}|{stage.offset}|{stage.final_grace or ''}" for stage in self.stages
        )
        return hashlib.sha256(f"{self.kind}:{text}".encode()).hexdigest()
