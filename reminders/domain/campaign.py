"""Campaigns: a one-off letter to every document of a selection, sent in waves of at most
``letters_per_day`` letters per municipality and sending day (the counters' capacity), for
example the exchange of paper driving licences before 19 January 2033 (domain.md §1.5, §8.10).

A campaign letter is recorded in the decision table like a reminder, with the campaign's id
as its stage, so a document gets at most one campaign letter, ever (the table's unique key),
and the printing step, the dispatch log and the audit commands treat it like any letter.

Which documents go first: the ones expiring first (an ``expiring_between`` campaign: the most
urgent), then the ones issued first (the oldest photos and holders: the paper licences
longest in use), then by document number, so the order is total and does not depend on
import order or database ids: the same registry gives the same waves on any installation,
and an auditor can redo the order from the registry alone.

>>> campaign = Campaign(
...     "paper-licences-2033", DocumentKind.DRIVING_LICENCE, Selection.WITHOUT_EXPIRY_DATE,
...     starts_on=date(2031, 1, 6), letters_per_day=100, weekdays=(0, 1, 2, 3, 4),
...     valid_until=date(2033, 1, 19))
>>> campaign.is_sending_day(date(2031, 1, 11))  # a Saturday
False
>>> campaign.projected_last_day(250, from_day=date(2031, 1, 9))  # Thu, Fri, Mon
datetime.date(2031, 1, 13)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from reminders.domain.due import Decision, DocumentFacts, LetterJurisdiction, skip_reason
from reminders.domain.letter_language import letter_languages
from reminders.domain.model import DocumentKind

# Words joined by hyphens: a reminder stage name never has one (config/policies.py), so a
# campaign id and a stage name can share the decision table's stage column without ever
# meaning the same.
CAMPAIGN_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
CAMPAIGN_ID_MAX = 40  # the decision table's stage column
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
EVERY_DAY = tuple(range(7))


class Selection(StrEnum):
    """Which documents of the kind a campaign writes to."""

    WITHOUT_EXPIRY_DATE = "without_expiry_date"  # paper driving licences (domain.md §1.5)
    EXPIRING_BETWEEN = "expiring_between"  # expiring from expiring_from to expiring_until


@dataclass(frozen=True, slots=True)
class Campaign:
    """One campaign as config.toml gives it (``[campaigns.<id>]``), checked by
    config/campaigns.py."""

    id: str
    kind: DocumentKind
    selection: Selection
    starts_on: date  # the first sending day
    letters_per_day: int  # per municipality and sending day: what the counters can absorb
    weekdays: tuple[int, ...] = EVERY_DAY  # sending days, 0 = Monday
    ends_on: date | None = None  # the last sending day, if any
    expiring_from: date | None = None  # expiring_between only, both inclusive
    expiring_until: date | None = None
    issued_before: date | None = None  # an unknown issue date does not match
    # The end of validity the letter gives for documents without an expiry date (paper
    # licences: 19 January 2033); no letter is sent on or after it.
    valid_until: date | None = None
    municipalities: tuple[str, ...] | None = None  # NIS codes; None: every one configured

    @property
    def last_day(self) -> date | None:
        """The last day letters may be sent: ``ends_on``, and never once the documents it
        writes about are no longer valid."""
        days = [self.ends_on, self.valid_until - timedelta(days=1) if self.valid_until else None]
        return min((day for day in days if day is not None), default=None)

    def covers(self, nis_code: str) -> bool:
        return self.municipalities is None or nis_code in self.municipalities

    def is_sending_day(self, day: date) -> bool:
        last = self.last_day
        return (
            self.starts_on <= day
            and (last is None or day <= last)
            and day.weekday() in self.weekdays
        )

    def room_tonight(self, as_of: date, *, letters_so_far: int, later_night_sent: bool) -> int:
        """How many letters the night of ``as_of`` may still write in one municipality:
        ``letters_so_far`` were already written for that same night (a re-run, or a run
        resumed), and a replay of a night older than one that already sent a wave sends
        nothing. A night that was missed is not made up: the limit is per day."""
        if later_night_sent or not self.is_sending_day(as_of):
            return 0
        return max(0, self.letters_per_day - letters_so_far)

    def projected_last_day(self, letters: int, *, from_day: date) -> date | None:
        """The sending day the last of ``letters`` goes out on, at ``letters_per_day`` per
        sending day from ``from_day`` on (ignoring ``ends_on``: the caller compares); None
        when nothing is left. Skips do not use the day's capacity, so this is an upper
        bound."""
        if letters <= 0:
            return None
        days_needed = -(-letters // self.letters_per_day)
        day = max(from_day, self.starts_on)
        per_week = len(self.weekdays)
        # Any 7 days in a row hold every sending weekday once: jump whole weeks at a time.
        weeks = max(0, (days_needed - per_week) // per_week)
        day += timedelta(weeks=weeks)
        days_needed -= weeks * per_week
        while True:
            if day.weekday() in self.weekdays:
                days_needed -= 1
                if days_needed == 0:
                    return day
            day += timedelta(days=1)

    def document_deadline(self, expires_on: date | None) -> date:
        """The date a letter gives as the end of the document's validity: its own expiry
        date, or the campaign's ``valid_until`` for one without (config/campaigns.py requires
        it)."""
        deadline = expires_on or self.valid_until
        if deadline is None:
            raise ValueError(
                f"campaign {self.id}: a document without expiry date needs valid_until"
            )
        return deadline


@dataclass(frozen=True, slots=True)
class CampaignCandidate:
    """A document of a campaign's selection without a final campaign decision yet."""

    facts: DocumentFacts
    open_no_address: bool  # an earlier night skipped it for `no_address`; decided again


def campaign_decision(
    campaign: Campaign, candidate: CampaignCandidate, jurisdiction: LetterJurisdiction
) -> Decision | None:
    """The campaign's decision for one document tonight: a letter, a skip with the same
    reasons (and precedence) as a reminder, or None when the document was already skipped
    for `no_address` and still has no address (a skip is recorded once)."""
    facts = candidate.facts
    reason = skip_reason(facts, jurisdiction)
    if reason is None:
        languages = letter_languages(
            jurisdiction.letter_language, jurisdiction.languages, facts.holder.language
        )
        return Decision(facts.document_id, campaign.id, None, languages)
    if candidate.open_no_address and not reason.is_final:
        return None
    return Decision(facts.document_id, campaign.id, reason)


def wave(
    campaign: Campaign,
    candidates: Sequence[CampaignCandidate],
    jurisdiction: LetterJurisdiction,
    *,
    room: int,
) -> tuple[list[Decision], bool]:
    """The decisions for ``candidates`` (in the campaign's order) until ``room`` letters are
    written; skips do not count. Returns them and whether the room is used up."""
    decisions: list[Decision] = []
    letters = 0
    for candidate in candidates:
        if letters >= room:
            return decisions, True
        decision = campaign_decision(campaign, candidate, jurisdiction)
        if decision is None:
            continue
        decisions.append(decision)
        letters += decision.is_letter
    return decisions, letters >= room


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """What the database holds of a campaign in one municipality."""

    letters: int  # campaign letters written (decided; printed by their run)
    skipped: dict[str, int]  # skips by reason; `no_address` ones are decided again
    remaining: int  # documents of the selection still without a final campaign decision
    last_wave_on: date | None  # the newest night that wrote letters


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    """Where a campaign stands in one municipality (`reminders campaign status`)."""

    municipality_nis: str
    counts: CampaignCounts
    projected_last_day: date | None  # the last letter's day at the daily limit; None: done
    on_time: bool  # whether that is no later than the campaign's last day


def campaign_progress(
    campaign: Campaign, municipality_nis: str, counts: CampaignCounts, *, today: date
) -> CampaignProgress:
    """The projection for one municipality: the remaining documents at ``letters_per_day``
    per sending day, from the first day a wave can still be written (today, or tomorrow when
    today's is written). Skips do not use a day's room, so this is the latest it can take."""
    start = max(today, campaign.starts_on)
    if counts.last_wave_on is not None and counts.last_wave_on >= start:
        start = counts.last_wave_on + timedelta(days=1)
    last = campaign.projected_last_day(counts.remaining, from_day=start)
    deadline = campaign.last_day
    on_time = last is None or deadline is None or last <= deadline
    return CampaignProgress(municipality_nis, counts, last, on_time)
