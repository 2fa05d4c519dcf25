"""Import a registry extract: stream, validate, stage, check, merge; one transaction.

A file-level problem found anywhere in the file (binary data on line 800,000, say) rolls the
whole import back, so a bad file changes nothing. Bad rows are data: they are kept with
their reason and the rest of the file is imported (interfaces.md §1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reminders.domain.model import RegistryKind
from reminders.domain.national_number import (
    InvalidNationalNumberError,
    masked_national_number,
    validated_national_number,
)
from reminders.domain.registry_rows import (
    DocumentRecord,
    PersonRecord,
    Rejection,
    RowProblem,
    parse_document,
    parse_person,
)
from reminders.services.ports import RegistrySource, UnitOfWork

log = logging.getLogger(__name__)

BATCH_ROWS = 10_000  # rows per round trip: large enough to amortise it, small for memory
Progress = Callable[[int, int], None]  # (bytes read, file size)
Rejected = tuple[int, str | None, str, str]  # (line, column, reason, masked national number)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, for the command line and for tests."""

    import_id: int
    kind: RegistryKind
    file_name: str
    file_sha256: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    unknown_columns: tuple[str, ...]


def import_registry(
    kind: RegistryKind,
    source: RegistrySource,
    uow: UnitOfWork,
    *,
    countries: Collection[str],
    now: Callable[[], datetime],
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``source`` as ``kind``; the registry changes only if the whole file was read."""
    parse: Callable[[tuple[str, ...]], Any] = (
        (lambda fields: parse_person(fields, countries))
        if kind is RegistryKind.PERSONS
        else parse_document
    )
    started_at = time.perf_counter()
    with uow:
        store = uow.registry
        import_id = store.start_import(kind, source.path.name, now())
        store.create_staging(kind)
        rows_read = 0
        staged: list[tuple[Any, ...]] = []
        rejected: list[Rejection] = []
        for raw in source.rows():
            rows_read += 1
            result = parse(raw.fields) if raw.problem is None else RowProblem(None, raw.problem)
            if isinstance(result, PersonRecord | DocumentRecord):
                staged.append((raw.line, raw.text, *result))
            else:
                subject = masked_national_number(raw.fields[0])
                rejected.append(
                    Rejection(raw.line, result.column, result.reason, subject, raw.text)
                )
            if len(staged) >= BATCH_ROWS:
                store.stage(kind, staged)
                staged.clear()
                if progress is not None:
                    progress(source.bytes_read, source.size)
            if len(rejected) >= BATCH_ROWS:
                store.reject(import_id, rejected)
                rejected.clear()
        store.stage(kind, staged)
        store.reject(import_id, rejected)
        if progress is not None:
            progress(source.bytes_read, source.size)
        read_at = time.perf_counter()

        store.reject_repeated_keys(kind, import_id)
        if kind is RegistryKind.DOCUMENTS:
            store.reject_unknown_holders(import_id, unknown_holder_reason)
        checked_at = time.perf_counter()
        counts = store.merge(kind, import_id)
        store.drop_staging(kind)
        merged_at = time.perf_counter()
        rejected_total = store.finish_import(
            import_id,
            file_sha256=source.sha256,
            finished_at=now(),
            rows_read=rows_read,
            counts=counts,
        )
    log.info(
        "%s: read, validated and staged in %.1f s, checked in %.1f s, merged in %.1f s",
        source.path.name, read_at - started_at, checked_at - read_at, merged_at - checked_at,
    )  # fmt: skip
    log.info(
        "imported %s %s: %d rows, %d new, %d updated, %d unchanged, %d rejected",
        kind.value, source.path.name, rows_read, counts.inserted, counts.updated,
        counts.unchanged, rejected_total,
    )  # fmt: skip
    return ImportReport(
        import_id=import_id,
        kind=kind,
        file_name=source.path.name,
        file_sha256=source.sha256,
        rows_read=rows_read,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=rejected_total,
        unknown_columns=source.unknown_columns,
    )


def rejected_rows(import_id: int, uow: UnitOfWork) -> Iterator[Rejected]:
    """(line, column, reason, masked national number) of an import's rejected rows, in line
    order, streamed from the database: a file of a million bad rows does not fill memory."""
    with uow:
        yield from uow.registry.rejections(import_id)


def unknown_holder_reason(national_number: str) -> str:
    """Why a document's holder was not found: a mistyped number, or a person not imported."""
    try:
        validated_national_number(national_number)
    except InvalidNationalNumberError as err:
        return f"holder's national number: {err.reason}"
    return "unknown holder: no person with this national number (import persons first)"
