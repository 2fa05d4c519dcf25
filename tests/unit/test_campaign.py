"""The campaign rule (domain/campaign.py): sending days, the night's room, a wave's limit
with skips that do not count, and the projection; and a campaign letter's spec."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from reminders.domain.campaign import (
    Campaign,
    CampaignCandidate,
    CampaignCounts,
    Selection,
    campaign_decision,
    campaign_progress,
    wave,
)
from reminders.domain.due import DocumentFacts, Holder, SkipReason
from reminders.domain.letters import LetterFacts, PostalAddress, letter_spec
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from tests.fakes import Jurisdiction

GENT = Jurisdiction("44021", (Language.NL,), LetterLanguageRule.MUNICIPALITY)
PAPER = Campaign(
    "paper-licences-2033",
    DocumentKind.DRIVING_LICENCE,
    Selection.WITHOUT_EXPIRY_DATE,
    starts_on=date(2031, 1, 6),  # a Monday
    letters_per_day=3,
    weekdays=(0, 1, 2, 3, 4),
    ends_on=date(2032, 10, 29),
    valid_until=date(2033, 1, 19),
)
MONDAY = date(2031, 1, 6)


def candidate(
    document_id: int,
    *,
    status: PersonStatus = PersonStatus.RESIDENT,
    has_address: bool = True,
    document: DocumentStatus = DocumentStatus.ACTIVE,
    renewed: bool = False,
    open_no_address: bool = False,
) -> CampaignCandidate:
    holder = Holder(status, "44021", Language.NL, has_address)
    facts = DocumentFacts(
        document_id, DocumentKind.DRIVING_LICENCE, None, document, renewed, holder
    )
    return CampaignCandidate(facts, open_no_address)


def test_sending_days_are_the_weekdays_from_start_to_the_last_day() -> None:
    """Not before starts_on, not at the weekend, not after ends_on."""
    assert not PAPER.is_sending_day(MONDAY - timedelta(days=7))
    assert [PAPER.is_sending_day(MONDAY + timedelta(days=n)) for n in range(7)] == [
        True, True, True, True, True, False, False,
    ]  # fmt: skip
    assert PAPER.is_sending_day(date(2032, 10, 29))
    assert not PAPER.is_sending_day(date(2032, 11, 1))


def test_the_last_day_is_never_on_or_after_valid_until() -> None:
    """Without ends_on, the last sending day is the day before the documents lapse."""
    open_ended = replace(PAPER, ends_on=None)
    assert open_ended.last_day == date(2033, 1, 18)
    assert not open_ended.is_sending_day(date(2033, 1, 19))


def test_the_room_is_the_daily_limit_less_what_the_night_wrote() -> None:
    """A re-run of the night gets what is left; a replay after a later night, and a day
    that is not a sending day, get nothing."""
    assert PAPER.room_tonight(MONDAY, letters_so_far=0, later_night_sent=False) == 3
    assert PAPER.room_tonight(MONDAY, letters_so_far=2, later_night_sent=False) == 1
    assert PAPER.room_tonight(MONDAY, letters_so_far=3, later_night_sent=False) == 0
    assert PAPER.room_tonight(MONDAY, letters_so_far=0, later_night_sent=True) == 0
    saturday = MONDAY + timedelta(days=5)
    assert PAPER.room_tonight(saturday, letters_so_far=0, later_night_sent=False) == 0


def test_a_wave_stops_at_the_limit_and_skips_do_not_count() -> None:
    """Skips are recorded with their reason, in the reminders' precedence, and the wave goes
    on until 3 letters; the rest waits for the next night."""
    candidates = [
        candidate(1, status=PersonStatus.DECEASED),
        candidate(2),
        candidate(3, renewed=True),
        candidate(4, document=DocumentStatus.LOST),
        candidate(5, has_address=False),
        candidate(6),
        candidate(7, status=PersonStatus.EMIGRATED, document=DocumentStatus.LOST),
        candidate(8),
        candidate(9),
    ]
    decisions, full = wave(PAPER, candidates, GENT, room=3)
    assert full
    assert [(d.document_id, d.reason) for d in decisions] == [
        (1, SkipReason.DECEASED), (2, None), (3, SkipReason.RENEWED),
        (4, SkipReason.INACTIVE_DOCUMENT), (5, SkipReason.NO_ADDRESS), (6, None),
        (7, SkipReason.EMIGRATED), (8, None),
    ]  # fmt: skip
    assert {d.stage for d in decisions} == {"paper-licences-2033"}
    assert decisions[1].languages == (Language.NL,)
    decisions, full = wave(PAPER, candidates[:3], GENT, room=3)
    assert not full
    assert sum(d.is_letter for d in decisions) == 1


def test_an_open_no_address_skip_is_not_repeated_but_decided_again() -> None:
    """Still no address: nothing new is recorded; an address since: the letter."""
    assert (
        campaign_decision(PAPER, candidate(5, has_address=False, open_no_address=True), GENT)
        is None
    )
    decision = campaign_decision(PAPER, candidate(5, open_no_address=True), GENT)
    assert decision is not None
    assert decision.is_letter
    dead = campaign_decision(
        PAPER, candidate(5, status=PersonStatus.DECEASED, open_no_address=True), GENT
    )
    assert dead is not None
    assert dead.reason is SkipReason.DECEASED


@pytest.mark.parametrize("letters", [1, 2, 3, 4, 7, 14, 15, 16, 100, 1_000, 12_345])
@pytest.mark.parametrize("weekdays", [(0, 1, 2, 3, 4), (2,), (0, 1, 2, 3, 4, 5, 6), (1, 5)])
def test_the_projection_counts_sending_days(letters: int, weekdays: tuple[int, ...]) -> None:
    """The n-th sending day, n = ceil(letters / per day), as counting day by day gives it."""
    campaign = replace(PAPER, weekdays=weekdays, ends_on=None, valid_until=date(2100, 1, 1))
    start = date(2031, 1, 8)
    needed, day = -(-letters // campaign.letters_per_day), start
    while True:
        if day.weekday() in weekdays:
            needed -= 1
            if needed == 0:
                break
        day += timedelta(days=1)
    assert campaign.projected_last_day(letters, from_day=start) == day
    assert campaign.projected_last_day(0, from_day=start) is None


def test_progress_projects_from_the_day_after_the_last_wave() -> None:
    """Today's wave written: the projection starts tomorrow; too slow: not on time."""
    counts = CampaignCounts(letters=3, skipped={}, remaining=7, last_wave_on=MONDAY)
    progress = campaign_progress(PAPER, "44021", counts, today=MONDAY)
    assert (progress.projected_last_day, progress.on_time) == (date(2031, 1, 9), True)
    late = campaign_progress(PAPER, "44021", replace(counts, remaining=10_000), today=MONDAY)
    assert late.projected_last_day is not None
    assert not late.on_time
    before = campaign_progress(
        PAPER, "44021", replace(counts, last_wave_on=None), today=date(2030, 1, 1)
    )
    assert before.projected_last_day == date(2031, 1, 8)


def test_a_paper_licence_letter_gives_valid_until_as_its_expiry() -> None:
    """No expiry date in the register: the letter gives 19 January 2033; sent on its
    night, as the only (final) letter."""
    holder = Holder(PersonStatus.RESIDENT, "44021", Language.NL, True)
    facts = LetterFacts(
        decision_id=1,
        document=DocumentFacts(
            1, DocumentKind.DRIVING_LICENCE, None, DocumentStatus.ACTIVE, False, holder
        ),
        document_number="P1",
        stage="paper-licences-2033",
        languages=(Language.NL,),
        given_names="Jan",
        family_name="Peeters",
        born_on=date(1950, 1, 1),
        address=PostalAddress("Kerkstraat", "1", None, "9000", "Gent", "BE"),
    )
    spec = letter_spec(
        facts,
        PAPER,
        reference="44021-000001-000001",
        municipality_nis="44021",
        letter_date=MONDAY,
        country_name=None,
    )
    assert (spec.expires_on, spec.stage_due_on, spec.is_final_stage) == (
        date(2033, 1, 19), MONDAY, True,
    )  # fmt: skip
    assert spec.stage == "paper-licences-2033"
    expiring = replace(PAPER, selection=Selection.EXPIRING_BETWEEN, valid_until=None)
    dated = replace(facts, document=replace(facts.document, expires_on=date(2031, 5, 1)))
    assert letter_spec(
        dated, expiring, reference="r", municipality_nis="44021", letter_date=MONDAY,
        country_name=None,
    ).expires_on == date(2031, 5, 1)  # fmt: skip
