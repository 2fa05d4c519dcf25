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

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reminders.domain.address import is_usable_address
from reminders.domain.checkpoint import (
    Checkpoint,
    KeyRing,
    SignedCheckpoint,
    VerifierKey,
    signed_checkpoint,
)
from reminders.domain.dispatch_log import LogEntry, LogEvent, LogQuery, LogSubject, NewEntry
from reminders.domain.due import (
    Decision,
    DocumentFacts,
    History,
    Holder,
    Recorded,
    SkipReason,
)
from reminders.domain.letter_language import language_label
from reminders.domain.letters import (
    LetterFacts,
    LetterMunicipality,
    LetterSpec,
    LetterText,
    PostalAddress,
    PrintedLetter,
    WrittenVolume,
    address_sha256,
)
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from reminders.domain.release import VolumeState
from reminders.domain.scan_window import ExpiryWindow, ScanWatermark
from reminders.domain.tiles import CHECKPOINT_PATH
from reminders.domain.volume_job import RenderedVolume, VolumeJob
from reminders.errors import Reason
from reminders.services.ports import (
    AfterPrintStore,
    CampaignStore,
    DecisionStore,
    DispatchLogStore,
    LetterStore,
    PendingVolume,
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
    ) -> Iterator[list[tuple[DocumentFacts, History]]]:
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
    ) -> Iterator[list[tuple[DocumentFacts, History]]]:
        for start in range(0, len(documents), CHUNK):
            yield [
                (self.facts(document), History.of(self.history(document.id)))
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


# -- printing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakeVolume:
    """A row of `print_volume`, as the printing step records it."""

    volume_id: int
    run_id: int
    municipality_nis: str
    language: str | None
    sequence: int
    path: str
    letters: int
    state: VolumeState


class FakeLetterStore:
    """The printing step's store over a list of letter decisions (all of one municipality's
    run); records what it is told. ``volumes`` are the recorded volumes' paths, ``printed``
    their letters, ``skips`` the letters the re-check stopped, each in the order recorded."""

    def __init__(self, letters: Sequence[LetterFacts]) -> None:
        self.facts = list(letters)
        self.skips: list[tuple[int, SkipReason]] = []
        self.volumes: list[str] = []
        self.records: list[FakeVolume] = []
        self.printed: list[PrintedLetter] = []
        self.in_volume: dict[int, list[PrintedLetter]] = {}
        self.planned: dict[str, int] = {}
        self.refreshed = 0

    def checkpoint(self) -> Callable[[], None]:
        skips, volumes = list(self.skips), list(self.volumes)
        records, printed = list(self.records), list(self.printed)
        in_volume = dict(self.in_volume)

        def restore() -> None:
            self.skips, self.volumes, self.records, self.printed = skips, volumes, records, printed
            self.in_volume = in_volume

        return restore

    def _label(self, facts: LetterFacts) -> str:
        return language_label(facts.languages)

    def refresh_statistics(self) -> None:
        self.refreshed += 1  # no planner here: counted, for the service tests

    def letter_languages(self, run_id: int, municipality_nis: str) -> list[str]:
        return sorted({self._label(facts) for facts in self.facts})

    def letter_order(
        self, run_id: int, municipality_nis: str, *, language: str | None = None
    ) -> list[int]:
        done = {letter.decision_id for letter in self.printed} | {i for i, _ in self.skips}
        return [
            facts.decision_id
            for facts in self.facts
            if (language is None or self._label(facts) == language)
            and facts.decision_id not in done
        ]

    def letter_facts(self, decision_ids: Sequence[int]) -> list[LetterFacts]:
        by_id = {facts.decision_id: facts for facts in self.facts}
        return [by_id[decision_id] for decision_id in decision_ids]

    def printed_count(self, run_id: int, municipality_nis: str) -> int:
        return sum(r.letters for r in self.records if r.municipality_nis == municipality_nis)

    def volume_count(self, run_id: int, municipality_nis: str, language: str | None) -> int:
        return sum(
            1
            for r in self.records
            if r.municipality_nis == municipality_nis and r.language == language
        )

    def volume_paths(self, run_id: int, municipality_nis: str | None = None) -> list[str]:
        return [
            r.path
            for r in self.records
            if r.run_id == run_id and municipality_nis in (None, r.municipality_nis)
        ]

    def plan_volumes(self, run_id: int, planned: Mapping[str, int]) -> None:
        self.planned.update(planned)

    def letter_for_document(self, kind: DocumentKind, number: str) -> LetterFacts | None:
        return None

    def replace_with_skip(self, decision_id: int, reason: SkipReason) -> None:
        self.skips.append((decision_id, reason))

    def record_volume(
        self,
        *,
        run_id: int,
        municipality_nis: str,
        language: str | None,
        sequence: int,
        path: str,
        sha256: str,
        letters: int,
        pages: int,
        written_at: datetime,
        state: VolumeState = VolumeState.AUTO,
    ) -> int:
        volume_id = len(self.records) + 1
        self.records.append(
            FakeVolume(
                volume_id, run_id, municipality_nis, language, sequence, path, letters, state
            )
        )
        self.volumes.append(path)
        return volume_id

    def record_letters(self, volume_id: int, letters: Sequence[PrintedLetter]) -> None:
        self.printed.extend(letters)
        self.in_volume[volume_id] = [*self.in_volume.get(volume_id, []), *letters]


AT_HOME = PostalAddress("Kerkstraat", "1", None, "9000", "Gent", "BE")


def letter_decision(
    decision_id: int,
    number: str,
    *,
    status: PersonStatus = PersonStatus.RESIDENT,
    municipality_nis: str = "44021",
    renewed: bool = False,
    address: PostalAddress | None = AT_HOME,
    languages: tuple[Language, ...] = (Language.NL,),
) -> LetterFacts:
    """A letter decision of tonight's run (for Gent by default), with its holder as
    registered now (synthetic)."""
    holder = Holder(status, municipality_nis, languages[0], has_address=address is not None)
    document = DocumentFacts(
        decision_id, DocumentKind.EID, date(2027, 4, 15), DocumentStatus.ACTIVE, renewed, holder
    )
    return LetterFacts(
        decision_id=decision_id,
        document=document,
        document_number=number,
        stage="first",
        languages=languages,
        given_names="Jan",
        family_name="Peeters",
        born_on=date(1980, 1, 1),
        address=address,
    )


class FakeTexts:
    """Template names and source hashes without templates: printing only records them (the
    texts themselves are the render pool's business, faked below)."""

    def text(
        self, spec: LetterSpec, language: Language, municipality: LetterMunicipality
    ) -> LetterText:
        raise AssertionError("the fake render pool draws no texts")

    def name(self, kind: DocumentKind, stage: str, language: Language) -> str:
        return f"{kind.value}/{stage}.{language.value}.txt.j2"

    def source_sha256(
        self, kind: DocumentKind, stage: str, language: Language, nis_code: str
    ) -> str:
        return hashlib.sha256(f"{nis_code}:{self.name(kind, stage, language)}".encode()).hexdigest()

    def country_name(self, code: str, language: Language) -> str:
        return code


def rendered(job: VolumeJob) -> RenderedVolume:
    """A volume as a renderer gives it back, without drawing it: a cover sheet, then each
    letter on a page of its own."""
    pdf = f"%PDF {job.file_name}: {[letter.spec.reference for letter in job.letters]}".encode()
    letters = tuple(
        PrintedLetter(
            decision_id=letter.decision_id,
            reference=letter.spec.reference,
            document_kind=letter.spec.document_kind.value,
            document_number=letter.document_number,
            stage=letter.spec.stage,
            language=language_label(letter.spec.languages),
            postal_code=letter.postal_code,
            first_page=index + 2,
            page_count=1,
            templates=letter.templates,
            template_sha256=letter.template_sha256,
            address_sha256=address_sha256(letter.spec.address_lines),
        )
        for index, letter in enumerate(job.letters)
    )
    return RenderedVolume(
        job.file_name, hashlib.sha256(pdf).hexdigest(), len(letters) + 1, letters, pdf, b"", b""
    )


@dataclass(frozen=True, slots=True)
class _Done:
    volume: RenderedVolume

    def result(self, timeout: float | None = None) -> RenderedVolume:
        return self.volume


class FakeRendering:
    """A render pool in this process (services/ports.py `Rendering` and `RenderPool`): each
    volume is rendered (`rendered`) when submitted; ``jobs`` keeps what was submitted."""

    volumes_ahead = 2

    def __init__(self) -> None:
        self.jobs: list[VolumeJob] = []
        self.opened: list[tuple[int, int]] = []  # the volumes and letters of each opening

    @contextmanager
    def open(self, volumes: int, letters: int) -> Iterator[FakeRendering]:
        self.opened.append((volumes, letters))
        yield self

    def submit(self, job: VolumeJob) -> PendingVolume:
        self.jobs.append(job)
        return _Done(rendered(job))


class FakePrintShop:
    """The output folder in memory (services/ports.py `PrintShop`): staged volumes by path,
    then published, delivered, and the checkpoint files written beside them."""

    def __init__(self) -> None:
        self.staged: dict[str, WrittenVolume] = {}
        self.forgotten: list[str] = []
        self.published: list[str] = []
        self.delivered_paths: list[str] = []
        self.checkpoint_files: dict[Path, str] = {}

    def folder(self, municipality_nis: str, run_id: int, as_of: date) -> Path:
        return Path("/out") / municipality_nis / f"{as_of:%Y-%m-%d}-run-{run_id:06d}"

    def stage(self, job: VolumeJob, rendered: RenderedVolume) -> WrittenVolume:
        path = self.folder(job.municipality.nis_code, job.run_id, job.as_of) / job.file_name
        written = WrittenVolume(
            path,
            job.municipality.nis_code,
            job.sequence,
            job.language,
            rendered.sha256,
            rendered.pages,
            rendered.letters,
        )
        self.staged[str(path)] = written
        return written

    def forget_unrecorded(
        self, municipality_nis: str, run_id: int, as_of: date, recorded: Collection[str]
    ) -> int:
        folder = self.folder(municipality_nis, run_id, as_of)
        unrecorded = [
            path
            for path in self.staged
            if Path(path).parent == folder and path not in recorded and path not in self.published
        ]
        for path in unrecorded:
            del self.staged[path]
            self.forgotten.append(path)
        return len(unrecorded)

    def publish_volume(self, path: str) -> None:
        assert path in self.staged, f"{path} was never staged"
        if path not in self.published:
            self.published.append(path)

    def deliver(self, path: str) -> None:
        assert path in self.published, f"{path} delivered before it was published"
        if path not in self.delivered_paths:
            self.delivered_paths.append(path)

    def delivered(self, path: str) -> Path:
        return Path("/pickup") / Path(path).name

    def write_checkpoint(
        self, municipality_nis: str, run_id: int, as_of: date, tree_size: int, note: str
    ) -> Path:
        path = self.folder(municipality_nis, run_id, as_of) / f"checkpoint-{tree_size}.txt"
        self.checkpoint_files[path] = note
        return path


# -- the dispatch log ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakeHead:
    """Where a log ends and its newest checkpoint (services/ports.py `StoredHead`)."""

    size: int
    last_hash: str | None
    checkpoint_size: int | None
    frontier: str | None
    checkpoint_note: str | None


@dataclass(frozen=True, slots=True)
class FakeCheckpoint:
    """A row of `audit_checkpoint` (services/ports.py `StoredCheckpoint`)."""

    municipality_nis: str
    tree_size: int
    run_id: int | None
    note: str
    frontier: str


@dataclass(frozen=True, slots=True)
class FakeRunCheckpoint:
    """A checkpoint a run signed, and the first entry the run added (`RunCheckpoint`)."""

    municipality_nis: str
    first_seq: int
    note: str


RunEntries = Callable[[int, str, str], Iterator[list[NewEntry]]]


class FakeDispatchLog:
    """The dispatch log's rows in memory (services/ports.py `DispatchLogStore`). What a
    run's records become when it is sealed comes from ``run_entries`` (the SQL store reads
    them from its tables; here the test says)."""

    def __init__(self, run_entries: RunEntries | None = None) -> None:
        self.logs: dict[str, list[tuple[LogEntry, LogSubject | None]]] = {}
        self.saved: dict[str, list[FakeCheckpoint]] = {}
        self.verifications: list[dict[str, Any]] = []
        self.sealed: dict[str, int] = {}  # per municipality, the newest run sealed for it
        self._run_entries = run_entries

    def checkpoint(self) -> Callable[[], None]:
        logs = {nis: list(entries) for nis, entries in self.logs.items()}
        saved = {nis: list(rows) for nis, rows in self.saved.items()}
        verifications = list(self.verifications)

        def restore() -> None:
            self.logs, self.saved, self.verifications = logs, saved, verifications

        return restore

    def head(self, municipality_nis: str) -> FakeHead:
        entries = self.logs.get(municipality_nis, [])
        saved = self.saved.get(municipality_nis, [])
        newest = max(saved, key=lambda row: row.tree_size) if saved else None
        return FakeHead(
            len(entries),
            entries[-1][0].entry_hash if entries else None,
            newest.tree_size if newest else None,
            newest.frontier if newest else None,
            newest.note if newest else None,
        )

    def append(self, entries: Sequence[tuple[LogEntry, LogSubject | None]]) -> None:
        for entry, subject in entries:
            log = self.logs.setdefault(entry.municipality_nis, [])
            assert entry.seq == len(log), f"entry {entry.seq} appended at {len(log)}"
            log.append((entry, subject))

    def save_checkpoint(
        self, municipality_nis: str, tree_size: int, run_id: int | None, note: str, frontier: str
    ) -> None:
        rows = self.saved.setdefault(municipality_nis, [])
        assert all(row.tree_size != tree_size for row in rows), "a second checkpoint of a size"
        rows.append(FakeCheckpoint(municipality_nis, tree_size, run_id, note, frontier))

    def municipalities(self) -> list[str]:
        return sorted(set(self.logs) | set(self.saved))

    def entries(
        self, municipality_nis: str, *, run_id: int | None = None
    ) -> Iterator[tuple[LogEntry, LogSubject | None]]:
        for entry, subject in list(self.logs.get(municipality_nis, [])):
            if run_id is None or entry.run_id == run_id:
                yield entry, subject

    def search(
        self, municipality_nis: str, query: LogQuery, *, limit: int, before_seq: int | None
    ) -> list[tuple[LogEntry, LogSubject | None]]:
        raise AssertionError("search is tested on real databases (tests/e2e/test_console.py)")

    def checkpoints(self, municipality_nis: str) -> list[FakeCheckpoint]:
        return sorted(self.saved.get(municipality_nis, []), key=lambda row: row.tree_size)

    def letter_entry(self, reference: str) -> LogEntry | None:
        return next(
            (
                entry
                for log in self.logs.values()
                for entry, _ in log
                if entry.reference == reference and entry.event == LogEvent.LETTER.value
            ),
            None,
        )

    def letter_history(self, reference: str) -> list[LogEntry]:
        return [
            entry for log in self.logs.values() for entry, _ in log if entry.reference == reference
        ]

    def leaf_entries(self, municipality_nis: str, size: int) -> Iterator[LogEntry]:
        for entry, _ in self.logs.get(municipality_nis, [])[:size]:
            yield entry

    def entry_range(self, municipality_nis: str, first: int, end: int) -> list[LogEntry]:
        return [entry for entry, _ in self.logs.get(municipality_nis, [])[first:end]]

    def run_municipalities(self, run_id: int) -> list[str]:
        return sorted(
            nis for nis, log in self.logs.items() if any(e.run_id == run_id for e, _ in log)
        )

    def sealed_runs(self) -> dict[str, int]:
        return dict(self.sealed)

    def run_entries(
        self, run_id: int, municipality_nis: str, recorded_at: str
    ) -> Iterator[list[NewEntry]]:
        assert self._run_entries is not None, "this test's log was told no run's entries"
        return self._run_entries(run_id, municipality_nis, recorded_at)

    def record_verification(
        self,
        municipality_nis: str,
        *,
        verified_at: datetime,
        verified_by: str,
        tree_size: int,
        root_hash: str | None,
        intact: bool,
        problem: str | None,
    ) -> None:
        self.verifications.append(
            {"municipality_nis": municipality_nis, "tree_size": tree_size, "intact": intact,
             "problem": problem, "verified_by": verified_by}
        )  # fmt: skip

    def run_checkpoints(self, run_id: int) -> list[FakeRunCheckpoint]:
        """What `RunLedger.checkpoints` answers (FakeRunLedger's ``checkpoints``)."""
        found = []
        for nis in sorted(self.saved):
            firsts = [e.seq for e, _ in self.logs.get(nis, []) if e.run_id == run_id]
            for row in self.saved[nis]:
                if row.run_id == run_id and firsts:
                    found.append(FakeRunCheckpoint(nis, min(firsts), row.note))
        return found


class FakeSigner:
    """Signs checkpoints with a key made for the test (services/ports.py `CheckpointSigner`);
    ``keys`` is the ring that verifies them."""

    def __init__(self, key_name: str = "reminders.test/dispatch-log") -> None:
        self.private_key = Ed25519PrivateKey.generate()
        self.key_name = key_name
        self.keys = KeyRing((VerifierKey(key_name, self.private_key.public_key()),))
        self.signed = 0

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        self.signed += 1
        return signed_checkpoint(checkpoint, self.private_key, self.key_name)


class FakeLogFolder:
    """One published log in memory (services/ports.py `PublishedLog`): files written wait
    for `commit`, as the output folder's do; ``direct`` writes in place (the seal's scratch
    area)."""

    def __init__(self, location: str, *, direct: bool = False) -> None:
        self._location, self.direct = location, direct
        self.files: dict[str, bytes] = {}
        self.pending: dict[str, bytes] = {}
        self.commits = 0
        self._staged: FakeLogFolder | None = None

    @property
    def location(self) -> str:
        return self._location

    def read(self, path: str) -> bytes | None:
        return self.pending.get(path, self.files.get(path))

    def write(self, path: str, data: bytes) -> None:
        if self.files.get(path) == data:
            return
        (self.files if self.direct else self.pending)[path] = data

    def commit(self) -> None:
        self.files.update(self.pending)
        self.pending = {}
        self.commits += 1

    def discard(self) -> None:
        self.pending = {}

    def remove_partials(self, path: str) -> None:
        for partial in [p for p in self.files if p.startswith(f"{path}.p/")]:
            del self.files[partial]

    def sync(self) -> None:
        pass

    def staged(self) -> FakeLogFolder:
        if self._staged is None:
            self._staged = FakeLogFolder(f"{self._location}/.staged", direct=True)
        return self._staged

    def adopt_staged(self) -> None:
        staged = self.staged()
        self.files.update({p: data for p, data in staged.files.items() if p.startswith("tile/")})
        staged.clear()

    def clear(self) -> None:
        self.files, self.pending = {}, {}


class FakePublishedLogs:
    """Every municipality's published log in memory (services/ports.py `PublishedLogs`); the
    checkpoint files beside the volumes are the print shop's (FakePrintShop)."""

    def __init__(self, shop: FakePrintShop | None = None) -> None:
        self.folders: dict[str, FakeLogFolder] = {}
        self.shop = shop

    def log(self, municipality_nis: str) -> FakeLogFolder:
        if municipality_nis not in self.folders:
            self.folders[municipality_nis] = FakeLogFolder(f"/out/{municipality_nis}/log")
        return self.folders[municipality_nis]

    def run_checkpoints(self, municipality_nis: str) -> list[tuple[str, str]]:
        if self.shop is None:
            return []
        return [
            (str(path), note)
            for path, note in self.shop.checkpoint_files.items()
            if path.parts[2] == municipality_nis
        ]

    def highest_run_id(self) -> int:
        return 0

    def published(self) -> list[str]:
        return sorted(nis for nis, folder in self.folders.items() if folder.read(CHECKPOINT_PATH))
