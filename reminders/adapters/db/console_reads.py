"""What the console reads beyond the services: a municipality's past runs with their volumes,
one volume to download, and the documents a dry run's decisions are about."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, select

from reminders.adapters.db.engine import stored_utc
from reminders.adapters.db.orm import DocumentRow, NightlyRunRow, PrintVolumeRow
from reminders.domain.model import DocumentKind, DueDocument

_run = cast(Table, NightlyRunRow.__table__)
_volume = cast(Table, PrintVolumeRow.__table__)
_document = cast(Table, DocumentRow.__table__)
IDS_PER_QUERY = 500  # well under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class VolumeRecord:
    volume_id: int
    run_id: int
    municipality_nis: str
    language: str | None
    sequence: int
    path: str
    sha256: str
    letters: int
    pages: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: int
    as_of: date
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # running, succeeded, failed
    step: str
    letters: int  # of the whole run (every municipality it covered)
    failure: str | None
    volumes: tuple[VolumeRecord, ...]  # this municipality's


def runs_of(connection: Connection, municipality_nis: str, *, limit: int) -> list[RunRecord]:
    """The municipality's newest runs, with its volumes of each."""
    found = []
    # Runs are one a night: matching the comma-separated list in Python is simpler than in
    # SQL on two engines (as status_store does).
    for row in connection.execute(select(_run).order_by(_run.c.id.desc())):
        if municipality_nis in row.municipalities.split(","):
            found.append(row)
            if len(found) == limit:
                break
    volumes: dict[int, list[VolumeRecord]] = {}
    if found:
        query = (
            select(_volume)
            .where(
                _volume.c.run_id.in_([row.id for row in found]),
                _volume.c.municipality_nis == municipality_nis,
            )
            .order_by(_volume.c.run_id, _volume.c.language, _volume.c.sequence)
        )
        for volume in connection.execute(query):
            volumes.setdefault(volume.run_id, []).append(_volume_record(volume))
    return [
        RunRecord(
            row.id,
            row.as_of,
            row.started_by,
            stored_utc(row.started_at),
            stored_utc(row.finished_at) if row.finished_at else None,
            row.outcome,
            row.step,
            row.letters,
            row.failure,
            tuple(volumes.get(row.id, ())),
        )
        for row in found
    ]


def volume(connection: Connection, volume_id: int) -> VolumeRecord | None:
    row = connection.execute(select(_volume).where(_volume.c.id == volume_id)).first()
    return None if row is None else _volume_record(row)


def _volume_record(row: Row[Any]) -> VolumeRecord:
    return VolumeRecord(
        row.id,
        row.run_id,
        row.municipality_nis,
        row.language,
        row.sequence,
        row.path,
        row.sha256,
        row.letters,
        row.pages,
    )


def describe_documents(connection: Connection, ids: Collection[int]) -> dict[int, DueDocument]:
    """Kind, number and expiry date of each document id."""
    wanted = sorted(ids)
    described = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        chunk = wanted[start : start + IDS_PER_QUERY]
        query = select(
            _document.c.id, _document.c.kind, _document.c.number, _document.c.expires_on
        ).where(_document.c.id.in_(chunk))
        for row in connection.execute(query):
            described[row.id] = DueDocument(DocumentKind(row.kind), row.number, row.expires_on)
    return described
