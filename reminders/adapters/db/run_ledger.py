"""The record of runs and their attempts: which step each run reached, which runs are left
unfinished and must be resumed, and what a run decided, counted from its recorded decisions.

A run's steps each commit on their own (services/nightly_run.py); this is where the step a
run reached is kept, so the next start knows where to pick it up.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, and_, func, insert, or_, select, update

from reminders.adapters.db.email_store import taken_over_for_paper
from reminders.adapters.db.letter_store import LetterStore
from reminders.adapters.db.orm import (
    AuditCheckpointRow,
    AuditEntryRow,
    DecisionRow,
    NightlyRunRow,
    RunAttemptRow,
)
from reminders.domain.model import DocumentKind
from reminders.errors import Reason, ReasonCode

_run = cast(Table, NightlyRunRow.__table__)
_attempt = cast(Table, RunAttemptRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_checkpoint = cast(Table, AuditCheckpointRow.__table__)
_entry = cast(Table, AuditEntryRow.__table__)


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run as recorded: enough to resume it."""

    run_id: int
    as_of: date
    municipalities: tuple[str, ...]
    step: str
    outcome: str
    started_by: str


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What a run decided, per municipality, from its recorded decisions."""

    letters: dict[str, Counter[tuple[DocumentKind, str, str]]]  # (kind, stage, language)
    skipped: dict[str, Counter[str]]
    tally: dict[str, Any]  # what deciding looked at (saved with the decide step)


@dataclass(frozen=True, slots=True)
class RunCheckpoint:
    """A checkpoint a run signed: its log, the first entry the run added, and the note."""

    municipality_nis: str
    first_seq: int
    note: str


_STORED_RUN = select(
    _run.c.id, _run.c.as_of, _run.c.municipalities, _run.c.step, _run.c.outcome,
    _run.c.started_by,
)  # fmt: skip


def _stored_run(row: Row[Any]) -> StoredRun:
    run_id, as_of, municipalities, step, outcome, started_by = row
    return StoredRun(run_id, as_of, tuple(municipalities.split(",")), step, outcome, started_by)


class RunLedger:
    """Runs and attempts, on the caller's connection and transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

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
        """Record a run as running, with its first attempt; returns its id."""
        run_id: int | None = self.connection.scalar(
            insert(_run)
            .values(
                as_of=as_of,
                municipalities=",".join(municipalities),
                started_by=started_by,
                config_sha256=config_sha256,
                code_version=code_version,
                started_at=started_at,
                outcome="running",
                step="started",
                letters=0,
                skips=0,
            )
            .returning(_run.c.id)
        )
        assert run_id is not None  # noqa: S101 - RETURNING gives the new key
        self._insert_attempt(run_id, 1, started_by, worker, started_at, "started")
        return run_id

    def start_attempt(self, run_id: int, *, started_by: str, worker: str, at: datetime) -> int:
        """Another attempt at an unfinished run (a resumption); returns its number."""
        last = self.connection.scalar(
            select(func.coalesce(func.max(_attempt.c.attempt), 0)).where(
                _attempt.c.run_id == run_id
            )
        )
        step = self.connection.scalar(select(_run.c.step).where(_run.c.id == run_id))
        attempt = int(last or 0) + 1
        self._insert_attempt(run_id, attempt, started_by, worker, at, str(step))
        self.connection.execute(
            update(_run)
            .where(_run.c.id == run_id)
            .values(outcome="running", failure=None, failure_reason=None)
        )
        return attempt

    def _insert_attempt(
        self, run_id: int, attempt: int, started_by: str, worker: str, at: datetime, step: str
    ) -> None:
        self.connection.execute(
            insert(_attempt).values(
                run_id=run_id,
                attempt=attempt,
                started_by=started_by[:40],
                worker=worker[:200],
                started_at=at,
                outcome="running",
                step=step,
            )
        )

    def mark_decided(self, run_id: int, *, tally: dict[str, Any], missed_nights: str) -> None:
        self.connection.execute(
            update(_run)
            .where(_run.c.id == run_id)
            .values(step="decided", tally=json.dumps(tally, sort_keys=True),
                    missed_nights=missed_nights)
        )  # fmt: skip
        self._attempt_step(run_id, "decided")

    def set_step(self, run_id: int, step: str) -> None:
        self.connection.execute(update(_run).where(_run.c.id == run_id).values(step=step))
        self._attempt_step(run_id, step)

    def _attempt_step(self, run_id: int, step: str) -> None:
        self.connection.execute(
            update(_attempt)
            .where(_attempt.c.run_id == run_id, _attempt.c.outcome == "running")
            .values(step=step)
        )

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
        """Close a run and its running attempt: succeeded with its counts, or failed with its
        reason (a failed run that reached `decided` is resumed by the next start)."""
        values: dict[str, Any] = {
            "outcome": outcome,
            "finished_at": finished_at,
            "failure": failure[:500] if failure else None,
            "failure_reason": (
                json.dumps(failure_reason.as_json(), sort_keys=True) if failure_reason else None
            ),
        }
        if outcome == "succeeded":
            values |= {"letters": letters, "skips": skips}
        self.connection.execute(update(_run).where(_run.c.id == run_id).values(values))
        self.connection.execute(
            update(_attempt)
            .where(_attempt.c.run_id == run_id, _attempt.c.outcome == "running")
            .values(outcome=outcome, finished_at=finished_at, failure=values["failure"])
        )

    # -- unfinished runs ---------------------------------------------------------------------

    def unfinished(self, nis_codes: Collection[str]) -> list[StoredRun]:
        """Runs touching any of ``nis_codes`` still to be completed (failed after deciding) or
        closed (marked running), oldest first. Only called while those municipalities are
        locked, so a run still marked running is one whose process died."""
        rows = self.connection.execute(
            _STORED_RUN.where(
                or_(
                    _run.c.outcome == "running",
                    and_(_run.c.outcome == "failed", _run.c.step != "started"),
                )
            ).order_by(_run.c.id)
        )
        wanted = set(nis_codes)
        return [run for run in map(_stored_run, rows) if wanted.intersection(run.municipalities)]

    def close_abandoned(self, run_id: int, *, at: datetime) -> None:
        """A run still marked running whose process died is recorded as failed where it
        stood. One that had not committed its decisions kept nothing and is not resumed."""
        run = self.run(run_id)
        if run.outcome == "running":
            kept = (
                "nothing was kept; the next run decides again"
                if run.step == "started"
                else "it is resumed from there"
            )
            failure = f"the process stopped (killed or crashed) after step {run.step}; {kept}"
            reason = Reason(ReasonCode.RUN_KILLED, {"step": run.step})
            self.finish(
                run_id, outcome="failed", finished_at=at, failure=failure, failure_reason=reason
            )

    def succeeded_for(self, as_of: date, nis_codes: Collection[str]) -> int | None:
        """The newest succeeded run for ``as_of`` or a later night that covered every one of
        ``nis_codes``: such a night is done (a later night's run decided it too)."""
        rows = self.connection.execute(
            select(_run.c.id, _run.c.municipalities)
            .where(_run.c.as_of >= as_of, _run.c.outcome == "succeeded")
            .order_by(_run.c.id.desc())
        )
        wanted = set(nis_codes)
        for run_id, municipalities in rows:
            if wanted <= set(municipalities.split(",")):
                return int(run_id)
        return None

    def attempt_count(self, run_id: int) -> int:
        return int(
            self.connection.scalar(
                select(func.count()).select_from(_attempt).where(_attempt.c.run_id == run_id)
            )
            or 0
        )

    def attempts(self, run_id: int) -> list[dict[str, Any]]:
        """Every attempt at a run, for the run's log entry."""
        rows = self.connection.execute(
            select(_attempt).where(_attempt.c.run_id == run_id).order_by(_attempt.c.attempt)
        ).mappings()
        return [dict(row) for row in rows]

    # -- what a run did ----------------------------------------------------------------------

    def run(self, run_id: int) -> StoredRun:
        return _stored_run(self.connection.execute(_STORED_RUN.where(_run.c.id == run_id)).one())

    def counts(self, run_id: int) -> RunCounts:
        """Letters per (kind, stage, language) and skips per reason, per municipality. The
        skips include the letters of earlier runs whose failed e-mail this run took over for
        paper and whose re-check stopped them: this run logs those skips (its seal counts
        them), though their decisions stay the earlier runs'."""
        rows = self.connection.execute(
            select(
                _decision.c.municipality_nis, _decision.c.document_kind, _decision.c.stage,
                _decision.c.language, _decision.c.reason, func.count(),
            )
            .where(_decision.c.run_id == run_id)
            .group_by(
                _decision.c.municipality_nis, _decision.c.document_kind, _decision.c.stage,
                _decision.c.language, _decision.c.reason,
            )
        )  # fmt: skip
        letters: dict[str, Counter[tuple[DocumentKind, str, str]]] = {}
        skipped: dict[str, Counter[str]] = {}
        for nis, kind, stage, language, reason, count in rows:
            if reason is None:
                key = (DocumentKind(kind), stage, language)
                letters.setdefault(nis, Counter())[key] += count
            else:
                skipped.setdefault(nis, Counter())[reason] += count
        stopped = self.connection.execute(
            select(_decision.c.municipality_nis, _decision.c.reason, func.count())
            .where(taken_over_for_paper(run_id), _decision.c.reason.is_not(None))
            .group_by(_decision.c.municipality_nis, _decision.c.reason)
        )
        for nis, reason, count in stopped:
            skipped.setdefault(nis, Counter())[reason] += count
        tally = self.connection.scalar(select(_run.c.tally).where(_run.c.id == run_id))
        return RunCounts(letters, skipped, json.loads(tally) if tally else {})

    def volume_paths(self, run_id: int) -> list[str]:
        """The run's volumes in the order they were written."""
        return LetterStore(self.connection).volume_paths(run_id)

    def checkpoints(self, run_id: int) -> list[RunCheckpoint]:
        """The checkpoints a run signed, with the first entry it added to each log."""
        first = (
            select(_entry.c.municipality_nis, func.min(_entry.c.seq).label("first_seq"))
            .where(_entry.c.run_id == run_id)
            .group_by(_entry.c.municipality_nis)
            .subquery()
        )
        rows = self.connection.execute(
            select(_checkpoint.c.municipality_nis, first.c.first_seq, _checkpoint.c.note)
            .join(first, first.c.municipality_nis == _checkpoint.c.municipality_nis)
            .where(_checkpoint.c.run_id == run_id)
            .order_by(_checkpoint.c.municipality_nis)
        )
        return [RunCheckpoint(nis, first_seq, note) for nis, first_seq, note in rows]
