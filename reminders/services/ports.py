"""What the use cases need from the outside world, as Protocols: fakes need no base class."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from reminders.domain.due import Decision, DocumentFacts, Recorded, SkipReason
from reminders.domain.letters import (
    LetterFacts,
    LetterMunicipality,
    LetterSpec,
    LetterText,
    PrintedLetter,
    WrittenVolume,
)
from reminders.domain.model import DocumentKind, Language, RegistryKind
from reminders.domain.registry_rows import MergeCounts, Rejection
from reminders.domain.scan_window import ExpiryWindow, ScanWatermark


class RawRegistryRow(Protocol):
    """One record of a registry file, split into the contract's columns."""

    @property
    def line(self) -> int: ...
    @property
    def fields(self) -> tuple[str, ...]: ...
    @property
    def text(self) -> str: ...
    @property
    def problem(self) -> str | None: ...


class RegistrySource(Protocol):
    """An open registry extract whose header has been checked."""

    path: Path
    size: int
    bytes_read: int
    unknown_columns: tuple[str, ...]

    @property
    def sha256(self) -> str: ...
    def rows(self) -> Iterator[RawRegistryRow]: ...


class RegistryStore(Protocol):
    """Bulk loading of one import, inside one transaction (see adapters/registry_store.py)."""

    def start_import(self, kind: RegistryKind, file_name: str, started_at: datetime) -> int: ...
    def create_staging(self, kind: RegistryKind) -> None: ...
    def stage(self, kind: RegistryKind, rows: Sequence[tuple[Any, ...]]) -> None: ...
    def reject(self, import_id: int, rejections: Sequence[Rejection]) -> None: ...
    def reject_repeated_keys(self, kind: RegistryKind, import_id: int) -> int: ...
    def reject_unknown_holders(self, import_id: int, reason_for: Callable[[str], str]) -> int: ...
    def merge(self, kind: RegistryKind, import_id: int) -> MergeCounts: ...
    def drop_staging(self, kind: RegistryKind) -> None: ...
    def finish_import(
        self,
        import_id: int,
        *,
        file_sha256: str,
        finished_at: datetime,
        rows_read: int,
        counts: MergeCounts,
    ) -> int: ...
    def rejections(self, import_id: int) -> Iterator[tuple[int, str | None, str, str]]: ...


# Opens a transaction and yields the store on it; commits on success, rolls back on error.
StoreTransaction = Callable[[], AbstractContextManager[RegistryStore]]


class DecisionStore(Protocol):
    """The nightly run's reads and writes, inside one transaction (adapters/decision_store.py)."""

    def latest_import_id(self) -> int: ...
    def watermarks(
        self, kind: DocumentKind, nis_codes: Collection[str]
    ) -> dict[str, ScanWatermark]: ...
    def candidates(
        self,
        kind: DocumentKind,
        nis_codes: Collection[str],
        windows: Sequence[ExpiryWindow],
        *,
        changed_after_import: int | None,
    ) -> Iterator[list[tuple[DocumentFacts, tuple[Recorded, ...]]]]: ...
    def start_run(
        self,
        *,
        as_of: date,
        municipalities: Sequence[str],
        started_by: str,
        config_sha256: str,
        code_version: str,
        started_at: datetime,
    ) -> int: ...
    def record(
        self,
        run_id: int,
        municipality_nis: str,
        kind: DocumentKind,
        decisions: Sequence[Decision],
        recorded_at: datetime,
    ) -> None: ...
    def save_watermark(
        self, municipality_nis: str, kind: DocumentKind, watermark: ScanWatermark, run_id: int
    ) -> None: ...
    def finish_run(
        self,
        run_id: int,
        *,
        outcome: str,
        finished_at: datetime,
        letters: int = 0,
        skips: int = 0,
        failure: str | None = None,
    ) -> None: ...
    def letter_store(self) -> LetterStore: ...


class LetterStore(Protocol):
    """The printing step's reads and writes, in the run's transaction (adapters/letter_store)."""

    def letter_languages(self, run_id: int, municipality_nis: str) -> list[str]: ...
    def letters(
        self, run_id: int, municipality_nis: str, *, language: str | None = None
    ) -> Iterator[list[LetterFacts]]: ...
    def letter_for_document(self, kind: DocumentKind, number: str) -> LetterFacts | None: ...
    def replace_with_skip(self, decision_id: int, reason: SkipReason) -> None: ...
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
    ) -> int: ...
    def record_letters(self, volume_id: int, letters: Sequence[PrintedLetter]) -> None: ...


class LetterTexts(Protocol):
    """Letter texts from templates (adapters/text.LetterTemplates)."""

    def text(
        self, spec: LetterSpec, language: Language, municipality: LetterMunicipality
    ) -> LetterText: ...
    def name(self, kind: DocumentKind, stage: str, language: Language) -> str: ...
    def source_sha256(self, kind: DocumentKind, stage: str, language: Language) -> str: ...
    def country_name(self, code: str, language: Language) -> str: ...


class VolumeSeries(Protocol):
    """The volumes of one municipality (and language) of a run (adapters/print_volume)."""

    def add(
        self,
        spec: LetterSpec,
        texts: Sequence[LetterText],
        *,
        decision_id: int,
        document_number: str,
        postal_code: str,
        templates: str,
        template_sha256: str,
    ) -> WrittenVolume | None: ...
    def close(self) -> WrittenVolume | None: ...


class PrintShop(Protocol):
    """Where volumes are written: staged until the run is committed, then published."""

    def series(
        self, municipality: LetterMunicipality, run_id: int, as_of: date, language: str | None
    ) -> VolumeSeries: ...
    def publish(self) -> None: ...
    def discard(self) -> None: ...


# Opens a transaction and yields the decision store on it; commits on success.
DecisionTransaction = Callable[[], AbstractContextManager[DecisionStore]]
