"""What the console reads beyond the services: a municipality's past runs with their volumes
and its own share of each run's letters, one volume to download, and the documents a dry
run's decisions are about."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, Table, func, select

from reminders.adapters.db.email_store import FALLBACK_STATES
from reminders.adapters.db.engine import stored_utc
from reminders.adapters.db.orm import (
    DecisionRow,
    DocumentRow,
    EmailMessageRow,
    NightlyRunRow,
    PrintVolumeRow,
)
from reminders.domain.channels import EmailState
from reminders.domain.model import DocumentKind, DueDocument
from reminders.domain.usage import ChannelCounts, MonthUsage
from reminders.errors import Reason

_run = cast(Table, NightlyRunRow.__table__)
_volume = cast(Table, PrintVolumeRow.__table__)
_document = cast(Table, DocumentRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_email = cast(Table, EmailMessageRow.__table__)
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
    step: str  # the last step it completed
    letters: int  # this municipality's letters in the run (never another's)
    skips: int  # this municipality's skips
    failure: str | None
    volumes: tuple[VolumeRecord, ...]  # this municipality's
    planned_volumes: int | None = None  # this municipality's, once its letters are decided
    failure_reason: Reason | None = None  # ``failure`` as a code and values

    @property
    def volume_printing(self) -> int | None:
        """The number of the volume being printed now (3 in "volume 3 of 7"), while the run
        prints and its plan is known."""
        if self.outcome != "running" or self.step != "decided" or not self.planned_volumes:
            return None
        return min(len(self.volumes) + 1, self.planned_volumes)

    @property
    def printed(self) -> int:
        """This municipality's letters in volumes so far (grows while the run prints)."""
        return sum(volume.letters for volume in self.volumes)

    @property
    def pages(self) -> int:
        return sum(volume.pages for volume in self.volumes)


def shares(
    connection: Connection, municipality_nis: str, run_ids: Collection[int]
) -> dict[int, tuple[int, int]]:
    """(letters, skips) of the municipality in each run: its own decisions only, so that
    nobody sees another municipality's counts."""
    found: dict[int, tuple[int, int]] = dict.fromkeys(run_ids, (0, 0))
    if not run_ids:
        return found
    is_letter = _decision.c.reason.is_(None)
    query = (
        select(_decision.c.run_id, is_letter.label("letter"), func.count())
        .where(
            _decision.c.run_id.in_(sorted(run_ids)),
            _decision.c.municipality_nis == municipality_nis,
        )
        .group_by(_decision.c.run_id, is_letter)
    )
    for run_id, letter, count in connection.execute(query):
        letters, skips = found[run_id]
        found[run_id] = (letters + count, skips) if letter else (letters, skips + count)
    return found


def runs_of(
    connection: Connection, municipality_nis: str, *, limit: int, only: int | None = None
) -> list[RunRecord]:
    """The municipality's newest runs (or run ``only``), with its volumes of each."""
    found = []
    # Runs are one a night: matching the comma-separated list in Python is simpler than in
    # SQL on two engines (as status_store does).
    runs = select(_run).order_by(_run.c.id.desc())
    if only is not None:
        runs = runs.where(_run.c.id == only)
    for row in connection.execute(runs):
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
    counts = shares(connection, municipality_nis, [row.id for row in found])
    return [
        RunRecord(
            row.id,
            row.as_of,
            row.started_by,
            stored_utc(row.started_at),
            stored_utc(row.finished_at) if row.finished_at else None,
            row.outcome,
            row.step,
            *counts[row.id],
            row.failure,
            tuple(volumes.get(row.id, ())),
            _planned(row.planned_volumes, municipality_nis),
            Reason.from_json(json.loads(row.failure_reason)) if row.failure_reason else None,
        )
        for row in found
    ]


def _planned(stored: str | None, municipality_nis: str) -> int | None:
    planned = json.loads(stored) if stored else {}
    count = planned.get(municipality_nis)
    return count if isinstance(count, int) else None


def run_of(connection: Connection, municipality_nis: str, run_id: int) -> RunRecord | None:
    """One run, if it covered the municipality (None otherwise: as for no such run)."""
    found = runs_of(connection, municipality_nis, limit=1, only=run_id)
    return found[0] if found else None


GONE = ("cancelled", "replaced")  # volumes that never go out (their re-cut goes instead)


def usage(connection: Connection, municipality_nis: str, zone: ZoneInfo) -> list[MonthUsage]:
    """Per month (local, by when its volumes were written), the municipality's letters,
    pages and volumes that went or go out to the print shop, oldest month first; and its
    e-mails the relay accepted and those that failed (by when they were recorded)."""
    months: dict[date, list[int]] = {}

    def of(moment: datetime) -> list[int]:
        month = stored_utc(moment).astimezone(zone).date().replace(day=1)
        return months.setdefault(month, [0, 0, 0, 0, 0])

    query = select(_volume.c.written_at, _volume.c.letters, _volume.c.pages).where(
        _volume.c.municipality_nis == municipality_nis, _volume.c.state.not_in(GONE)
    )
    for written_at, letters, pages in connection.execute(query):
        totals = of(written_at)
        totals[0] += letters
        totals[1] += pages
        totals[2] += 1
    emails = select(_email.c.recorded_at, _email.c.state).where(
        _email.c.municipality_nis == municipality_nis,
        _email.c.state.in_([EmailState.ACCEPTED.value, *FALLBACK_STATES]),
    )
    for recorded_at, state in connection.execute(emails):
        of(recorded_at)[3 if state == EmailState.ACCEPTED.value else 4] += 1
    return [MonthUsage(month, *totals) for month, totals in sorted(months.items())]


def channels_of_runs(
    connection: Connection, municipality_nis: str, run_ids: Collection[int]
) -> dict[int, ChannelCounts]:
    """The municipality's letters of each run by channel (its own rows only)."""
    counts: dict[int, dict[str, int]] = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return {}
    wanted = sorted(run_ids)
    paper = (
        select(_volume.c.run_id, func.coalesce(func.sum(_volume.c.letters), 0))
        .where(
            _volume.c.run_id.in_(wanted),
            _volume.c.municipality_nis == municipality_nis,
            _volume.c.kind == "run",
        )
        .group_by(_volume.c.run_id)
    )
    for run_id, letters in connection.execute(paper):
        counts[run_id]["paper"] = int(letters)
    sent = (
        select(_email.c.run_id, _email.c.state, func.count())
        .where(_email.c.run_id.in_(wanted), _email.c.municipality_nis == municipality_nis)
        .group_by(_email.c.run_id, _email.c.state)
    )
    for run_id, state, count in connection.execute(sent):
        field = (
            "emailed"
            if state == EmailState.ACCEPTED.value
            else "email_failed"
            if state in FALLBACK_STATES
            else "email_waiting"
        )
        counts[run_id][field] = counts[run_id].get(field, 0) + int(count)
    fallbacks = (
        select(_email.c.fallback_run_id, func.count())
        .where(_email.c.fallback_run_id.in_(wanted), _email.c.municipality_nis == municipality_nis)
        .group_by(_email.c.fallback_run_id)
    )
    for run_id, count in connection.execute(fallbacks):
        counts[run_id]["fallback"] = int(count)
    return {run_id: ChannelCounts(**found) for run_id, found in counts.items()}


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
