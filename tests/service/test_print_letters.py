"""The printing step (services/print_letters.py) on fakes: volumes cut in order, references
numbered per municipality, the re-check before printing, a step stopped half-way and
resumed, held volumes and language series. No database, no templates, no PDF: the render pool
and the output folder are tests/fakes.py's (the real ones: tests/e2e/test_print_volumes.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from reminders.config import Municipality, Settings, load_settings
from reminders.domain.due import SkipReason
from reminders.domain.letters import LetterFacts
from reminders.domain.model import Language, PersonStatus
from reminders.domain.release import ReleaseMode, VolumeState
from reminders.services.print_letters import PrintRequest, print_letters
from reminders.services.run_control import RunControl
from tests.fakes import (
    FakeLetterStore,
    FakePrintShop,
    FakeRendering,
    FakeTexts,
    FakeUnitOfWork,
    letter_decision,
    unit_of_work,
)

RUN_ID = 9
AS_OF = date(2027, 3, 1)
NOW = datetime(2027, 3, 1, 1, 30, tzinfo=UTC)


class StoppedError(Exception):
    """The printing step stopped dead at a point (as a kill would stop it)."""


class StopAt(RunControl):
    """Stops the step the n-th time it reaches ``point``."""

    def __init__(self, point: str, nth: int = 1) -> None:
        super().__init__()
        self.point, self.nth = point, nth

    def reached(self, point: str) -> None:
        super().reached(point)
        if point == self.point and self._reached[point] == self.nth:
            raise StoppedError(f"{point}#{self.nth}")


@pytest.fixture
def settings(config_file: Path) -> Settings:
    """config.toml's example: Gent (nl) and Brussels (fr and nl), and its policies."""
    return load_settings(config_file, environ={})


class Printer:
    """One run's printing step over fakes, run as often as a test likes (a resumption)."""

    def __init__(
        self,
        settings: Settings,
        municipalities: list[Municipality],
        letters: list[LetterFacts],
        **request: Any,
    ) -> None:
        self.letters = FakeLetterStore(letters)
        self.uow = FakeUnitOfWork(letters=self.letters, transactional=[self.letters])
        self.shop, self.rendering = FakePrintShop(), FakeRendering()
        self.request = PrintRequest(
            run_id=RUN_ID,
            as_of=AS_OF,
            municipalities=municipalities,
            policies=settings.policies,
            **request,
        )

    def print(self, control: RunControl | None = None) -> int:
        return print_letters(
            self.request,
            unit_of_work(self.uow),
            FakeTexts(),
            self.shop,
            self.rendering,
            now=lambda: NOW,
            control=control or RunControl(),
        )

    def references(self) -> list[str]:
        return [letter.reference for letter in self.letters.printed]

    def volume_names(self) -> list[str]:
        return [Path(path).name for path in self.letters.volumes]


def gent_letters(count: int) -> list[LetterFacts]:
    return [letter_decision(n, f"E{n:03d}") for n in range(1, count + 1)]


def test_letters_are_cut_into_volumes_in_order_and_numbered_per_municipality(
    settings: Settings,
) -> None:
    """Seven letters, at most three a volume: three volumes of 3, 3 and 1 letters, recorded
    in the order cut, references 1 to 7 of the run in Gent, each letter once."""
    printer = Printer(
        settings, [settings.municipality("44021")], gent_letters(7), volume_max_letters=3
    )
    assert printer.print() == 7
    assert printer.volume_names() == ["volume-001.pdf", "volume-002.pdf", "volume-003.pdf"]
    assert [record.letters for record in printer.letters.records] == [3, 3, 1]
    assert printer.references() == [f"44021-000009-{n:06d}" for n in range(1, 8)]
    assert [letter.decision_id for letter in printer.letters.printed] == list(range(1, 8))
    assert printer.rendering.opened == [(3, 7)]  # the pool sized for the volumes and letters
    assert printer.letters.planned == {"44021": 3}  # announced before the first volume
    assert printer.letters.refreshed == 1  # the planner's statistics, before the plan is read
    # The statistics refreshed, the plan read, the planned volumes recorded, the letters
    # read, each volume recorded.
    assert (printer.uow.committed, printer.uow.rolled_back) == (1 + 1 + 1 + 1 + 3, 0)


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({"status": PersonStatus.DECEASED}, SkipReason.DECEASED),
        ({"municipality_nis": "44083"}, SkipReason.MOVED_OUT),  # now registered elsewhere
        ({"status": PersonStatus.EMIGRATED}, SkipReason.EMIGRATED),
        ({"status": PersonStatus.STRUCK_OFF}, SkipReason.STRUCK_OFF),
        ({"renewed": True}, SkipReason.RENEWED),
        ({"address": None}, SkipReason.NO_ADDRESS),
    ],
    ids=lambda value: value.value if isinstance(value, SkipReason) else "",
)
def test_the_recheck_turns_a_letter_into_a_skip(
    settings: Settings,
    changed: dict[str, Any],
    reason: SkipReason,
) -> None:
    """Read again just before printing, a holder who died (or moved, ...) since the decision
    gets no letter: the decision is replaced by a skip with the reason, the letter is in no
    volume and takes no reference; the others are printed as usual."""
    letters = [letter_decision(1, "E1"), letter_decision(2, "E2", **changed)]
    printer = Printer(
        settings, [settings.municipality("44021")], [*letters, letter_decision(3, "E3")]
    )
    assert printer.print() == 2
    assert printer.letters.skips == [(2, reason)]
    assert [letter.document_number for letter in printer.letters.printed] == ["E1", "E3"]
    assert printer.references() == ["44021-000009-000001", "44021-000009-000002"]


@pytest.mark.parametrize("nth", [1, 2])
def test_a_step_stopped_after_recording_a_volume_prints_only_the_rest_when_resumed(
    settings: Settings, nth: int
) -> None:
    """Stopped right after its n-th volume was committed, the step run again deletes no
    recorded file, continues the series (volume and reference numbers) and prints each
    letter once."""
    printer = Printer(
        settings, [settings.municipality("44021")], gent_letters(7), volume_max_letters=3
    )
    with pytest.raises(StoppedError):
        printer.print(StopAt("print:volume-recorded", nth))
    assert len(printer.letters.volumes) == nth
    assert printer.print() == 7 - 3 * nth
    assert printer.shop.forgotten == []
    assert printer.volume_names() == ["volume-001.pdf", "volume-002.pdf", "volume-003.pdf"]
    assert printer.references() == [f"44021-000009-{n:06d}" for n in range(1, 8)]


def test_a_volume_staged_but_never_recorded_is_deleted_and_printed_again(
    settings: Settings,
) -> None:
    """Stopped between staging a volume's files and committing it: the volume's transaction
    never ran, so the step run again deletes the staged files and prints those letters in a
    volume of the same name, once."""
    printer = Printer(
        settings, [settings.municipality("44021")], gent_letters(4), volume_max_letters=2
    )
    with pytest.raises(StoppedError):
        printer.print(StopAt("print:volume-staged", 2))
    assert printer.volume_names() == ["volume-001.pdf"]
    assert printer.print() == 2
    assert [Path(path).name for path in printer.shop.forgotten] == ["volume-002.pdf"]
    assert printer.volume_names() == ["volume-001.pdf", "volume-002.pdf"]
    assert printer.references() == [f"44021-000009-{n:06d}" for n in range(1, 5)]


def test_a_volume_whose_recording_fails_keeps_none_of_its_rows(
    settings: Settings,
) -> None:
    """Recording a volume and its letters is one transaction: when recording the letters
    fails, the volume's row is rolled back with them, and the step run again records both."""
    printer = Printer(settings, [settings.municipality("44021")], gent_letters(2))
    record_letters = printer.letters.record_letters

    def failing(volume_id: int, letters: Any) -> None:
        raise OSError("disk full")

    printer.letters.record_letters = failing  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        printer.print()
    assert (printer.letters.volumes, printer.letters.printed) == ([], [])
    assert printer.uow.rolled_back == 1
    printer.letters.record_letters = record_letters  # type: ignore[method-assign]
    assert printer.print() == 2
    assert printer.volume_names() == ["volume-001.pdf"]


@pytest.mark.parametrize(
    ("release", "state"),
    [(ReleaseMode.AUTO, VolumeState.AUTO), (ReleaseMode.APPROVAL, VolumeState.HELD)],
)
def test_volumes_of_a_municipality_that_releases_by_approval_are_held(
    settings: Settings,
    release: ReleaseMode,
    state: VolumeState,
) -> None:
    """`release = "approval"` records its volumes held (for an approver); "auto" does not."""
    gent = replace(settings.municipality("44021"), release=release)
    printer = Printer(settings, [gent], gent_letters(3), volume_max_letters=2)
    printer.print()
    assert [record.state for record in printer.letters.records] == [state, state]


def test_split_by_language_prints_a_series_of_volumes_per_letter_language(
    settings: Settings,
) -> None:
    """Brussels with ``split_by_language``: its French and Dutch letters each in a series of
    their own (volume-fr-001, volume-nl-001, ...), the references still one count for the
    municipality."""
    brussels = "21004"
    fr, nl = (Language.FR,), (Language.NL,)
    letters = [
        letter_decision(n, f"B{n}", municipality_nis=brussels, languages=fr if n % 2 else nl)
        for n in range(1, 6)
    ]
    printer = Printer(
        settings,
        [settings.municipality(brussels)],
        letters,
        split_by_language=True,
        volume_max_letters=2,
    )
    assert printer.print() == 5
    assert printer.volume_names() == ["volume-fr-001.pdf", "volume-fr-002.pdf", "volume-nl-001.pdf"]
    assert [record.language for record in printer.letters.records] == ["fr", "fr", "nl"]
    assert sorted(printer.references()) == [f"21004-000009-{n:06d}" for n in range(1, 6)]
    assert [letter.decision_id for letter in printer.letters.printed] == [1, 3, 5, 2, 4]
