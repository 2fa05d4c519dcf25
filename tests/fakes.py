"""In-memory stand-ins for the ports (services/ports.py), for fast service tests.

`FakeUnitOfWork` is the unit of work: the repositories a test hands it (the others refuse to be
used), a count of the blocks it committed and rolled back, and on a rollback what the block
wrote put back. `FakeDecisionStore` is the nightly decision's store over dicts, and holds the
runs that `FakeRunLedger` keeps. It narrows candidates the way
adapters/db/decision_store.py does (expiry windows, then the documents of holders whose row, or
whose documents of the kind, an import changed after the watermark's) and refuses a second
decision for a (document, stage, final) key as the database's unique key does, so a service
test sees what production would see.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, cast

from reminders.domain.address import is_usable_address
from reminders.domain.due import Decision, DocumentFacts, Holder, Recorded, SkipReason
from reminders.domain.letter_language import language_label
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from reminders.domain.scan_window import ExpiryWindow, ScanWatermark
from reminders.errors import Reason
from reminders.services.ports import (
    AfterPrintStore,
    CampaignStore,
    DecisionStore,
    DispatchLogStore,
    LetterStore,
    RecoveryStore,
    RegistryStore,
    RunCheckpoint,
    RunLedger,
    UnitOfWork,
)

CHUNK = 5  # documents per chunk: small, so that chunking is exercised


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """A municipality as the rule sees it (due.LetterJurisdiction), without a sender."""

    nis_code: str
    languages: tuple[Language, ...]
    letter_language: LetterLanguageRule


class UniqueKeyViolationError(Exception):
    """A second decision for one (document, stage, final): the database would refuse it."""


@dataclass(frozen=True, slots=True)
class FakePerson:
    """A row of `person`, with what the nightly run reads of it."""

    id: int
    municipality_nis: str
    status: PersonStatus = PersonStatus.RESIDENT
    language: Language | None = None
    street: str | None = "Kerkstraat"
    house_number: str | None = "1"
    postal_code: str | None = "9000"
    locality: str | None = "Gent"
    country: str = "BE"
    import_id: int = 0  # the import that last changed the row; set by FakeDecisionStore.load

    @property
    def has_address(self) -> bool:
        return is_usable_address(
            street=self.street,
            house_number=self.house_number,
            postal_code=self.postal_code,
            locality=self.locality,
            country=self.country,
        )


@dataclass(frozen=True, slots=True)
class FakeDocument:
    """A row of `document`."""

    id: int
    person_id: int
    kind: DocumentKind
    expires_on: date | None
    status: DocumentStatus = DocumentStatus.ACTIVE
    import_id: int = 0


@dataclass(frozen=True, slots=True)
class FakeDecision:
    """A row of `decision`: a letter (reason None) or a skip."""

    run_id: int
    municipality_nis: str
    document_id: int
    document_kind: DocumentKind
    stage: str
    reason: SkipReason | None
    final: bool
    language: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class FakeRun:
    """A row of `nightly_run`."""

    as_of: date
    municipalities: tuple[str, ...]
    started_at: datetime
    outcome: str = "running"
    step: str = "started"
    finished_at: datetime | None = None
    letters: int = 0
    skips: int = 0
    failure: str | None = None
    started_by: str = "cli"
    attempts: int = 1
    tally: str = "{}"  # JSON, as stored


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run as the ledger hands it out (services/ports.py `StoredRun`)."""

    run_id: int
    as_of: date
    municipalities: tuple[str, ...]
    step: str
    outcome: str
    started_by: str


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What a run decided (services/ports.py `RunCounts`)."""

    letters: dict[str, Counter[tuple[DocumentKind, str, str]]]
    skipped: dict[str, Counter[str]]
    tally: dict[str, Any]


class FakeDecisionStore:
    """The nightly decision's store in memory, with the rows of runs. With ``narrow=False``
    it hands out every document of the municipalities every night: the reference the
    narrowing must agree with."""

    def __init__(self, *, narrow: bool = True) -> None:
        self.narrow = narrow
        self.persons: dict[int, FakePerson] = {}
        self.documents: dict[int, FakeDocument] = {}
        self.decisions: dict[tuple[int, str, bool], FakeDecision] = {}
        self.marks: dict[tuple[str, DocumentKind], tuple[ScanWatermark, int]] = {}
        self.runs: dict[int, FakeRun] = {}
        self.imports = 0
        self.violations: list[tuple[int, str, bool]] = []  # kept across rollbacks

    # -- the registry, as imports change it -----------------------------------------------

    def load(self, rows: Iterable[FakePerson | FakeDocument]) -> list[FakePerson | FakeDocument]:
        """One registry import: each row that is new or differs from the stored one is stored
        with this import's id (an unchanged row keeps the import that last changed it, as
        `reminders import` does). Returns the rows it stored."""
        self.imports += 1
        stored: list[FakePerson | FakeDocument] = []
        for row in rows:
            if isinstance(row, FakePerson):
                person = replace(row, import_id=self.imports)
                old_person = self.persons.get(row.id)
                if old_person is None or replace(old_person, import_id=self.imports) != person:
                    self.persons[row.id] = person
                    stored.append(person)
            else:
                document = replace(row, import_id=self.imports)
                old = self.documents.get(row.id)
                if old is None or replace(old, import_id=self.imports) != document:
                    self.documents[row.id] = document
                    stored.append(document)
        return stored

    def checkpoint(self) -> Callable[[], None]:
        """Puts back, when called, what a transaction may change (rows are frozen: copies of
        the dicts suffice). The registry is changed by `load` only, outside transactions."""
        decisions, marks, runs = dict(self.decisions), dict(self.marks), dict(self.runs)

        def restore() -> None:
            self.decisions, self.marks, self.runs = decisions, marks, runs

        return restore

    # -- DecisionStore: reading -----------------------------------------------------------

    def latest_import_id(self) -> int:
        return self.imports

    def watermarks(
        self, kind: DocumentKind, nis_codes: Collection[str]
    ) -> dict[str, ScanWatermark]:
        return {
            nis: mark
            for (nis, mark_kind), (mark, _run) in self.marks.items()
            if mark_kind is kind and nis in nis_codes
        }

    def candidates(
        self,
        kind: DocumentKind,
        nis_codes: Collection[str],
        windows: Sequence[ExpiryWindow],
        *,
        changed_after_import: int | None,
    ) -> Iterator[list[tuple[DocumentFacts, tuple[Recorded, ...]]]]:
        in_area = [
            document
            for document in self.documents.values()
            if document.kind is kind
            and document.expires_on is not None
            and self.persons[document.person_id].municipality_nis in nis_codes
        ]
        if not self.narrow:
            yield from self._chunked(sorted(in_area, key=lambda document: document.id))
            return

        def expiring(document: FakeDocument) -> date:
            assert document.expires_on is not None
            return document.expires_on

        for window in windows:
            found = [document for document in in_area if expiring(document) in window]
            yield from self._chunked(sorted(found, key=lambda d: (expiring(d), d.id)))
        if changed_after_import is None:
            return
        changed = self._changed_since(kind, changed_after_import)
        outside = [
            document
            for document in sorted(in_area, key=lambda document: document.id)
            if document.id in changed
            and not any(expiring(document) in window for window in windows)
        ]
        yield from self._chunked(outside)

    def _changed_since(self, kind: DocumentKind, import_id: int) -> set[int]:
        """Like the adapter: documents of ``kind`` whose holder an import after ``import_id``
        changed, or whose holder's documents of this kind it changed (a new one renews the
        others)."""
        changed_holders = {
            document.person_id
            for document in self.documents.values()
            if document.kind is kind and document.import_id > import_id
        }
        return {
            document.id
            for document in self.documents.values()
            if document.kind is kind
            and (
                document.person_id in changed_holders
                or self.persons[document.person_id].import_id > import_id
            )
        }

    def _chunked(
        self, documents: list[FakeDocument]
    ) -> Iterator[list[tuple[DocumentFacts, tuple[Recorded, ...]]]]:
        for start in range(0, len(documents), CHUNK):
            yield [
                (self.facts(document), self.history(document.id))
                for document in documents[start : start + CHUNK]
            ]

    def facts(self, document: FakeDocument) -> DocumentFacts:
        """The document as the rule sees it tonight."""
        holder = self.persons[document.person_id]
        expires_on = document.expires_on
        renewed = expires_on is not None and any(
            later.person_id == document.person_id
            and later.kind is document.kind
            and later.status is DocumentStatus.ACTIVE
            and later.expires_on is not None
            and later.expires_on > expires_on
            for later in self.documents.values()
        )
        return DocumentFacts(
            document_id=document.id,
            kind=document.kind,
            expires_on=expires_on,
            status=document.status,
            renewed_by_later=renewed,
            holder=Holder(
                status=holder.status,
                municipality_nis=holder.municipality_nis,
                language=holder.language,
                has_address=holder.has_address,
            ),
        )

    def history(self, document_id: int) -> tuple[Recorded, ...]:
        return tuple(
            Recorded(decision.stage, decision.reason)
            for decision in self.decisions.values()
            if decision.document_id == document_id
        )

    # -- DecisionStore: writing -----------------------------------------------------------

    def record(
        self,
        run_id: int,
        municipality_nis: str,
        kind: DocumentKind,
        decisions: Sequence[Decision],
        recorded_at: datetime,
    ) -> None:
        """All or nothing, like one INSERT: a key already taken refuses the whole batch."""
        rows = {}
        for decision in decisions:
            key = (decision.document_id, decision.stage, decision.is_final)
            if key in self.decisions or key in rows:
                self.violations.append(key)
                raise UniqueKeyViolationError(f"decision {key} is already recorded")
            rows[key] = FakeDecision(
                run_id=run_id,
                municipality_nis=municipality_nis,
                document_id=decision.document_id,
                document_kind=kind,
                stage=decision.stage,
                reason=decision.reason,
                final=decision.is_final,
                language=language_label(decision.languages) if decision.is_letter else None,
                recorded_at=recorded_at,
            )
        self.decisions.update(rows)

    def save_watermark(
        self, municipality_nis: str, kind: DocumentKind, watermark: ScanWatermark, run_id: int
    ) -> None:
        self.marks[(municipality_nis, kind)] = (watermark, run_id)


class FakeRunLedger:
    """Runs and attempts over the rows of `FakeDecisionStore.runs`, as adapters/db/
    run_ledger.py keeps them; volumes and checkpoints come from the letters and log fakes a
    test hands the unit of work."""

    def __init__(
        self,
        store: FakeDecisionStore,
        volume_paths: Callable[[int], list[str]] = lambda _run_id: [],
        checkpoints: Callable[[int], Sequence[RunCheckpoint]] = lambda _run_id: [],
    ) -> None:
        self.store = store
        self._volume_paths, self._checkpoints = volume_paths, checkpoints

    def _change(self, run_id: int, **values: Any) -> None:
        self.store.runs[run_id] = replace(self.store.runs[run_id], **values)

    def start_run(
        self,
        *,
        as_of: date,
        municipalities: Sequence[str],
        started_by: str,
        worker: str,
        config_sha256: str,
        code_version: str,
        started_at: datetime,
    ) -> int:
        run_id = max(self.store.runs, default=0) + 1
        self.store.runs[run_id] = FakeRun(
            as_of, tuple(municipalities), started_at, started_by=started_by
        )
        return run_id

    def mark_decided(self, run_id: int, *, tally: dict[str, Any], missed_nights: str) -> None:
        self._change(run_id, step="decided", tally=json.dumps(tally, sort_keys=True))

    def start_attempt(self, run_id: int, *, started_by: str, worker: str, at: datetime) -> int:
        attempt = self.store.runs[run_id].attempts + 1
        self._change(run_id, attempts=attempt, outcome="running", failure=None)
        return attempt

    def set_step(self, run_id: int, step: str) -> None:
        self._change(run_id, step=step)

    def finish(
        self,
        run_id: int,
        *,
        outcome: str,
        finished_at: datetime,
        letters: int = 0,
        skips: int = 0,
        failure: str | None = None,
        failure_reason: Reason | None = None,
    ) -> None:
        counts = {"letters": letters, "skips": skips} if outcome == "succeeded" else {}
        self._change(run_id, outcome=outcome, finished_at=finished_at, failure=failure, **counts)

    def unfinished(self, nis_codes: Collection[str]) -> list[StoredRun]:
        return [
            self.run(run_id)
            for run_id, run in sorted(self.store.runs.items())
            if (run.outcome == "running" or (run.outcome == "failed" and run.step != "started"))
            and set(nis_codes) & set(run.municipalities)
        ]

    def close_abandoned(self, run_id: int, *, at: datetime) -> None:
        run = self.store.runs[run_id]
        if run.outcome == "running":
            failure = f"the process stopped (killed or crashed) after step {run.step}"
            self.finish(run_id, outcome="failed", finished_at=at, failure=failure)

    def succeeded_for(self, as_of: date, nis_codes: Collection[str]) -> int | None:
        return max(
            (
                run_id
                for run_id, run in self.store.runs.items()
                if run.as_of >= as_of
                and run.outcome == "succeeded"
                and set(nis_codes) <= set(run.municipalities)
            ),
            default=None,
        )

    def run(self, run_id: int) -> StoredRun:
        run = self.store.runs[run_id]
        return StoredRun(
            run_id, run.as_of, run.municipalities, run.step, run.outcome, run.started_by
        )

    def counts(self, run_id: int) -> RunCounts:
        letters: dict[str, Counter[tuple[DocumentKind, str, str]]] = {}
        skipped: dict[str, Counter[str]] = {}
        for decision in self.store.decisions.values():
            if decision.run_id != run_id:
                continue
            nis = decision.municipality_nis
            if decision.reason is None:
                key = (decision.document_kind, decision.stage, decision.language or "")
                letters.setdefault(nis, Counter())[key] += 1
            else:
                skipped.setdefault(nis, Counter())[decision.reason.value] += 1
        return RunCounts(letters, skipped, json.loads(self.store.runs[run_id].tally))

    def attempt_count(self, run_id: int) -> int:
        return self.store.runs[run_id].attempts

    def volume_paths(self, run_id: int) -> list[str]:
        return self._volume_paths(run_id)

    def checkpoints(self, run_id: int) -> Sequence[RunCheckpoint]:
        return self._checkpoints(run_id)


class _Absent:
    """A repository a test did not hand its unit of work: any use fails the test, naming it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        raise AssertionError(f"this test's unit of work has no {self.name} ({attribute})")


class Transactional(Protocol):
    """A fake repository whose writes a rollback puts back."""

    def checkpoint(self) -> Callable[[], None]: ...


class FakeUnitOfWork:
    """The unit of work in memory (services/ports.py `UnitOfWork`). Each block counts as
    committed when it ends normally; when it raises, what it wrote to the decision store (and
    to any other repository given in ``transactional``) is put back and it counts as rolled
    back. A block inside another is refused, as adapters/db/unit_of_work.py refuses it."""

    def __init__(
        self,
        store: FakeDecisionStore | None = None,
        *,
        registry: RegistryStore | None = None,
        letters: LetterStore | None = None,
        runs: RunLedger | None = None,
        dispatch_log: DispatchLogStore | None = None,
        after_print: AfterPrintStore | None = None,
        campaigns: CampaignStore | None = None,
        recovery: RecoveryStore | None = None,
        transactional: Sequence[Transactional] = (),
    ) -> None:
        self.store = store or FakeDecisionStore()
        self.decisions: DecisionStore = self.store
        self.registry: RegistryStore = registry or cast(RegistryStore, _Absent("registry"))
        self.letters: LetterStore = letters or cast(LetterStore, _Absent("letters"))
        self.runs: RunLedger = runs or FakeRunLedger(self.store)
        self.dispatch_log: DispatchLogStore = dispatch_log or cast(
            DispatchLogStore, _Absent("dispatch log")
        )
        self.after_print: AfterPrintStore = after_print or cast(
            AfterPrintStore, _Absent("after-print store")
        )
        self.campaigns: CampaignStore = campaigns or cast(CampaignStore, _Absent("campaigns"))
        self.recovery: RecoveryStore = recovery or cast(RecoveryStore, _Absent("recovery"))
        self.transactional: tuple[Transactional, ...] = (self.store, *transactional)
        self.committed = 0
        self.rolled_back = 0
        self._restore: list[Callable[[], None]] | None = None

    def __enter__(self) -> FakeUnitOfWork:
        if self._restore is not None:
            raise AssertionError("a unit of work's block was opened inside another")
        self._restore = [repository.checkpoint() for repository in self.transactional]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        restore, self._restore = self._restore or [], None
        if exc_type is None:
            self.committed += 1
            return
        for put_back in restore:
            put_back()
        self.rolled_back += 1


def unit_of_work(uow: FakeUnitOfWork) -> UnitOfWork:
    """``uow`` typed against the port, so mypy checks that the fake still implements it."""
    return uow
