"""What `reminders status` reads: per municipality its newest run, its last succeeded night,
the letters decided but not yet published, its newest checkpoint and last verification."""

from __future__ import annotations

import os
import socket
from collections.abc import Collection
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, Table, func, select, text

from reminders.adapters.db.engine import stored_utc
from reminders.adapters.db.orm import (
    AuditCheckpointRow,
    AuditVerificationRow,
    DecisionRow,
    NightlyRunRow,
    RunAttemptRow,
    SchedulerJobRow,
)
from reminders.adapters.db.run_lock import LOCK_SPACE
from reminders.domain.checkpoint import CheckpointFormatError, parsed_checkpoint
from reminders.domain.run_health import (
    LastCheckpoint,
    LastRun,
    LastVerification,
    MunicipalityState,
)

_run = cast(Table, NightlyRunRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_checkpoint = cast(Table, AuditCheckpointRow.__table__)
_verification = cast(Table, AuditVerificationRow.__table__)
_job = cast(Table, SchedulerJobRow.__table__)
_attempt = cast(Table, RunAttemptRow.__table__)


def municipality_states(
    connection: Connection, nis_codes: Collection[str]
) -> dict[str, MunicipalityState]:
    """The state of each municipality, as far as the database knows it."""
    states = {nis: MunicipalityState(nis) for nis in nis_codes}
    # Runs are few (one a night): reading their records is cheaper than matching the
    # comma-separated municipalities in SQL on two engines.
    for row in connection.execute(select(_run).order_by(_run.c.id.desc())):
        for nis in row.municipalities.split(","):
            state = states.get(nis)
            if state is None:
                continue
            if state.last_run is None:
                state.last_run = LastRun(
                    row.id, row.as_of, row.outcome, row.step, stored_utc(row.started_at),
                    stored_utc(row.finished_at) if row.finished_at else None, row.letters,
                    row.failure,
                )  # fmt: skip
            if row.outcome == "succeeded" and (
                state.last_night is None or row.as_of > state.last_night
            ):
                state.last_night = row.as_of
    waiting = connection.execute(
        select(_decision.c.municipality_nis, func.count())
        .join(_run, _run.c.id == _decision.c.run_id)
        .where(_run.c.outcome != "succeeded", _decision.c.reason.is_(None))
        .group_by(_decision.c.municipality_nis)
    )
    for nis, count in waiting:
        if nis in states:
            states[nis].letters_waiting = count
    newest = (
        select(_checkpoint.c.municipality_nis, func.max(_checkpoint.c.tree_size).label("size"))
        .group_by(_checkpoint.c.municipality_nis)
        .subquery()
    )
    checkpoints = connection.execute(
        select(_checkpoint.c.municipality_nis, _checkpoint.c.tree_size, _checkpoint.c.run_id,
               _checkpoint.c.note)
        .join(newest, (newest.c.municipality_nis == _checkpoint.c.municipality_nis)
              & (newest.c.size == _checkpoint.c.tree_size))
    )  # fmt: skip
    for nis, size, run_id, note in checkpoints:
        if nis in states:
            states[nis].checkpoint = LastCheckpoint(size, run_id, _signed_at(note))
    latest = (
        select(_verification.c.municipality_nis, func.max(_verification.c.id).label("id"))
        .group_by(_verification.c.municipality_nis)
        .subquery()
    )
    verifications = select(_verification).join(latest, latest.c.id == _verification.c.id)
    for row in connection.execute(verifications):
        if row.municipality_nis in states:
            states[row.municipality_nis].verification = LastVerification(
                stored_utc(row.verified_at), row.verified_by, row.tree_size, row.intact, row.problem
            )
    return states


def scheduled_times(connection: Connection) -> dict[str, datetime]:
    """The next fire time of each job as a running scheduler stored it (UTC)."""
    rows = connection.execute(select(_job.c.id, _job.c.next_run_time))
    return {
        job_id: datetime.fromtimestamp(moment, UTC) for job_id, moment in rows if moment is not None
    }


def _signed_at(note: str) -> datetime | None:
    try:
        return parsed_checkpoint(note).checkpoint.signed_at
    except CheckpointFormatError:
        return None  # verification reports it; status only shows what it can read


def run_alive(connection: Connection, run_id: int) -> bool | None:
    """Whether the process of a run marked running still exists: by its process id when it
    runs on this machine (SQLite always does), by its advisory locks on PostgreSQL otherwise;
    None when neither can tell."""
    worker = connection.scalar(
        select(_attempt.c.worker)
        .where(_attempt.c.run_id == run_id, _attempt.c.outcome == "running")
        .order_by(_attempt.c.attempt.desc())
        .limit(1)
    )
    if worker is None:
        return None
    host, _, pid = str(worker).rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)  # signal 0: asks whether the process exists, sends nothing
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # it exists, under another user
        return True
    if connection.dialect.name == "postgresql":
        covered = connection.scalar(select(_run.c.municipalities).where(_run.c.id == run_id))
        held = connection.scalar(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 "AND classid = :space AND objid = ANY(:keys)"),
            {"space": LOCK_SPACE, "keys": [int(nis) for nis in str(covered).split(",")]},
        )  # fmt: skip
        return bool(held)
    return None
