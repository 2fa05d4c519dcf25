"""The nightly run over many nights (services/nightly_run.py), on random registries and run
calendars: never a second letter, the same letters whichever nights ran, every reached stage
decided once, registry changes picked up by import; and the SQL store records what the fake does.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, Table, insert, select, update

from reminders.adapters.db.orm import (
    DecisionRow,
    DocumentRow,
    NightlyRunRow,
    PersonRow,
    RegistryImportRow,
)
from reminders.bootstrap import unit_of_work
from reminders.domain.due import Decision, SkipReason
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from reminders.domain.policy import ReminderPolicy, Stage, parse_offset
from reminders.services.nightly_run import RunFailedError, RunRequest, run_night
from reminders.services.ports import UnitOfWork
from reminders.synthetic import synthetic_national_number
from tests import fakes
from tests.fakes import (
    FakeDecision,
    FakeDecisionStore,
    FakeDocument,
    FakePerson,
    FakeUnitOfWork,
    Jurisdiction,
    UniqueKeyViolationError,
)

DAY = timedelta(days=1)
NOW = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
NL, FR, DE = Language.NL, Language.FR, Language.DE
GENT = Jurisdiction("44021", (NL,), LetterLanguageRule.MUNICIPALITY)
BRUSSELS = Jurisdiction("21004", (FR, NL), LetterLanguageRule.CITIZEN_OR_BILINGUAL)
SERVED = {GENT.nis_code: GENT, BRUSSELS.nis_code: BRUSSELS}
ELSEWHERE = "63023"  # a municipality this installation does not serve
PLACES = (GENT.nis_code, GENT.nis_code, BRUSSELS.nis_code, BRUSSELS.nis_code, ELSEWHERE)


def _policy(kind: DocumentKind, *stages: tuple[str, str, str | None]) -> ReminderPolicy:
    return ReminderPolicy(
        kind,
        tuple(
            Stage(name, parse_offset(offset), parse_offset(grace) if grace else None)
            for name, offset, grace in stages
        ),
    )


POLICIES = {
    # config.toml's two policies, and one whose final stage has no grace (current for ever).
    DocumentKind.DRIVING_LICENCE: _policy(
        DocumentKind.DRIVING_LICENCE,
        ("first", "-3 months", None),
        ("second", "-1 month", None),
        ("expired", "+14 days", "60 days"),
    ),
    DocumentKind.EID: _policy(
        DocumentKind.EID, ("first", "-2 months", None), ("expired", "+1 month", "3 months")
    ),
    DocumentKind.PASSPORT: _policy(
        DocumentKind.PASSPORT, ("first", "-6 months", None), ("last", "-1 month", None)
    ),
}
KINDS = (*POLICIES, DocumentKind.KIDS_ID)  # Kids-ID has no policy: it never gets a decision


# -- scenarios -------------------------------------------------------------------------------


class Draw(Protocol):
    """An integer from ``low`` to ``high``, both included: hypothesis or a seeded Random."""

    def __call__(self, low: int, high: int, /) -> int: ...


Fields = tuple[tuple[str, Any], ...]
NO_ADDRESS: Fields = (
    ("street", None),
    ("house_number", None),
    ("postal_code", None),
    ("locality", None),
)
ADDRESS: Fields = (
    ("street", "Veldstraat"),
    ("house_number", "2"),
    ("postal_code", "9000"),
    ("locality", "Gent"),
)


@dataclass(frozen=True, slots=True)
class Change:
    """A registry change, imported before the run of ``day`` (or of the next night that runs):
    new values for a person's or a document's fields, or a new document."""

    day: date
    person_id: int | None = None
    document_id: int | None = None
    fields: Fields = ()
    new: FakeDocument | None = None  # with document_id: renews that document

    def row(self, store: FakeDecisionStore) -> FakePerson | FakeDocument:
        """The changed row, from what ``store`` holds now."""
        if self.new is not None and self.document_id is not None:
            renewed = store.documents[self.document_id]
            expires_on = (renewed.expires_on or self.day) + 3652 * DAY  # ten years on
            return replace(self.new, person_id=renewed.person_id, kind=renewed.kind,
                           expires_on=expires_on)  # fmt: skip
        if self.new is not None:
            return self.new
        if self.person_id is not None:
            return replace(store.persons[self.person_id], **dict(self.fields))
        assert self.document_id is not None
        return replace(store.documents[self.document_id], **dict(self.fields))


@dataclass(frozen=True, slots=True)
class Scenario:
    """A registry, its changes, and the days [first, last] the calendars cover."""

    first: date
    last: date
    persons: tuple[FakePerson, ...]
    documents: tuple[FakeDocument, ...]
    changes: tuple[Change, ...]


Night = tuple[date, tuple[Jurisdiction, ...]]


def _without_address(person: FakePerson) -> FakePerson:
    return replace(person, **dict(NO_ADDRESS))


def _with_address(person: FakePerson) -> FakePerson:
    return replace(person, **dict(ADDRESS))


def _month_end(day: date) -> date:
    following = (day.replace(day=1) + 32 * DAY).replace(day=1)
    return following - DAY


def scenario(draw: Draw, *, changes: bool) -> Scenario:
    """A few persons in the two served municipalities (and some elsewhere), a few dozen
    documents expiring around the calendar (many on a month's end), and perhaps changes."""
    first = date(2027, 1, 1) + draw(0, 500) * DAY
    last = first + draw(100, 200) * DAY
    span = (last - first).days
    persons = []
    for person_id in range(1, draw(2, 24) + 1):
        person = FakePerson(
            person_id,
            PLACES[draw(0, len(PLACES) - 1)],
            status=PersonStatus.RESIDENT if draw(0, 5) else list(PersonStatus)[draw(0, 3)],
            language=(None, NL, FR, DE)[draw(0, 3)],
        )
        persons.append(_without_address(person) if draw(0, 3) == 0 else person)

    def expiry() -> date | None:
        if draw(0, 15) == 0:
            return None  # a paper licence
        expires_on = first + draw(-150, span + 150) * DAY
        return _month_end(expires_on) if draw(0, 2) == 0 else expires_on

    documents = [
        FakeDocument(
            document_id,
            person_id=draw(1, len(persons)),
            kind=KINDS[draw(0, len(KINDS) - 1)],
            expires_on=expiry(),
            status=DocumentStatus.ACTIVE if draw(0, 6) else list(DocumentStatus)[draw(0, 4)],
        )
        for document_id in range(1, draw(1, 40) + 1)
    ]
    drawn: list[Change] = []
    next_id = len(documents) + 1
    for _ in range(draw(0, 10) if changes else 0):
        day = first + draw(0, span) * DAY
        person_id, document_id, pick = draw(1, len(persons)), draw(1, len(documents)), draw(0, 7)
        if pick < 5:
            fields = (
                ADDRESS,
                NO_ADDRESS,
                (("status", list(PersonStatus)[draw(0, 3)]),),
                (("municipality_nis", PLACES[draw(0, len(PLACES) - 1)]),),
                (("language", (None, NL, FR, DE)[draw(0, 3)]),),
            )[pick]
            drawn.append(Change(day, person_id=person_id, fields=fields))
        elif pick == 5:
            status = list(DocumentStatus)[draw(0, 4)]
            drawn.append(Change(day, document_id=document_id, fields=(("status", status),)))
        else:
            kind = KINDS[draw(0, len(KINDS) - 1)]
            new = FakeDocument(next_id, person_id, kind, expiry())
            drawn.append(Change(day, document_id=document_id if pick == 6 else None, new=new))
            next_id += 1
    drawn.sort(key=lambda change: change.day)
    return Scenario(first, last, tuple(persons), tuple(documents), tuple(drawn))


def every_night(scenario: Scenario) -> list[Night]:
    nights = (scenario.last - scenario.first).days + 1
    return [(scenario.first + n * DAY, (GENT, BRUSSELS)) for n in range(nights)]


def some_nights(draw: Draw, scenario: Scenario, *, mixed: bool) -> list[Night]:
    """A random subset of the nights that always includes the last; with ``mixed``, some nights
    run one municipality only (never the first or the last), and some run twice."""
    chance = draw(1, 40) if draw(0, 2) else draw(1, 4)  # in %: long gaps make `too_late`
    nights: list[Night] = []
    for day, both in every_night(scenario):
        if day != scenario.last and draw(0, 99) >= chance:
            continue
        who = both
        if mixed and nights and day != scenario.last and draw(0, 3) == 0:
            who = (both[draw(0, 1)],)
        nights.append((day, who))
        if mixed and draw(0, 9) == 0:
            nights.append((day, who))  # the same night run again: nothing new
    return nights


# -- running calendars ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """A calendar's recorded decisions, and the documents its first night left out by design:
    served, and past their final grace already (a first run does not record `too_late` for
    every document that expired in the past, scan_window._under_way)."""

    store: FakeDecisionStore
    past_grace_at_start: frozenset[int]

    def decisions(self) -> set[FakeDecision]:
        return {
            decision
            for decision in self.store.decisions.values()
            if decision.document_id not in self.past_grace_at_start
        }

    def letters(self) -> set[tuple[int, str]]:
        return {(d.document_id, d.stage) for d in self.decisions() if d.reason is None}

    def reasons(self) -> dict[tuple[int, str], set[SkipReason | None]]:
        found: dict[tuple[int, str], set[SkipReason | None]] = defaultdict(set)
        for decision in self.store.decisions.values():
            found[(decision.document_id, decision.stage)].add(decision.reason)
        return found


Mirror = Callable[[int, Sequence[FakePerson | FakeDocument]], None]


def run_calendar(
    scenario: Scenario,
    nights: Sequence[Night],
    *,
    narrow: bool = True,
    uow: UnitOfWork | None = None,
    mirror: Mirror | None = None,
) -> Outcome:
    """Import the registry, then run each night, importing the changes due by then first.
    Decisions go to the fake store, or through ``uow`` with ``mirror`` copying every
    import to that store's database."""
    store = FakeDecisionStore(narrow=narrow)
    port = uow or fakes.unit_of_work(FakeUnitOfWork(store))

    def load(rows: Sequence[FakePerson | FakeDocument]) -> None:
        stored = store.load(rows)
        if mirror is not None:
            mirror(store.imports, stored)

    load([*scenario.persons, *scenario.documents])
    pending = list(scenario.changes)
    past_grace: frozenset[int] = frozenset()
    for index, (day, municipalities) in enumerate(nights):
        while pending and pending[0].day <= day:
            load([pending.pop(0).row(store)])
        if index == 0:
            past_grace = _past_grace(store, day)
        request = RunRequest(as_of=day, municipalities=municipalities, policies=POLICIES)
        run_night(request, port, now=lambda: NOW)
    assert store.violations == []
    return Outcome(store, past_grace)


def _past_grace(store: FakeDecisionStore, day: date) -> frozenset[int]:
    found = set()
    for document in store.documents.values():
        policy = POLICIES.get(document.kind)
        final = policy.stages[-1] if policy else None
        if (
            final is None
            or final.final_grace is None
            or document.expires_on is None
            or store.persons[document.person_id].municipality_nis not in SERVED
        ):
            continue
        if final.final_grace.applied_to(final.offset.applied_to(document.expires_on)) < day:
            found.add(document.id)
    return frozenset(found)


def hypothesis_draw(data: st.DataObject) -> Draw:
    return lambda low, high: data.draw(st.integers(low, high))


CALENDARS = settings(max_examples=30, deadline=None)


# -- properties ----------------------------------------------------------------------------


def assert_never_twice(outcome: Outcome) -> None:
    """(a) At most one letter and one final decision per (document, stage), and at most one
    open skip; no decision for a kind without policy or a document without expiry date."""
    finals: Counter[tuple[int, str]] = Counter()
    opens: Counter[tuple[int, str]] = Counter()
    for decision in outcome.store.decisions.values():
        (finals if decision.final else opens)[(decision.document_id, decision.stage)] += 1
        assert decision.final == (decision.reason is not SkipReason.NO_ADDRESS)
        assert (decision.language is None) == (decision.reason is not None)
        document = outcome.store.documents[decision.document_id]
        assert document.kind in POLICIES
        assert document.expires_on is not None
    assert max(finals.values(), default=0) <= 1
    assert max(opens.values(), default=0) <= 1
    assert {decision.document_id for decision in outcome.store.decisions.values()
            if decision.reason is None}.isdisjoint(outcome.past_grace_at_start)  # fmt: skip


def assert_every_reached_stage_closed(outcome: Outcome, last: date) -> None:
    """(c) Every served document gets, for each stage due by the last night, exactly one final
    decision, or only one open `no_address` skip while its holder has no address; stages not
    yet due get nothing."""
    store = outcome.store
    reasons = outcome.reasons()
    for document in store.documents.values():
        policy = POLICIES.get(document.kind)
        holder = store.persons[document.person_id]
        if (
            policy is None
            or document.expires_on is None
            or holder.municipality_nis not in SERVED
            or document.id in outcome.past_grace_at_start
        ):
            continue
        for stage in policy.stages:
            found = reasons.get((document.id, stage.name), set())
            if stage.offset.applied_to(document.expires_on) > last:
                assert found == set(), (document, stage)
            elif found == {SkipReason.NO_ADDRESS}:
                assert not holder.has_address, (document, stage)
            else:
                assert len(found - {SkipReason.NO_ADDRESS}) == 1, (document, stage, found)


@CALENDARS
@given(data=st.data())
def test_no_stage_is_ever_sent_or_closed_twice(data: st.DataObject) -> None:
    """(a) Over random calendars (nights skipped, repeated, or for one municipality only) and
    registry changes, the store's unique key never trips: no (document, stage) gets two letters
    or two final decisions."""
    draw = hypothesis_draw(data)
    world = scenario(draw, changes=True)
    outcome = run_calendar(world, some_nights(draw, world, mixed=True))
    assert_never_twice(outcome)
    assert all(run.outcome == "succeeded" for run in outcome.store.runs.values())


@CALENDARS
@given(data=st.data())
def test_skipped_nights_send_no_other_letters(data: st.DataObject) -> None:
    """(b) On an unchanging registry, running only some nights up to B sends a subset of the
    letters of running every night: each letter missing is a stage the sparse calendar found
    superseded or too late; and both close the same stages."""
    draw = hypothesis_draw(data)
    world = scenario(draw, changes=False)
    sparse = run_calendar(world, some_nights(draw, world, mixed=False))
    daily = run_calendar(world, every_night(world))
    # Documents past their grace at the sparse calendar's first night are not looked at there.
    left_out = sparse.past_grace_at_start
    daily_letters = {letter for letter in daily.letters() if letter[0] not in left_out}
    assert sparse.letters() <= daily_letters
    sparse_reasons = sparse.reasons()
    for letter in daily_letters - sparse.letters():
        assert sparse_reasons[letter] <= {SkipReason.SUPERSEDED, SkipReason.TOO_LATE}, letter

    def closed(outcome: Outcome) -> set[tuple[int, str]]:
        return {
            (d.document_id, d.stage)
            for d in outcome.decisions()
            if d.final and d.document_id not in left_out
        }

    assert closed(sparse) == closed(daily)
    assert_never_twice(sparse)
    assert_never_twice(daily)


@CALENDARS
@given(data=st.data())
def test_every_stage_reached_gets_one_final_decision(data: st.DataObject) -> None:
    """(c) After random calendars with registry changes, each stage due by the last night of
    every served document is closed once, unless it waits for an address."""
    draw = hypothesis_draw(data)
    world = scenario(draw, changes=True)
    nights = some_nights(draw, world, mixed=True) if draw(0, 1) else every_night(world)
    outcome = run_calendar(world, nights)
    assert_every_reached_stage_closed(outcome, world.last)
    assert_never_twice(outcome)


@CALENDARS
@given(data=st.data())
def test_narrowed_scans_decide_as_if_every_document_were_looked_at(data: st.DataObject) -> None:
    """(d) Expiry windows and rows an import changed since the watermark's find everything:
    with registry changes between nights (addresses, deaths, moves, languages, document
    statuses, new documents), each run records exactly what a run looking at every document
    of its municipalities records (same run, municipality, reason and language)."""
    draw = hypothesis_draw(data)
    world = scenario(draw, changes=True)
    nights = some_nights(draw, world, mixed=True)
    narrowed = run_calendar(world, nights)
    everything = run_calendar(world, nights, narrow=False)
    assert narrowed.past_grace_at_start == everything.past_grace_at_start

    def key(decision: FakeDecision) -> tuple[object, ...]:
        return (decision.run_id, decision.municipality_nis, decision.document_id,
                decision.stage, decision.reason, decision.language)  # fmt: skip

    assert Counter(map(key, narrowed.decisions())) == Counter(map(key, everything.decisions()))


# -- registry changes, by example ------------------------------------------------------------

LICENCE = DocumentKind.DRIVING_LICENCE


def night(store: FakeDecisionStore, day: date) -> list[tuple[int, str, SkipReason | None]]:
    """Run ``day`` for both municipalities; returns what it recorded."""
    before = set(store.decisions)
    run_night(
        RunRequest(as_of=day, municipalities=(GENT, BRUSSELS), policies=POLICIES),
        fakes.unit_of_work(FakeUnitOfWork(store)),
        now=lambda: NOW,
    )
    return sorted(
        (key[0], key[1], store.decisions[key].reason) for key in set(store.decisions) - before
    )


def test_an_address_imported_between_nights_gets_the_waiting_letter() -> None:
    """A licence skipped `no_address` gets its letter the night after an import gives the
    holder an address, although no stage falls due that night."""
    store = FakeDecisionStore()
    store.load([_without_address(FakePerson(1, GENT.nis_code, language=NL)),
                FakeDocument(1, 1, LICENCE, date(2027, 6, 30))])  # fmt: skip
    assert night(store, date(2027, 3, 30)) == [(1, "first", SkipReason.NO_ADDRESS)]
    assert night(store, date(2027, 4, 10)) == []
    store.load([_with_address(store.persons[1])])
    assert night(store, date(2027, 4, 11)) == [(1, "first", None)]
    assert night(store, date(2027, 4, 12)) == []


def test_a_holder_who_died_between_nights_gets_no_further_letter() -> None:
    """An import recording a death is read on the next due stage: `deceased`, not a letter."""
    store = FakeDecisionStore()
    store.load([FakePerson(1, BRUSSELS.nis_code), FakeDocument(1, 1, LICENCE, date(2027, 6, 30))])
    assert night(store, date(2027, 3, 30)) == [(1, "first", None)]
    assert store.decisions[(1, "first", True)].language == "fr+nl"
    store.load([replace(store.persons[1], status=PersonStatus.DECEASED)])
    assert night(store, date(2027, 4, 1)) == []
    assert night(store, date(2027, 5, 30)) == [(1, "second", SkipReason.DECEASED)]


def test_a_document_imported_late_is_caught_up_by_its_import() -> None:
    """Documents imported after their stages fell due are found through the import, not their
    expiry windows: the current stage is sent and earlier ones are superseded, or skipped for
    a reason that comes first (a later document of the same kind: `renewed`)."""
    store = FakeDecisionStore()
    store.load([FakePerson(1, GENT.nis_code), FakePerson(2, BRUSSELS.nis_code, language=NL)])
    assert night(store, date(2027, 6, 1)) == []
    store.load([FakeDocument(1, 1, LICENCE, date(2027, 6, 30)),
                FakeDocument(2, 2, DocumentKind.EID, date(2027, 7, 30)),
                FakeDocument(3, 2, DocumentKind.EID, date(2027, 7, 2)),
                FakeDocument(4, 2, DocumentKind.KIDS_ID, date(2027, 7, 2))])  # fmt: skip
    assert night(store, date(2027, 6, 2)) == [
        (1, "first", SkipReason.SUPERSEDED),
        (1, "second", None),
        (2, "first", None),
        (3, "first", SkipReason.RENEWED),
    ]
    assert store.decisions[(2, "first", True)].language == "nl"


def test_a_long_downtime_past_the_final_grace_sends_no_late_letter() -> None:
    """Back after the final stage's grace: the stages missed are closed as `superseded` and
    `too_late`, and no letter goes out."""
    store = FakeDecisionStore()
    store.load([FakePerson(1, GENT.nis_code), FakeDocument(1, 1, LICENCE, date(2027, 6, 30))])
    assert night(store, date(2027, 3, 30)) == [(1, "first", None)]
    assert night(store, date(2027, 9, 13)) == [
        (1, "expired", SkipReason.TOO_LATE),
        (1, "second", SkipReason.SUPERSEDED),
    ]


def test_a_run_for_an_earlier_date_loses_no_imported_document() -> None:
    """`reminders run --date` for a date before the last run's does not hide a document
    imported in between: its stage due since is still sent on the next night (the replay
    keeps the later night's watermark and import)."""
    store = FakeDecisionStore()
    store.load([FakePerson(1, GENT.nis_code)])
    assert night(store, date(2027, 3, 10)) == []
    store.load([FakeDocument(1, 1, LICENCE, date(2027, 6, 8))])  # "first" is due on 8 March
    assert night(store, date(2027, 3, 5)) == []  # an operator re-runs an earlier date
    assert night(store, date(2027, 3, 11)) == [(1, "first", None)]


def test_a_renewal_closes_the_stages_waiting_for_an_address() -> None:
    """A stage open for `no_address` is closed as `renewed` the night after an import brings
    the holder a new document of the same kind: the old document is looked at again although
    neither it nor its holder changed."""
    store = FakeDecisionStore()
    store.load([_without_address(FakePerson(1, GENT.nis_code)),
                FakeDocument(1, 1, LICENCE, date(2027, 6, 30))])  # fmt: skip
    assert night(store, date(2027, 3, 30)) == [(1, "first", SkipReason.NO_ADDRESS)]
    store.load([FakeDocument(2, 1, LICENCE, date(2037, 6, 30))])  # the renewed licence
    assert night(store, date(2027, 3, 31)) == [(1, "first", SkipReason.RENEWED)]


def test_a_stage_closed_by_a_renewal_gets_no_letter_later() -> None:
    """Renewal imported, then reported lost, then the address known: the stage was closed as
    `renewed` the night after the renewal came in, and gets no letter once the address is known
    (a scan that looked only at changed documents and holders would send it)."""
    store = FakeDecisionStore()
    store.load([_without_address(FakePerson(1, GENT.nis_code)),
                FakeDocument(1, 1, LICENCE, date(2027, 6, 30))])  # fmt: skip
    assert night(store, date(2027, 3, 30)) == [(1, "first", SkipReason.NO_ADDRESS)]
    store.load([FakeDocument(2, 1, LICENCE, date(2037, 6, 30))])
    assert night(store, date(2027, 3, 31)) == [(1, "first", SkipReason.RENEWED)]
    store.load([replace(store.documents[2], status=DocumentStatus.LOST)])
    assert night(store, date(2027, 4, 1)) == []
    store.load([_with_address(store.persons[1])])
    assert night(store, date(2027, 4, 2)) == []


def test_the_unique_key_refuses_a_second_decision_and_the_run_keeps_nothing() -> None:
    """The fake refuses a second final decision for a stage as the database does; a run that
    trips it fails, is recorded as failed, and keeps none of its decisions."""
    store = FakeDecisionStore()
    store.load([FakePerson(1, GENT.nis_code), FakeDocument(1, 1, LICENCE, date(2027, 6, 30)),
                FakeDocument(2, 1, DocumentKind.EID, date(2027, 5, 30))])  # fmt: skip
    letter = [Decision(1, "first", None, (NL,))]
    uow = FakeUnitOfWork(store)
    with uow:
        uow.decisions.record(1, GENT.nis_code, LICENCE, letter, NOW)
    with pytest.raises(UniqueKeyViolationError), uow:
        uow.decisions.record(1, GENT.nis_code, LICENCE, letter, NOW)
    assert (uow.committed, uow.rolled_back) == (1, 1)
    assert len(store.decisions) == 1
    # A final row that reads as an open skip (as if edited by hand): the rule sends again.
    store.violations.clear()
    key = (1, "first", True)
    store.decisions[key] = replace(store.decisions[key], reason=SkipReason.NO_ADDRESS)
    with pytest.raises(RunFailedError):
        night(store, date(2027, 4, 1))
    assert store.violations == [key]
    assert list(store.decisions) == [key]  # the eID's letter of that run was not kept
    assert [run.outcome for run in store.runs.values()] == ["failed"]


# -- the SQL store, against the fake ---------------------------------------------------------

_person = cast(Table, PersonRow.__table__)
_document = cast(Table, DocumentRow.__table__)
_import = cast(Table, RegistryImportRow.__table__)


def sql_mirror(engine: Engine, seed: int) -> Mirror:
    """Writes each import of the fake registry to the database with the same ids."""
    rng = random.Random(seed)
    numbers: dict[int, str] = {}

    def number(person_id: int) -> str:
        if person_id not in numbers:  # synthetic, one birth date per person: never repeated
            born = date(1950, 1, 1) + person_id * 17 * DAY
            numbers[person_id] = synthetic_national_number(rng, born, male=person_id % 2 == 1)
        return numbers[person_id]

    def mirror(import_id: int, rows: Sequence[FakePerson | FakeDocument]) -> None:
        with engine.begin() as connection:
            connection.execute(
                insert(_import).values(
                    id=import_id, kind="persons", file_name=f"import-{import_id}.csv",
                    file_sha256="0" * 64, started_at=NOW, finished_at=NOW, rows_read=len(rows),
                    inserted=0, updated=0, unchanged=0, rejected=0,
                )
            )  # fmt: skip
            for row in rows:
                if isinstance(row, FakePerson):
                    _upsert(connection, _person, row.id, {
                        "national_number": number(row.id), "family_name": "Testpersoon",
                        "given_names": f"Nummer {row.id}",
                        "language": row.language.value if row.language else None,
                        "street": row.street, "house_number": row.house_number, "box": None,
                        "postal_code": row.postal_code, "locality": row.locality,
                        "country": row.country, "municipality_nis": row.municipality_nis,
                        "status": row.status.value, "status_since": None,
                        "guardian_national_number": None, "import_id": row.import_id,
                    })  # fmt: skip
                else:
                    _upsert(connection, _document, row.id, {
                        "person_id": row.person_id, "kind": row.kind.value,
                        "number": f"T{row.id:06d}", "issued_on": None,
                        "expires_on": row.expires_on, "status": row.status.value,
                        "import_id": row.import_id,
                    })  # fmt: skip

    return mirror


def _upsert(connection: Connection, table: Table, row_id: int, values: dict[str, object]) -> None:
    if connection.execute(update(table).where(table.c.id == row_id).values(values)).rowcount == 0:
        connection.execute(insert(table).values(id=row_id, **values))


def sql_decisions(engine: Engine) -> list[tuple[object, ...]]:
    """The recorded decisions as (run's date, run's order, municipality, document, stage,
    reason, final, language)."""
    with engine.connect() as connection:
        runs = {
            run_id: (as_of, order)
            for order, (run_id, as_of) in enumerate(
                connection.execute(select(NightlyRunRow.id, NightlyRunRow.as_of).order_by("id"))
            )
        }
        rows = connection.execute(
            select(DecisionRow.run_id, DecisionRow.municipality_nis, DecisionRow.document_id,
                   DecisionRow.stage, DecisionRow.reason, DecisionRow.final, DecisionRow.language)
        ).all()  # fmt: skip
        outcomes = connection.scalars(select(NightlyRunRow.outcome)).all()
    assert set(outcomes) <= {"succeeded"}
    return sorted((*runs[run_id], *rest) for run_id, *rest in rows)


def fake_decisions(store: FakeDecisionStore) -> list[tuple[object, ...]]:
    order = {run_id: index for index, run_id in enumerate(sorted(store.runs))}
    return sorted(
        (store.runs[d.run_id].as_of, order[d.run_id], d.municipality_nis, d.document_id,
         d.stage, d.reason.value if d.reason else None, d.final, d.language)
        for d in store.decisions.values()
    )  # fmt: skip


@pytest.mark.parametrize("seed", [18, 19, 30])  # seeds with letters, skips and changes
def test_the_sql_store_records_what_the_fake_records(engine: Engine, seed: int) -> None:
    """The same registry, changes and calendar through adapters/db/decision_store.py on SQLite and
    PostgreSQL record the same decisions, night by night, as the fake store."""
    rng = random.Random(seed)
    world = scenario(rng.randint, changes=True)
    world = replace(world, last=world.first + 120 * DAY)
    nights = some_nights(rng.randint, world, mixed=True)[:30]
    fake = run_calendar(world, nights)
    real = run_calendar(world, nights, uow=unit_of_work(engine), mirror=sql_mirror(engine, seed))
    assert real.store.decisions == {}  # the decisions went to the database
    assert sql_decisions(engine) == fake_decisions(fake.store)
    reasons = {decision.reason for decision in fake.store.decisions.values()}
    assert {None, SkipReason.SUPERSEDED} < reasons  # a scenario with something to compare


class SqlNights:
    """A registry held by a fake store, mirrored into ``engine``, with nights run through the
    SQL store: a scenario written step by step, run on the real database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.registry = FakeDecisionStore()
        self.mirror = sql_mirror(engine, 5)

    def load(self, rows: Sequence[FakePerson | FakeDocument]) -> None:
        stored = self.registry.load(rows)
        self.mirror(self.registry.imports, stored)

    def night(self, day: date) -> list[tuple[object, ...]]:
        """Run ``day``; returns (document, stage, reason) of what it recorded."""
        before = sql_decisions(self.engine)
        request = RunRequest(as_of=day, municipalities=(GENT, BRUSSELS), policies=POLICIES)
        run_night(request, unit_of_work(self.engine), now=lambda: NOW)
        return [row[3:6] for row in sql_decisions(self.engine) if row not in before]


def test_a_run_for_an_earlier_date_loses_no_imported_document_in_sql(engine: Engine) -> None:
    """The same on SQLite and PostgreSQL through adapters/db/decision_store.py."""
    sql = SqlNights(engine)
    sql.load([FakePerson(1, GENT.nis_code)])
    assert sql.night(date(2027, 3, 10)) == []
    sql.load([FakeDocument(1, 1, LICENCE, date(2027, 6, 8))])
    assert sql.night(date(2027, 3, 5)) == []
    assert sql.night(date(2027, 3, 11)) == [(1, "first", None)]


def test_a_renewal_closes_the_stages_waiting_for_an_address_in_sql(engine: Engine) -> None:
    """The same on SQLite and PostgreSQL through adapters/db/decision_store.py."""
    sql = SqlNights(engine)
    sql.load([_without_address(FakePerson(1, GENT.nis_code)),
              FakeDocument(1, 1, LICENCE, date(2027, 6, 30))])  # fmt: skip
    assert sql.night(date(2027, 3, 30)) == [(1, "first", "no_address")]
    sql.load([FakeDocument(2, 1, LICENCE, date(2037, 6, 30))])
    assert sql.night(date(2027, 3, 31)) == [(1, "first", "renewed")]
