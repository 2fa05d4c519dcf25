"""The expiry windows a night scans (domain/scan_window.py), checked against the rule itself for
random policies and dates: no document whose decision can change is left out, and no day is
scanned for nothing."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.domain.due import DocumentFacts, Holder, Recorded, SkipReason, decide
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from reminders.domain.policy import Offset, ReminderPolicy, Stage
from reminders.domain.scan_window import ExpiryWindow, expiry_windows
from tests.fakes import Jurisdiction

DAY = timedelta(days=1)
GENT = Jurisdiction("44021", (Language.NL,), LetterLanguageRule.MUNICIPALITY)
AMOUNTS = {"days": 500, "weeks": 70, "months": 18, "years": 2}
GRACES = {"days": 120, "weeks": 12, "months": 6, "years": 1}
FAST = settings(max_examples=200, deadline=None)


def spread(offset: Offset) -> tuple[int, int]:
    """The fewest and most days ``offset`` moves any date of 2000-2040 (measured: a month
    offset moves m * 30.44 days, give or take 3; a year offset 365.24 days, give or take 2)."""
    if offset.unit in ("days", "weeks"):
        days = offset.amount * (7 if offset.unit == "weeks" else 1)
        return days, days
    per, slack = (30.436875, 3) if offset.unit == "months" else (365.2425, 2)
    middle = round(offset.amount * per)
    return middle - slack, middle + slack


def offsets(limits: dict[str, int], *, negative: bool) -> st.SearchStrategy[Offset]:
    return st.sampled_from(sorted(limits)).flatmap(
        lambda unit: st.builds(
            Offset, st.integers(-limits[unit] if negative else 0, limits[unit]), st.just(unit)
        )
    )


def in_order(stages: list[Offset]) -> bool:
    """Whether each offset lands strictly after the previous one on every date."""
    return all(spread(a)[1] < spread(b)[0] for a, b in itertools.pairwise(stages))


@st.composite
def policies(draw: st.DrawFn) -> ReminderPolicy:
    """1-4 stages with offsets in days, weeks, months or years, in order on every date, and
    perhaps a final grace."""
    chosen = draw(
        st.lists(offsets(AMOUNTS, negative=True), min_size=1, max_size=4)
        .map(lambda found: sorted(found, key=lambda offset: sum(spread(offset))))
        .filter(in_order)
    )
    grace = draw(st.none() | offsets(GRACES, negative=False))
    stages = [Stage(f"s{index}", offset) for index, offset in enumerate(chosen)]
    stages[-1] = Stage(stages[-1].name, stages[-1].offset, final_grace=grace)
    return ReminderPolicy(DocumentKind.DRIVING_LICENCE, tuple(stages))


DATES = st.dates(date(2000, 1, 1), date(2040, 12, 31))


def grace_end(policy: ReminderPolicy, expires_on: date) -> date | None:
    final = policy.stages[-1]
    if final.final_grace is None:
        return None
    return final.final_grace.applied_to(final.offset.applied_to(expires_on))


def has_stage_due(policy: ReminderPolicy, expires_on: date, after: date, until: date) -> bool:
    """Whether a stage of a document expiring on ``expires_on`` falls due in (after, until]."""
    return any(after < stage.offset.applied_to(expires_on) <= until for stage in policy.stages)


def covered(windows: tuple[ExpiryWindow, ...], day: date) -> bool:
    return any(day in window for window in windows)


def near(policy: ReminderPolicy, as_of: date, pick: int, jitter: int) -> date:
    """An expiry date whose stage ``pick`` (or, past the stages, final grace) falls near
    ``as_of``: random expiry dates over 40 years would almost never hit a window."""
    stage = policy.stages[min(pick, len(policy.stages) - 1)]
    low, high = spread(stage.offset)
    moved = (low + high) // 2
    grace = stage.final_grace
    if pick >= len(policy.stages) and grace is not None:
        moved += sum(spread(grace)) // 2
    return as_of - moved * DAY + jitter * DAY


def test_overlapping_windows_are_merged_and_an_empty_interval_has_none() -> None:
    """Over January to June, "-1 month" needs expiries from 2 February to 1 July and "-3 months"
    from 2 April to 1 September: one window; a run on the day already decided scans none."""
    policy = ReminderPolicy(
        DocumentKind.EID,
        (Stage("a", Offset(-3, "months")), Stage("b", Offset(-1, "months"))),
    )
    windows = expiry_windows(policy, decided_through=date(2027, 1, 1), as_of=date(2027, 6, 1))
    assert windows == (ExpiryWindow(date(2027, 2, 2), date(2027, 9, 1)),)
    assert expiry_windows(policy, decided_through=date(2027, 6, 1), as_of=date(2027, 6, 1)) == ()


HOLDERS = st.builds(
    Holder,
    status=st.sampled_from(PersonStatus),
    municipality_nis=st.just(GENT.nis_code),
    language=st.none(),
    has_address=st.booleans(),
)


def licence(expires_on: date, holder: Holder, status: DocumentStatus) -> DocumentFacts:
    return DocumentFacts(1, DocumentKind.DRIVING_LICENCE, expires_on, status, False, holder)


@FAST
@given(
    policy=policies(),
    as_of=DATES,
    gap=st.integers(-3, 60) | st.integers(61, 800),
    picks=st.lists(st.tuples(st.integers(0, 4), st.integers(-60, 60)), min_size=1, max_size=6),
    anywhere=DATES,
    holder=HOLDERS,
    status=st.sampled_from(DocumentStatus),
)
def test_a_document_is_in_the_windows_exactly_when_a_stage_falls_due(
    policy: ReminderPolicy,
    as_of: date,
    gap: int,
    picks: list[tuple[int, int]],
    anywhere: date,
    holder: Holder,
    status: DocumentStatus,
) -> None:
    """(i) and (ii) on sampled expiry dates: after a run that decided through P, a document is
    in the windows for a run on D if and only if one of its stages falls due in (P, D]. A
    document left out, even one whose final grace ends in (P, D], has nothing new to decide on
    D once the nights up to P are decided (registry changes come by import, not by window)."""
    decided_through = as_of - gap * DAY
    windows = expiry_windows(policy, decided_through=decided_through, as_of=as_of)
    for window in windows:
        assert window.first is not None
        assert window.first <= window.last
    for earlier, later in itertools.pairwise(windows):
        assert earlier.last + DAY < (later.first or date.min)
    middle = (gap // 2) if gap > 0 else 0
    samples = [anywhere, *(near(policy, as_of, pick, jitter - middle) for pick, jitter in picks)]
    for expires_on in samples:
        due = has_stage_due(policy, expires_on, decided_through, as_of)
        assert covered(windows, expires_on) == due, expires_on
        if not due:
            document = licence(expires_on, holder, status)
            before = decide(document, policy, GENT, (), as_of=decided_through)
            history = [Recorded(decision.stage, decision.reason) for decision in before]
            assert decide(document, policy, GENT, history, as_of=as_of) == [], expires_on


@settings(max_examples=120, deadline=None)
@given(policy=policies(), as_of=DATES, gap=st.integers(1, 25))
def test_every_day_of_a_window_has_a_stage_falling_due(
    policy: ReminderPolicy, as_of: date, gap: int
) -> None:
    """(ii) by enumeration: every expiry date inside a window has a stage due in (P, D], and
    the days just outside each window have none."""
    decided_through = as_of - gap * DAY
    windows = expiry_windows(policy, decided_through=decided_through, as_of=as_of)
    for window in windows:
        assert window.first is not None
        day = window.first
        while day <= window.last:
            assert has_stage_due(policy, day, decided_through, as_of), (window, day)
            day += DAY
        assert not has_stage_due(policy, window.first - DAY, decided_through, as_of), window
        assert not has_stage_due(policy, window.last + DAY, decided_through, as_of), window


def resident(expires_on: date) -> DocumentFacts:
    return DocumentFacts(
        document_id=1,
        kind=DocumentKind.DRIVING_LICENCE,
        expires_on=expires_on,
        status=DocumentStatus.ACTIVE,
        renewed_by_later=False,
        holder=Holder(PersonStatus.RESIDENT, GENT.nis_code, Language.NL, has_address=True),
    )


@FAST
@given(
    policy=policies(),
    as_of=DATES,
    picks=st.lists(st.tuples(st.integers(0, 4), st.integers(-40, 40)), min_size=1, max_size=8),
    anywhere=DATES,
)
def test_a_first_run_scans_every_document_whose_stages_are_under_way(
    policy: ReminderPolicy, as_of: date, picks: list[tuple[int, int]], anywhere: date
) -> None:
    """(iii) With nothing decided before, a document is in the windows exactly when its first
    stage is due and its final grace (if any) has not ended; so every document that would get a
    letter, or any decision while its grace runs, is scanned. The only documents left out that
    the rule would decide are past their final grace: for them it records `superseded` and
    `too_late` only, never a letter (by design, a first run does not record these for every
    document that expired in the past)."""
    windows = expiry_windows(policy, decided_through=None, as_of=as_of)
    assert len(windows) <= 1
    if windows:
        assert (windows[0].first is None) == (policy.stages[-1].final_grace is None)
    for expires_on in [anywhere, *(near(policy, as_of, pick, jitter) for pick, jitter in picks)]:
        decisions = decide(resident(expires_on), policy, GENT, (), as_of=as_of)
        end = grace_end(policy, expires_on)
        grace_runs = end is None or as_of <= end
        first_due = policy.stages[0].offset.applied_to(expires_on) <= as_of
        assert covered(windows, expires_on) == (first_due and grace_runs), expires_on
        assert bool(decisions) == first_due
        if decisions and not covered(windows, expires_on):
            assert [decision.reason for decision in decisions] == [
                *[SkipReason.SUPERSEDED] * (len(policy.stages) - 1),
                SkipReason.TOO_LATE,
            ]
