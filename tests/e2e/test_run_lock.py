"""One run at a time per municipality, on SQLite (a file lock) and PostgreSQL (an advisory
lock): two `reminders run` processes started together for the same municipalities and date on
a registry whose run takes seconds. Without --wait exactly one does the work and the other
exits 3 naming the municipality, having done nothing; with --wait the second waits its turn and
finds nothing left to do; and a run killed while holding the lock leaves no lock behind, so
the one waiting for it resumes its work. Every letter is printed and logged exactly once."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.run_checks import (
    NIS_CODES,
    Finished,
    Night,
    check_invariants,
    finish,
    prepared_night,
    running_attempts,
    start_run,
    stop_runs,
)


@pytest.fixture
def night(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Night]:
    """The night registry, its letters rendered in each run's own process: the locks are the
    run's, not its render workers' (whose start would double each run's CPU), and a run of
    1,250 letters still takes seconds, long enough for two to overlap."""
    night = prepared_night(request, database_url, tmp_path, render_workers=1)
    yield night
    stop_runs(night)


def two_runs_together(night: Night, *args: str) -> tuple[Finished, Finished]:
    """Two runs started at the same moment, ended in the order of their exit status."""
    first, second = start_run(night, *args, name="first"), start_run(night, *args, name="second")
    ended = sorted((finish(first), finish(second)), key=lambda run: run.returncode)
    return ended[0], ended[1]


def test_a_second_run_while_one_runs_exits_3_and_does_nothing(night: Night) -> None:
    """Exactly one run works (exit 0, every letter in its run); the other exits 3 with a
    message naming a municipality it found busy, and records no run of its own."""
    winner, loser = two_runs_together(night)
    assert (winner.returncode, loser.returncode) == (0, 3), (winner.stderr, loser.stderr)
    assert winner.summary()["letters"] == night.reference.letters
    assert loser.stdout == ""
    message = loser.stderr.strip()
    assert message.startswith("Error: "), message
    named = re.findall(r"\b\d{5}\b", message)
    assert set(named) & set(NIS_CODES), message
    assert "Traceback" not in message

    observed = check_invariants(night, failed_attempts=0)
    assert [run["letters"] for run in observed.runs] == [night.reference.letters]


def test_with_wait_the_second_run_waits_then_finds_nothing_new(night: Night) -> None:
    """With --wait 60 both exit 0: one prints every letter, the other waits for it, then
    finds nothing left to decide (0 letters); every letter once."""
    first, second = two_runs_together(night, "--wait", "60")
    assert (first.returncode, second.returncode) == (0, 0), (first.stderr, second.stderr)
    letters = sorted(run.summary()["letters"] for run in (first, second))
    assert letters == [0, night.reference.letters]

    observed = check_invariants(night, failed_attempts=0)
    (worked,) = (run for run in observed.runs if run["letters"])
    assert worked["letters"] == night.reference.letters
    # The second run began only once the first had finished: it waited, not raced.
    later = [run for run in observed.runs if run is not worked]
    assert len(later) == 1
    assert later[0]["started_at"] >= worked["finished_at"]


def test_a_run_waiting_for_one_that_gets_killed_takes_over_and_completes_it(night: Night) -> None:
    """The lock dies with its holder: a run killed while printing leaves no lock behind, so a
    second run waiting for it takes the municipalities, resumes the killed run and completes
    it; every letter once, one failed attempt on record."""
    killed = start_run(night, kill_at="print:volume-recorded#2", name="killed")
    deadline = time.monotonic() + 60
    while not running_attempts(night.database_url):  # it holds the locks once it has a run
        assert killed.process.poll() is None, "the first run ended before recording its run"
        assert time.monotonic() < deadline, "the first run never recorded its run"
        time.sleep(0.05)
    waiting = start_run(night, "--wait", "60", name="waiting")
    first, second = finish(killed), finish(waiting)
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert second.returncode == 0, second.stderr
    assert second.summary()["letters"] == night.reference.letters

    observed = check_invariants(night, failed_attempts=1)
    assert [(run["id"], run["letters"]) for run in observed.runs] == [(1, night.reference.letters)]
