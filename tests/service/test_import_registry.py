"""The registry import (services/import_registry.py) on an in-memory store: rows validated and
staged a batch at a time, bad rows kept with their reason and a masked national number only,
progress told per batch, and all or nothing: a file-level problem anywhere, found after
batches were staged, leaves the registry and the import log as they were. The same imports
into SQLite and PostgreSQL, with their SQL checks and merge: tests/integration/
test_import_registry.py.

`FakeRegistryStore` keeps what adapters/db/registry_store.py keeps, in dicts: the imports, the
staged and rejected rows, the registry; a later row with an earlier row's key is rejected,
as are documents of unknown holders; merging inserts, updates or leaves each row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reminders.domain.model import RegistryKind
from reminders.domain.national_number import masked_national_number
from reminders.domain.registry_rows import (
    DOCUMENT_COLUMNS,
    PERSON_COLUMNS,
    MergeCounts,
    Rejection,
)
from reminders.errors import InputFileError
from reminders.services import import_registry as service
from reminders.services.import_registry import ImportReport, import_registry, rejected_rows
from reminders.services.ports import UnitOfWork
from tests.fakes import FakeUnitOfWork, unit_of_work
from tests.integration.test_import_registry import DOCUMENTS, PERSONS

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
COUNTRIES = frozenset({"BE", "NL", "FR", "DE"})


@dataclass(frozen=True, slots=True)
class Row:
    """A record of a registry file (RawRegistryRow)."""

    line: int
    fields: tuple[str, ...]
    text: str
    problem: str | None = None


@dataclass
class Source:
    """A registry file's records (RegistrySource); with ``broken_at``, reading stops on that
    line with a file-level problem, as the file reader does (binary data, a cut-off record)."""

    path: Path
    rows_: list[Row]
    broken_at: int | None = None
    unknown_columns: tuple[str, ...] = ()
    bytes_read: int = 0
    size: int = 0

    def __post_init__(self) -> None:
        self.size = sum(len(row.text) + 1 for row in self.rows_)

    @property
    def sha256(self) -> str:
        return hashlib.sha256("\n".join(row.text for row in self.rows_).encode()).hexdigest()

    def rows(self) -> Iterator[Row]:
        for row in self.rows_:
            if row.line == self.broken_at:
                raise InputFileError(self.path, "binary data", line=row.line)
            self.bytes_read += len(row.text) + 1
            yield row


def source(name: str, text: str, *, broken_at: int | None = None) -> Source:
    """The CSV text's records after its header (lines numbered as in the file), each with
    the contract's columns, as the file reader gives them (the optional ones left out of the
    file empty)."""
    lines = text.splitlines()[1:]
    width = len(PERSON_COLUMNS if name.startswith("persons") else DOCUMENT_COLUMNS)
    rows = [
        Row(number, tuple(line.split(";") + [""] * (width - line.count(";") - 1)), line)
        for number, line in enumerate(lines, 2)
    ]
    return Source(Path(name), rows, broken_at)


@dataclass
class _State:
    imports: dict[int, dict[str, Any]] = field(default_factory=dict)
    staged: dict[RegistryKind, list[tuple[Any, ...]]] = field(default_factory=dict)
    rejected: dict[int, list[Rejection]] = field(default_factory=dict)
    persons: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # by national number
    documents: dict[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)


class FakeRegistryStore:
    """The import's store in memory; a unit of work's rollback puts back what its block
    wrote (``checkpoint``)."""

    def __init__(self) -> None:
        self.state = _State()
        self.batches: list[int] = []  # the size of each batch staged, in order

    def checkpoint(self) -> Callable[[], None]:
        saved = deepcopy(self.state)

        def restore() -> None:
            self.state = saved

        return restore

    def start_import(self, kind: RegistryKind, file_name: str, started_at: datetime) -> int:
        import_id = max(self.state.imports, default=0) + 1
        self.state.imports[import_id] = {"kind": kind, "file": file_name, "finished": False}
        return import_id

    def create_staging(self, kind: RegistryKind) -> None:
        assert kind not in self.state.staged, "staging left over from another import"
        self.state.staged[kind] = []

    def stage(self, kind: RegistryKind, rows: Sequence[tuple[Any, ...]]) -> None:
        self.batches.append(len(rows))
        self.state.staged[kind].extend(rows)

    def reject(self, import_id: int, rejections: Sequence[Rejection]) -> None:
        self.state.rejected.setdefault(import_id, []).extend(rejections)

    @staticmethod
    def _key(kind: RegistryKind, row: tuple[Any, ...]) -> tuple[str, ...]:
        record = row[2:]  # (line, raw, *record)
        return (record[0],) if kind is RegistryKind.PERSONS else (record[1], record[2])

    def _move(self, kind: RegistryKind, import_id: int, moved: dict[int, tuple[str, str]]) -> int:
        """Rows of these lines from the staging to the rejected, with (column, reason)."""
        kept = []
        for row in self.state.staged[kind]:
            if row[0] in moved:
                column, reason = moved[row[0]]
                subject = masked_national_number(row[2])
                self.reject(import_id, [Rejection(row[0], column, reason, subject, row[1])])
            else:
                kept.append(row)
        self.state.staged[kind] = kept
        return len(moved)

    def reject_repeated_keys(self, kind: RegistryKind, import_id: int) -> int:
        first: dict[tuple[str, ...], int] = {}
        moved = {}
        column = "national_number" if kind is RegistryKind.PERSONS else "number"
        what = "national number" if kind is RegistryKind.PERSONS else "document (kind and number)"
        for row in sorted(self.state.staged[kind]):
            line = first.setdefault(self._key(kind, row), row[0])
            if line != row[0]:
                moved[row[0]] = (column, f"the same {what} is on line {line}")
        return self._move(kind, import_id, moved)

    def reject_unknown_holders(self, import_id: int, reason_for: Callable[[str], str]) -> int:
        moved = {
            row[0]: ("national_number", reason_for(row[2]))
            for row in self.state.staged[RegistryKind.DOCUMENTS]
            if row[2] not in self.state.persons
        }
        return self._move(RegistryKind.DOCUMENTS, import_id, moved)

    def merge(self, kind: RegistryKind, import_id: int) -> MergeCounts:
        table: dict[Any, tuple[Any, ...]] = (
            self.state.persons if kind is RegistryKind.PERSONS else self.state.documents
        )
        inserted = updated = unchanged = 0
        for row in self.state.staged[kind]:
            key = row[2] if kind is RegistryKind.PERSONS else self._key(kind, row)
            record = tuple(row[2:])
            if key not in table:
                inserted += 1
            elif table[key] != record:
                updated += 1
            else:
                unchanged += 1
            table[key] = record
        return MergeCounts(inserted, updated, unchanged)

    def drop_staging(self, kind: RegistryKind) -> None:
        del self.state.staged[kind]

    def finish_import(
        self,
        import_id: int,
        *,
        file_sha256: str,
        finished_at: datetime,
        rows_read: int,
        counts: MergeCounts,
    ) -> int:
        self.state.imports[import_id].update(finished=True, sha256=file_sha256, rows=rows_read)
        return len(self.state.rejected.get(import_id, []))

    def rejections(self, import_id: int) -> Iterator[tuple[int, str | None, str, str]]:
        for rejection in sorted(self.state.rejected.get(import_id, []), key=lambda r: r.line):
            yield rejection.line, rejection.column, rejection.reason, rejection.subject


def port(store: FakeRegistryStore) -> UnitOfWork:
    """``store`` as the registry of a unit of work; typed against the port, so mypy checks
    that the fake still implements RegistryStore."""
    return unit_of_work(FakeUnitOfWork(registry=store, transactional=[store]))


def imported(
    store: FakeRegistryStore, kind: RegistryKind, file: Source, progress: list[tuple[int, int]]
) -> ImportReport:
    return import_registry(
        kind, file, port(store), countries=COUNTRIES, now=lambda: NOW,
        progress=lambda read, size: progress.append((read, size)),
    )  # fmt: skip


def test_rows_are_staged_a_batch_at_a_time_and_bad_rows_kept_with_a_masked_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches of BATCH_ROWS valid rows; a row with a bad check digit and a person's second
    row rejected with the column and reason, the number masked; progress after each batch
    and at the end of the file; the report counts what the store did."""
    monkeypatch.setattr(service, "BATCH_ROWS", 2)
    store, progress = FakeRegistryStore(), list[tuple[int, int]]()
    persons = source("persons.csv", PERSONS)
    report = imported(store, RegistryKind.PERSONS, persons, progress)
    # 4 valid rows of 5 (the repeated one is found once all are staged); the rest at the end
    assert store.batches == [2, 2, 0]
    after_three = sum(len(row.text) + 1 for row in persons.rows_[:3])
    assert progress == [(after_three, persons.size), *[(persons.size, persons.size)] * 2]
    assert (report.rows_read, report.inserted, report.updated, report.unchanged) == (5, 3, 0, 0)
    assert report.rejected == 2
    listed = list(rejected_rows(report.import_id, port(store)))
    assert [(line, column) for line, column, _, _ in listed] == [
        (3, "national_number"), (6, "national_number"),
    ]  # fmt: skip
    assert "check digits" in listed[0][2]
    assert listed[1][2] == "the same national number is on line 2"
    for _, _, reason, subject in listed:
        assert "85073003328" not in reason + subject
        assert "85.07.30-033" not in reason + subject
        assert subject.count("*") >= 5, subject


def test_documents_of_unknown_holders_are_rejected_with_why() -> None:
    """A mistyped holder's number and a valid one nobody imported: each rejected, saying
    which; the same document on a later line rejected; the rest imported."""
    store = FakeRegistryStore()
    imported(store, RegistryKind.PERSONS, source("persons.csv", PERSONS), [])
    report = imported(store, RegistryKind.DOCUMENTS, source("documents.csv", DOCUMENTS), [])
    reasons = {line: reason for line, _, reason, _ in rejected_rows(report.import_id, port(store))}
    assert reasons[4].startswith("holder's national number")
    assert reasons[5].startswith("unknown holder")
    assert reasons[6] == "the same document (kind and number) is on line 2"
    assert (report.inserted, report.rejected) == (3, 3)


def test_the_same_file_again_changes_nothing_and_a_changed_row_is_an_update() -> None:
    store = FakeRegistryStore()
    imported(store, RegistryKind.PERSONS, source("persons.csv", PERSONS), [])
    again = imported(store, RegistryKind.PERSONS, source("persons.csv", PERSONS), [])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    moved = PERSONS.replace("Kerkstraat;12A;bus 3", "Veldstraat;7;")
    changed = imported(store, RegistryKind.PERSONS, source("persons.csv", moved), [])
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 2)


@pytest.mark.parametrize("broken_at", [2, 4, 6])
def test_a_file_level_problem_anywhere_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, broken_at: int
) -> None:
    """The reader fails on line ``broken_at``, after batches were staged and rows rejected:
    the error reaches the caller and the store is as before the import (no import recorded,
    no staging left, no rejected row, the registry as it was)."""
    monkeypatch.setattr(service, "BATCH_ROWS", 1)
    store = FakeRegistryStore()
    imported(store, RegistryKind.PERSONS, source("persons.csv", PERSONS), [])
    before = deepcopy(store.state)
    moved = PERSONS.replace("Kerkstraat;12A;bus 3", "Veldstraat;7;")
    with pytest.raises(InputFileError, match=f"^persons.csv:{broken_at}: binary data$"):
        imported(store, RegistryKind.PERSONS, source("persons.csv", moved, broken_at=broken_at), [])
    assert store.state == before
