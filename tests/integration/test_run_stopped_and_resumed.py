"""The nightly run stopped dead at each of its points (services/run_control.py) and simply run
again, in this process, on SQLite and PostgreSQL: every due letter ends up exactly once, in
exactly one complete volume on disk, logged once in a log that verifies, with no staged or
unrecorded file left in the print room, and the stopped attempt recorded as failed (issue 7,
"exactly once under crashes"; the checker is tests/e2e/run_checks.py's).

The run (services/nightly_run.py's `run_night`, wired as `reminders run` wires it) is given a
`RunControl` that raises `Killed` at the point: not an Exception, so nothing of the run sees
it, records it or cleans up after it; only the transaction open at the point is rolled back,
as the database does when a killed process's connection drops, and the files written stay.
The next run finds the run as a killed one leaves it (still marked running). A registry of
some 170 letters in about nine volumes, rendered in this process, keeps each case to a second
or two; tests/e2e/test_run_crash_safety.py SIGKILLs whole `reminders run` processes on the
large registry, with their render workers, a few times per engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import PrintVolumeRow
from reminders.adapters.db.run_lock import RunLocks
from reminders.bootstrap import open_engine, printing, run_request, unit_of_work, utc_now
from reminders.config import load_settings
from reminders.services.nightly_run import NightOutcome, run_night
from reminders.services.run_control import KILL_POINTS, RunControl
from tests.e2e.run_checks import (
    RUN_DATE,
    SMALL,
    Night,
    check_invariants,
    prepared_night,
    running_attempts,
)
from tests.service.test_complete_run import POINTS as SERVICE_POINTS

# Points of the run, in the order a run reaches them, with the n-th time it gets there (a
# volume point at the n-th volume, so some volumes are behind the stop and some ahead; a
# publish point at the n-th municipality's log or volume): one or two a step, where the
# database's transactions and the output folder's files matter. Every print, seal and publish
# point is stopped at on fakes too, in milliseconds: tests/service/test_complete_run.py.
RUN_POINTS = (
    ("decide:recorded", 1),  # decisions written, not committed: nothing is kept
    ("decide:committed", 1),
    ("print:volume-staged", 3),  # two volumes recorded, the third's files staged only
    ("seal:appended", 1),
    ("publish:log-tiles", 2),  # one log published, the second's tiles written, not its checkpoint
    ("publish:log-checkpoint", 1),
    ("publish:delivered", 2),  # one volume in the print shop's hands and recorded so
)


class Killed(BaseException):
    """The run stopped dead at a point."""


class KillAt(RunControl):
    """Raises `Killed` the n-th time the run reaches the point."""

    def __init__(self, point: str, nth: int = 1) -> None:
        super().__init__()
        assert point in KILL_POINTS, point
        self.point, self.nth = point, nth

    def reached(self, point: str) -> None:
        super().reached(point)
        if point == self.point and self._reached[point] == self.nth:
            raise Killed(f"{point}#{self.nth}")


@pytest.fixture
def night(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Night:
    return prepared_night(request, database_url, tmp_path, SMALL)


def run(night: Night, control: RunControl) -> NightOutcome:
    """`reminders run --date RUN_DATE` in this process, with ``control``."""
    settings = load_settings(night.config, environ={"REMINDERS_DATABASE_URL": night.database_url})
    prints = printing(settings)
    request = run_request(settings, as_of=RUN_DATE, nis_codes=None, started_by="cli")
    engine = open_engine(settings.database_url)
    try:
        return run_night(
            request,
            unit_of_work(engine),
            now=utc_now,
            locks=RunLocks(engine),
            printing=prints,
            control=control,
        )
    finally:
        engine.dispose()


def killed(night: Night, point: str, nth: int = 1) -> None:
    """A run stopped dead at the n-th time it reaches ``point``: it must get there."""
    with pytest.raises(Killed, match=f"^{point}#{nth}$"):
        run(night, KillAt(point, nth))
    assert running_attempts(night.database_url) == 1  # as a kill leaves it: still running


def clean(night: Night) -> NightOutcome:
    outcome = run(night, RunControl())
    assert outcome.status == "ran", outcome
    assert outcome.summary is not None
    return outcome


@pytest.mark.parametrize(("point", "nth"), RUN_POINTS, ids=[f"{p}#{n}" for p, n in RUN_POINTS])
def test_a_run_stopped_at_a_point_and_run_again_sends_each_letter_once(
    night: Night, point: str, nth: int
) -> None:
    """Stopped at ``point``, then run again: exactly the letters of a clean run, each once, in
    complete volumes, logged once; one failed attempt on record. Stopped before its decisions
    were committed, the run kept nothing and the next run decides anew; after, the next run
    completes it under its own id and prints only the letters still missing."""
    killed(night, point, nth)
    outcome = clean(night)
    observed = check_invariants(night, failed_attempts=1)
    assert outcome.summary is not None
    if point == "decide:recorded":
        assert outcome.resumed == ()
        assert [(r["id"], r["outcome"]) for r in observed.runs] == [(1, "failed"), (2, "succeeded")]
    else:
        assert outcome.resumed == (1,)
        assert [(r["id"], r["outcome"]) for r in observed.runs] == [(1, "succeeded")]
    assert outcome.summary.letters == night.reference.letters
    assert undelivered(night) == []  # every volume handed to the print shop, once recorded


def undelivered(night: Night) -> list[int]:
    """The volumes not recorded as delivered to the print shop."""
    engine = make_engine(night.database_url)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    select(PrintVolumeRow.id).where(PrintVolumeRow.delivered_at.is_(None))
                )
            )
    finally:
        engine.dispose()


def test_a_run_stopped_again_while_resuming_still_sends_each_letter_once(night: Night) -> None:
    """Stopped while printing, stopped again further on while resuming, then run cleanly: one
    run, three failed attempts, every letter once."""
    killed(night, "print:volume-recorded", 2)
    killed(night, "print:volume-staged", 2)  # the resumed attempt's second volume
    killed(night, "publish:renamed", 1)
    clean(night)
    observed = check_invariants(night, failed_attempts=3)
    (first,) = observed.runs
    assert (first["id"], first["outcome"], first["step"]) == (1, "succeeded", "published")
    outcomes = sorted((a["attempt"], a["outcome"]) for a in observed.attempts)
    assert outcomes == [(1, "failed"), (2, "failed"), (3, "failed"), (4, "succeeded")]


def test_every_point_of_the_run_is_stopped_at() -> None:
    """A new point of the run gets a case above or in tests/service/test_complete_run.py (the
    after-print and recover points have tests of their own: test_after_print_crash_safety.py,
    test_restore_recover.py)."""
    steps = ("decide:", "print:", "seal:", "publish:")
    stopped = {point for point, _ in (*RUN_POINTS, *SERVICE_POINTS)}
    assert stopped == {p for p in KILL_POINTS if p.startswith(steps)}
