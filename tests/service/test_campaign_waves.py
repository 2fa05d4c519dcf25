"""The campaign waves of the nightly run (services/campaign_wave.py, called in the decide step
of services/nightly_run.py) on an in-memory store: at most ``letters_per_day`` letters per
municipality and sending day, in the campaign's order, never a document twice (re-runs,
replays, missed nights, a run stopped in the middle of its decisions), the skips once and
outside the night's room. The same nights through `reminders run` on SQLite and PostgreSQL:
tests/e2e/test_campaigns.py.

`FakeCampaignNights` is tests/fakes.py's decision store with the campaign reads of
adapters/db/campaign_store.py: the selection, the order (expiring first, issued first, then
by number), keyset chunks that decisions recorded between them do not shift, the letters a
night already wrote, and whether a later night was decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from reminders.domain.campaign import (
    Campaign,
    CampaignCandidate,
    CampaignCounts,
    Selection,
)
from reminders.domain.due import SkipReason
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from reminders.services.nightly_run import RunFailedError, RunRequest, run_night
from reminders.services.run_control import RunControl
from tests import fakes
from tests.fakes import FakeDecisionStore, FakeDocument, FakePerson, FakeUnitOfWork, Jurisdiction

NOW = datetime(2031, 1, 6, 1, 0, tzinfo=UTC)
LICENCE = DocumentKind.DRIVING_LICENCE
GENT = Jurisdiction("44021", (Language.NL,), LetterLanguageRule.MUNICIPALITY)
BRUSSELS = Jurisdiction(
    "21004", (Language.FR, Language.NL), LetterLanguageRule.CITIZEN_OR_BILINGUAL
)
PER_DAY = 3
CAMPAIGN = Campaign(
    "paper-licences-2033", LICENCE, Selection.WITHOUT_EXPIRY_DATE, starts_on=date(2031, 1, 6),
    letters_per_day=PER_DAY, weekdays=(0, 1, 2, 3, 4), valid_until=date(2033, 1, 19),
)  # fmt: skip
MONDAY, TUESDAY, WEDNESDAY = date(2031, 1, 6), date(2031, 1, 7), date(2031, 1, 8)
SATURDAY = date(2031, 1, 11)
_UNKNOWN_ISSUE = date(1, 1, 1)


class FakeCampaignNights(FakeDecisionStore):
    """The decision store with a campaign's reads; ``issued`` holds each document's issue
    date (None: unknown), which the reminders do not read."""

    def __init__(self) -> None:
        super().__init__()
        self.issued: dict[int, date | None] = {}


class _FakeCampaignStore:
    CHUNK = 2  # small, so that the keyset chunks are exercised

    def __init__(self, nights: FakeCampaignNights) -> None:
        self.nights = nights

    def _order(self, campaign: Campaign, document: FakeDocument) -> tuple[Any, ...]:
        issued = self.nights.issued.get(document.id) or _UNKNOWN_ISSUE
        if campaign.selection is Selection.EXPIRING_BETWEEN:
            return (document.expires_on, issued, document.id)
        return (issued, document.id)  # the document's id stands for its number

    def _selected(self, campaign: Campaign, document: FakeDocument) -> bool:
        if document.kind is not campaign.kind:
            return False
        if campaign.selection is Selection.WITHOUT_EXPIRY_DATE:
            selected = document.expires_on is None
        else:
            assert campaign.expiring_from is not None
            assert campaign.expiring_until is not None
            selected = document.expires_on is not None and (
                campaign.expiring_from <= document.expires_on <= campaign.expiring_until
            )
        if campaign.issued_before is not None:
            issued = self.nights.issued.get(document.id)
            selected = selected and issued is not None and issued < campaign.issued_before
        return selected

    def _renewed(self, document: FakeDocument) -> bool:
        """Another active document of the kind valid longer (any with an expiry date, for one
        without): the campaign store's own check."""
        return any(
            other.person_id == document.person_id
            and other.kind is document.kind
            and other.id != document.id
            and other.status is DocumentStatus.ACTIVE
            and other.expires_on is not None
            and (document.expires_on is None or other.expires_on > document.expires_on)
            for other in self.nights.documents.values()
        )

    def candidates(
        self, campaign: Campaign, municipality_nis: str
    ) -> Iterator[list[CampaignCandidate]]:
        decided = self.nights.decisions
        after: tuple[Any, ...] | None = None
        while True:
            found = sorted(
                (
                    document
                    for document in self.nights.documents.values()
                    if self._selected(campaign, document)
                    and self.nights.persons[document.person_id].municipality_nis == municipality_nis
                    and (document.id, campaign.id, True) not in decided
                    and (after is None or self._order(campaign, document) > after)
                ),
                key=lambda document: self._order(campaign, document),
            )[: self.CHUNK]
            if not found:
                return
            yield [
                CampaignCandidate(
                    replace(self.nights.facts(document), renewed_by_later=self._renewed(document)),
                    (document.id, campaign.id, False) in decided,
                )
                for document in found
            ]
            after = self._order(campaign, found[-1])

    def letters_for_night(self, campaign_id: str, municipality_nis: str, as_of: date) -> int:
        return sum(
            decision.stage == campaign_id
            and decision.municipality_nis == municipality_nis
            and decision.reason is None
            and self.nights.runs[decision.run_id].as_of == as_of
            for decision in self.nights.decisions.values()
        )

    def later_night_decided(self, municipality_nis: str, as_of: date) -> bool:
        return any(
            run.as_of > as_of and run.step != "started" and municipality_nis in run.municipalities
            for run in self.nights.runs.values()
        )

    def counts(self, campaign: Campaign, nis_codes: Any) -> dict[str, CampaignCounts]:
        """Where a campaign stands is read from a real database (tests/e2e/test_campaigns.py);
        the waves never ask."""
        raise NotImplementedError("campaign status is tested on real databases")


def registry(store: FakeCampaignNights | None = None) -> FakeCampaignNights:
    """Gent: 9 paper licences that get a letter (one with an unknown issue date, the others
    issued over the years in another order than their numbers) and 4 that are skipped
    (deceased holder, no address, renewed by a card licence, lost); Brussels: 4 paper
    licences; an eID and a card licence, which the campaign does not select. Loaded into
    ``store`` (a new one by default)."""
    store = store or FakeCampaignNights()
    rows: list[FakePerson | FakeDocument] = []
    for index in range(9):
        rows += [
            FakePerson(index + 1, GENT.nis_code),
            FakeDocument(index + 1, index + 1, LICENCE, None),
        ]
        store.issued[index + 1] = None if index == 0 else date(1990 + (index * 7) % 9, 1, 1)
    rows += [
        FakePerson(20, GENT.nis_code, status=PersonStatus.DECEASED),
        FakeDocument(20, 20, LICENCE, None),
        FakePerson(21, GENT.nis_code, street=None),
        FakeDocument(21, 21, LICENCE, None),
        FakePerson(22, GENT.nis_code),
        FakeDocument(22, 22, LICENCE, None),
        FakeDocument(23, 22, LICENCE, date(2035, 1, 1)),  # the card licence renewing it
        FakePerson(24, GENT.nis_code),
        FakeDocument(24, 24, LICENCE, None, status=DocumentStatus.LOST),
        FakeDocument(25, 24, DocumentKind.EID, date(2032, 1, 1)),
    ]
    for index in range(4):
        rows += [FakePerson(30 + index, BRUSSELS.nis_code, language=Language.FR),
                 FakeDocument(30 + index, 30 + index, LICENCE, None)]  # fmt: skip
        store.issued[30 + index] = date(2000 + index, 1, 1)
    store.load(rows)
    for document in (20, 21, 22, 24):
        store.issued[document] = date(1980, 1, 1)  # first in the order: skipped all the same
    return store


def night(store: FakeCampaignNights, day: date, control: RunControl | None = None) -> int:
    """The night of ``day`` (campaigns only: no reminder policy); its letters."""
    request = RunRequest(
        as_of=day, municipalities=(GENT, BRUSSELS), policies={}, campaigns=(CAMPAIGN,)
    )
    uow = FakeUnitOfWork(store, campaigns=_FakeCampaignStore(store))
    outcome = run_night(request, fakes.unit_of_work(uow), now=lambda: NOW, control=control)
    assert outcome.summary is not None
    return outcome.summary.letters


def letters(store: FakeCampaignNights) -> list[tuple[date, str, int]]:
    """(night, municipality, document) of every campaign letter, in the order recorded."""
    return [
        (store.runs[d.run_id].as_of, d.municipality_nis, d.document_id)
        for d in store.decisions.values()
        if d.stage == CAMPAIGN.id and d.reason is None
    ]


def per_night(store: FakeCampaignNights) -> Counter[tuple[date, str]]:
    return Counter((day, nis) for day, nis, _ in letters(store))


def test_three_nights_write_three_waves_in_the_campaign_s_order_and_never_a_document_twice() -> (
    None
):
    """Each weekday night writes at most 3 letters per municipality: unknown issue date first,
    then the oldest issued; no document gets two; the skips come once, on the first night,
    with their reason, and do not use the night's room; a Saturday writes none."""
    store = registry()
    assert [night(store, day) for day in (MONDAY, TUESDAY, WEDNESDAY)] == [6, 4, 3]
    written = letters(store)
    assert len({document for _, _, document in written}) == len(written) == 13
    assert max(per_night(store).values()) == PER_DAY
    gent = [document for _, nis, document in written if nis == GENT.nis_code]
    issued = [store.issued[document] or date.min for document in gent]
    assert gent[0] == 1  # the unknown issue date
    assert issued == sorted(issued)
    assert {document for _, nis, document in written if nis == BRUSSELS.nis_code} == {
        30,
        31,
        32,
        33,
    }
    skips = {d.document_id: d.reason for d in store.decisions.values() if d.reason}
    assert skips == {
        20: SkipReason.DECEASED, 21: SkipReason.NO_ADDRESS, 22: SkipReason.RENEWED,
        24: SkipReason.INACTIVE_DOCUMENT,
    }  # fmt: skip
    assert night(store, SATURDAY) == 0
    assert store.violations == []


def test_a_rerun_or_a_replay_adds_nothing_and_a_missed_night_is_not_made_up() -> None:
    """The same night again writes nothing more; after a missed Tuesday, Wednesday writes one
    wave, not two; a replay of the missed Tuesday afterwards writes nothing."""
    store = registry()
    assert night(store, MONDAY) == 6
    assert night(store, MONDAY) == 0
    assert night(store, WEDNESDAY) == 3 + 1  # Gent's room; Brussels has one left
    assert night(store, TUESDAY) == 0
    assert max(per_night(store).values()) == PER_DAY
    assert len({document for _, _, document in letters(store)}) == len(letters(store)) == 10


class StoppedError(Exception):
    """The decide step failing in the middle (a full disk, a lost connection)."""


class StopAt(RunControl):
    def __init__(self, point: str) -> None:
        super().__init__()
        self.point = point

    def reached(self, point: str) -> None:
        super().reached(point)
        if point == self.point:
            raise StoppedError(point)


class FailingRecord(FakeCampaignNights):
    """Recording the ``fail_at``-th batch of decisions fails (the wave half written)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at, self.calls = fail_at, 0

    def record(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise StoppedError(f"record #{self.calls}")
        super().record(*args, **kwargs)


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_a_night_that_fails_in_the_middle_of_its_wave_keeps_nothing_and_the_next_writes_it_once(
    fail_at: int,
) -> None:
    """Recording the wave fails at its n-th batch: the run is recorded as failed with none of
    its decisions; the night run again writes the whole wave once, and once more, nothing."""
    store = registry(FailingRecord(fail_at))
    with pytest.raises(RunFailedError):
        night(store, MONDAY)
    assert store.decisions == {}
    assert [(run.outcome, run.step) for run in store.runs.values()] == [("failed", "started")]
    assert night(store, MONDAY) == 6
    assert night(store, MONDAY) == 0
    assert per_night(store) == Counter({(MONDAY, GENT.nis_code): 3, (MONDAY, BRUSSELS.nis_code): 3})


@pytest.mark.parametrize("point", ["decide:recorded", "decide:committed"])
def test_a_night_stopped_at_a_decide_point_writes_the_wave_once(point: str) -> None:
    """Stopped with its decisions written, before or after their commit: the night run again
    completes one wave per municipality, each letter once, and once more adds nothing (the
    printing step's points: tests/integration/test_run_stopped_and_resumed.py)."""
    store = registry()
    with pytest.raises(RunFailedError):
        night(store, MONDAY, StopAt(point))
    kept = len(letters(store))
    assert kept == (6 if point == "decide:committed" else 0)
    assert night(store, MONDAY) == 6 - kept
    assert night(store, MONDAY) == 0
    assert per_night(store) == Counter({(MONDAY, GENT.nis_code): 3, (MONDAY, BRUSSELS.nis_code): 3})


def test_a_holder_without_address_is_skipped_once_and_written_to_when_one_is_imported() -> None:
    """The `no_address` skip is recorded once however many nights pass; once the address is
    imported, the next night writes to the holder (in the night's room)."""
    store = registry()
    for day in (MONDAY, TUESDAY, WEDNESDAY):
        night(store, day)
    no_address = [d for d in store.decisions.values() if d.reason is SkipReason.NO_ADDRESS]
    assert [d.document_id for d in no_address] == [21]
    store.load([replace(store.persons[21], street="Veldstraat")])
    assert night(store, date(2031, 1, 9)) == 1
    assert letters(store)[-1] == (date(2031, 1, 9), GENT.nis_code, 21)
