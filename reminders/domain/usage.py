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
    letters: int  # on paper
    pages: int
    volumes: int
    emailed: int = 0  # letters the relay accepted by e-mail (issue 25)
    email_failed: int = 0  # e-mails refused or bounced: those go on paper at the next run

    def postage(self, per_letter: float, per_page: float) -> float:
        return round(self.letters * per_letter + self.pages * per_page, 2)


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    """A municipality's letters of one run by channel (issue 25).

    >>> counts = ChannelCounts(paper=5, emailed=3, email_waiting=1, email_failed=1, fallback=2)
    >>> counts.letters, counts.postage_saved(1.25), counts.any_email
    (10, 3.75, True)
    """

    paper: int = 0  # printed in this run's volumes, fallbacks included
    emailed: int = 0  # e-mails of this run the relay accepted (and that did not bounce)
    email_waiting: int = 0  # e-mails of this run not answered yet (tried again next run)
    email_failed: int = 0  # e-mails of this run refused or bounced: on paper at the next run
    fallback: int = 0  # of ``paper``: letters of earlier runs whose e-mail failed

    @property
    def letters(self) -> int:
        return self.paper + self.emailed + self.email_waiting + self.email_failed

    @property
    def any_email(self) -> bool:
        return bool(self.emailed or self.email_waiting or self.email_failed or self.fallback)

    def postage_saved(self, per_letter: float) -> float:
        """What the e-mails the relay accepted would have cost on paper."""
        return round(self.emailed * per_letter, 2)


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
