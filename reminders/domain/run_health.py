"""`reminders status`: per municipality, how its nights are going, and whether anything needs
a person: a failed or unfinished run, a night that should have run and did not, letters
decided but not published, a dispatch log whose last verification failed. The exit status
says the same to a monitor (0 healthy, 1 something to look at)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class LastRun:
    run_id: int
    as_of: date
    outcome: str  # running, succeeded, failed
    step: str  # the last step it completed
    started_at: datetime
    finished_at: datetime | None
    letters: int
    failure: str | None


@dataclass(frozen=True, slots=True)
class LastCheckpoint:
    tree_size: int
    run_id: int | None
    signed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LastVerification:
    verified_at: datetime
    verified_by: str
    tree_size: int
    intact: bool
    problem: str | None


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the nightly job covering a municipality fires next, and which night it should
    have run by now (its latest fire time more than its grace ago)."""

    job_id: str
    next_run: datetime | None
    due_night: date | None  # the latest night whose run should have started by now


@dataclass(slots=True)
class MunicipalityState:
    nis_code: str
    last_run: LastRun | None = None
    last_night: date | None = None  # the newest night a run succeeded for
    letters_waiting: int = 0  # decided, not yet published (a failed or running run)
    checkpoint: LastCheckpoint | None = None
    verification: LastVerification | None = None
    schedule: Schedule | None = None
    run_alive: bool | None = None  # for a run marked running: is its process still there?
    behind_published: str | None = None  # why no run may start from this database (recover)
    problems: list[str] = field(default_factory=list)

    def evaluated(self) -> MunicipalityState:
        """Fill in ``problems``: what a person should look at."""
        self.problems = []
        if self.behind_published is not None:
            self.problems.append(f"needs a person: {self.behind_published}")
        run = self.last_run
        if run is not None and run.outcome == "failed":
            again = (
                "it is resumed by the next run or scheduler start"
                if run.step != "started"
                else "it kept nothing; the next run decides again"
            )
            self.problems.append(f"run {run.run_id} failed ({run.failure}); {again}")
        running = run is not None and run.outcome == "running" and self.run_alive is not False
        if run is not None and run.outcome == "running" and not running:
            self.problems.append(
                f"run {run.run_id} stopped without finishing (its process is gone); the next "
                "run or scheduler start resumes it"
            )
        if self.letters_waiting and not running:
            self.problems.append(
                f"{self.letters_waiting} letters are decided but not yet printed and published"
            )
        due = self.schedule.due_night if self.schedule else None
        if due is not None and not running and (self.last_night is None or self.last_night < due):
            self.problems.append(f"the night of {due} has not been run")
        verified = self.verification
        if verified is not None and not verified.intact:
            self.problems.append(
                f"the dispatch log failed verification on {verified.verified_at:%Y-%m-%d}: "
                f"{verified.problem}"
            )
        return self

    def as_json(self) -> dict[str, Any]:
        run, checkpoint, verified = self.last_run, self.checkpoint, self.verification
        return {
            "healthy": not self.problems,
            "problems": self.problems,
            "last_run": None if run is None else {
                "run_id": run.run_id, "date": run.as_of.isoformat(), "outcome": run.outcome,
                "step": run.step, "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "letters": run.letters, "failure": run.failure,
            },
            "last_night_run": self.last_night.isoformat() if self.last_night else None,
            "letters_waiting": self.letters_waiting,
            "next_run": (
                self.schedule.next_run.isoformat()
                if self.schedule and self.schedule.next_run
                else None
            ),
            "job": self.schedule.job_id if self.schedule else None,
            "due_night": (
                self.schedule.due_night.isoformat()
                if self.schedule and self.schedule.due_night
                else None
            ),
            "last_checkpoint": None if checkpoint is None else {
                "tree_size": checkpoint.tree_size, "run_id": checkpoint.run_id,
                "signed_at": checkpoint.signed_at.isoformat() if checkpoint.signed_at else None,
            },
            "last_verification": None if verified is None else {
                "verified_at": verified.verified_at.isoformat(), "by": verified.verified_by,
                "tree_size": verified.tree_size, "intact": verified.intact,
                "problem": verified.problem,
            },
        }  # fmt: skip


def due_night(
    previous_fire: datetime | None, night: date | None, grace: timedelta, now: datetime
) -> date | None:
    """The night that should have run by now: the latest fire time's, once its grace has
    passed (until then a late fire may still start it)."""
    if previous_fire is None or night is None or now - previous_fire <= grace:
        return None
    return night
