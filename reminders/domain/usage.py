"""What a municipality used per month (letters, pages, volumes that went or go out), the
postage it costs at a tariff, and the bars of a small chart of it, drawn on the server.

>>> month = MonthUsage(date(2027, 3, 1), letters=10, pages=12, volumes=1)
>>> month.postage(1.5, 0.1)
16.2
>>> [bar.height for bar in chart_bars([month, MonthUsage(date(2027, 4, 1), 5, 5, 1)], 100)]
[100.0, 50.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class MonthUsage:
    month: date  # its first day
    letters: int
    pages: int
    volumes: int

    def postage(self, per_letter: float, per_page: float) -> float:
        return round(self.letters * per_letter + self.pages * per_page, 2)


@dataclass(frozen=True, slots=True)
class Bar:
    month: date
    letters: int
    x: float
    height: float  # of ``full`` for the month with the most letters


def chart_bars(months: Sequence[MonthUsage], full: float, step: float = 40.0) -> list[Bar]:
    """One bar per month, ``step`` apart, as tall as its letters relative to the busiest."""
    most = max((m.letters for m in months), default=0)
    return [
        Bar(m.month, m.letters, index * step, full * m.letters / most if most else 0.0)
        for index, m in enumerate(months)
    ]
