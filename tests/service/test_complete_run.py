"""A run after its decisions (services/complete_run.py) on fakes: printed, sealed into the
dispatch log, published; stopped at any of its points and completed again from the step it
reached, every letter ends up once in one volume and once in the log, under one checkpoint.
Milliseconds a case; the same on real databases and processes: tests/integration/
test_run_stopped_and_resumed.py and tests/e2e/test_run_crash_safety.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import pytest

from reminders.config import Settings, load_settings
from reminders.domain.checkpoint import parsed_checkpoint
from reminders.domain.dispatch_log import LogEvent, NewEntry
from reminders.domain.print_records import StoredVolume
from reminders.domain.release import ReleaseMode, VolumeState
from reminders.domain.tiles import CHECKPOINT_PATH
from reminders.services.complete_run import Printing, complete_run
from reminders.services.ports import AfterPrintStore
from reminders.services.run_control import RunControl
from reminders.services.run_summary import RunSummary
from tests.fakes import (
    FakeDecision,
    FakeDecisionStore,
    FakeDispatchLog,
    FakeLetterStore,
    FakePrintShop,
    FakePublishedLogs,
    FakeRendering,
    FakeRunLedger,
    FakeSigner,
    FakeTexts,
    FakeUnitOfWork,
    letter_decision,
    unit_of_work,
)
from tests.service.test_print_letters import StopAt, StoppedError

AS_OF = date(2027, 3, 1)
NOW = datetime(2027, 3, 1, 1, 30, tzinfo=UTC)
GENT = "44021"
LETTERS = 5  # in volumes of two: three volumes
# Every point a run reaches after its decisions, with how often it reaches it here.
POINTS = [
    ("print:volume-staged", 1),
    ("print:volume-staged", 3),
    ("print:volume-recorded", 2),
    ("seal:appended", 1),
    ("seal:committed", 1),
    ("publish:renamed", 2),
    ("publish:delivered", 1),
    ("publish:done", 1),
]


class FakeVolumeStates:
    """What the publish step reads and writes of the volumes after the print: their state and
    whether they reached the print shop (the rest of AfterPrintStore is tested on real
    databases: tests/e2e/test_after_print.py)."""

    def __init__(self, letters: FakeLetterStore) -> None:
        self.letters = letters
        self.delivered_at: dict[int, datetime] = {}

    def checkpoint(self) -> Callable[[], None]:
        delivered = dict(self.delivered_at)

        def restore() -> None:
            self.delivered_at = delivered

        return restore

    def volume_at(self, path: str) -> StoredVolume | None:
        for record in self.letters.records:
            if record.path == path:
                return StoredVolume(
                    record.volume_id, record.run_id, record.municipality_nis, record.language,
                    record.sequence, record.path, "", record.letters, record.letters + 1,
                    record.state, "run", None, None, None, None,
                    self.delivered_at.get(record.volume_id), AS_OF, "cli", "running",
                )  # fmt: skip
        return None

    def mark_delivered(self, volume_id: int, at: datetime) -> None:
        assert volume_id not in self.delivered_at, f"volume {volume_id} delivered twice"
        self.delivered_at[volume_id] = at


@dataclass
class DecidedRun:
    """A run of Gent whose decisions are committed (step `decided`), on fakes throughout."""

    settings: Settings
    release: ReleaseMode = ReleaseMode.AUTO

    def __post_init__(self) -> None:
        gent = replace(self.settings.municipality(GENT), release=self.release)
        self.store = FakeDecisionStore()
        self.letters = FakeLetterStore([letter_decision(n, f"E{n:03d}") for n in range(1, 6)])
        self.log = FakeDispatchLog(self.entries)
        self.volumes = FakeVolumeStates(self.letters)
        self.runs = FakeRunLedger(
            self.store, volume_paths=self.letters.volume_paths, checkpoints=self.log.run_checkpoints
        )
        self.uow = FakeUnitOfWork(
            self.store,
            letters=self.letters,
            runs=self.runs,
            dispatch_log=self.log,
            after_print=cast(AfterPrintStore, self.volumes),
            transactional=[self.letters, self.log, self.volumes],
        )
        self.shop, self.signer = FakePrintShop(), FakeSigner()
        self.logs = FakePublishedLogs(self.shop)
        self.printing = Printing(
            municipalities=[gent],
            texts=FakeTexts(),
            shop=self.shop,
            rendering=FakeRendering(),
            signer=self.signer,
            logs=self.logs,
            keys=self.signer.keys,
            volume_max_letters=2,
        )
        with self.uow:
            self.run_id = self.runs.start_run(
                as_of=AS_OF, municipalities=[GENT], started_by="cli", worker="test",
                config_sha256="", code_version="", started_at=NOW,
            )  # fmt: skip
            for facts in self.letters.facts:
                key = (facts.decision_id, facts.stage, True)
                self.store.decisions[key] = FakeDecision(
                    self.run_id, GENT, facts.decision_id, facts.document.kind, facts.stage,
                    None, True, "nl", NOW,
                )  # fmt: skip
            self.runs.mark_decided(self.run_id, tally={}, missed_nights="{}")

    def entries(self, run_id: int, nis: str, recorded_at: str) -> Iterator[list[NewEntry]]:
        """The run's records as log entries, as adapters/db/dispatch_log_store.py makes them
        (fewer details): the run, each volume followed by its letters, the seal."""
        yield [NewEntry(run_id, LogEvent.RUN, recorded_at, {"as_of": AS_OF.isoformat()})]
        records = [r for r in self.letters.records if r.run_id == run_id]
        for record in records:
            yield [
                NewEntry(run_id, LogEvent.VOLUME, recorded_at, {"path": record.path}),
                *(
                    NewEntry(
                        run_id,
                        LogEvent.LETTER,
                        recorded_at,
                        {"page": letter.first_page},
                        document_kind=letter.document_kind,
                        document_number=letter.document_number,
                        stage=letter.stage,
                        language=letter.language,
                        reference=letter.reference,
                    )
                    for letter in self.letters.in_volume[record.volume_id]
                ),
            ]
        counts = {"letters": sum(r.letters for r in records), "volumes": len(records)}
        yield [NewEntry(run_id, LogEvent.SEALED, recorded_at, counts)]

    def complete(self, control: RunControl | None = None) -> RunSummary:
        """complete_run from the step the run reached, as the next start resumes it."""
        with self.uow:
            run = self.runs.run(self.run_id)
        return complete_run(
            run,
            self.settings.policies,
            unit_of_work(self.uow),
            self.printing,
            now=lambda: NOW,
            control=control or RunControl(),
        )

    def logged(self, event: LogEvent) -> list[str | None]:
        return [e.reference for e, _ in self.log.entries(GENT) if e.event == event.value]


@pytest.fixture
def settings(config_file: Path) -> Settings:
    return load_settings(config_file, environ={})


def test_a_decided_run_is_printed_sealed_published_and_recorded_as_succeeded(
    settings: Settings,
) -> None:
    """The steps in order: three volumes recorded, the log sealed with the run's entries and
    one signed checkpoint, the log published with it, the volumes given their final names and
    handed to the print shop, the checkpoint file written beside them, the run succeeded."""
    run = DecidedRun(settings)
    summary = run.complete()
    assert run.runs.run(run.run_id).step == "published"
    assert run.store.runs[run.run_id].outcome == "succeeded"
    assert (summary.letters, len(summary.volumes)) == (LETTERS, 3)
    assert run.logged(LogEvent.LETTER) == [f"44021-000001-{n:06d}" for n in range(1, 6)]
    volume, letter = ["volume", "letter", "letter"], ["volume", "letter"]
    assert [e.event for e, _ in run.log.entries(GENT)] == [
        "run",
        *volume,
        *volume,
        *letter,
        "sealed",
    ]
    (checkpoint,) = run.log.checkpoints(GENT)
    assert checkpoint.tree_size == 1 + 3 + LETTERS + 1
    assert run.logs.log(GENT).read(CHECKPOINT_PATH) == checkpoint.note.encode()
    assert run.shop.published == run.letters.volumes == run.shop.delivered_paths
    assert list(run.shop.checkpoint_files.values()) == [checkpoint.note]
    assert parsed_checkpoint(checkpoint.note).checkpoint.run_id == run.run_id


def test_volumes_held_for_approval_are_published_but_not_delivered(settings: Settings) -> None:
    """`release = "approval"`: the run publishes its volumes in the output folder and
    succeeds, but nothing reaches the print shop's pick-up folder before an approver."""
    run = DecidedRun(settings, ReleaseMode.APPROVAL)
    run.complete()
    assert len(run.shop.published) == 3
    assert run.shop.delivered_paths == []
    assert {r.state for r in run.letters.records} == {VolumeState.HELD}
    assert run.store.runs[run.run_id].outcome == "succeeded"


@pytest.mark.parametrize(("point", "nth"), POINTS, ids=[f"{p}#{n}" for p, n in POINTS])
def test_a_run_stopped_at_a_point_and_completed_again_sends_each_letter_once(
    settings: Settings, point: str, nth: int
) -> None:
    """Stopped dead at ``point`` (what the step's transaction had not committed is rolled
    back), then completed from the step it reached: each letter in one volume and once in
    the log, one checkpoint, each volume published and delivered once, the run succeeded."""
    run = DecidedRun(settings)
    with pytest.raises(StoppedError):
        run.complete(StopAt(point, nth))
    assert run.store.runs[run.run_id].outcome == "running"
    summary = run.complete()
    assert summary.letters == LETTERS
    references = [f"44021-000001-{n:06d}" for n in range(1, 6)]
    assert [letter.reference for letter in run.letters.printed] == references
    assert run.logged(LogEvent.LETTER) == references
    assert len(run.logged(LogEvent.SEALED)) == 1
    assert [c.tree_size for c in run.log.checkpoints(GENT)] == [1 + 3 + LETTERS + 1]
    assert run.shop.published == run.letters.volumes == run.shop.delivered_paths
    assert len(run.letters.volumes) == 3
    assert run.store.runs[run.run_id].outcome == "succeeded"
    assert run.logs.log(GENT).read(CHECKPOINT_PATH) == run.log.checkpoints(GENT)[0].note.encode()
