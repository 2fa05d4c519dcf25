"""Which night the console lets a person start a run for (issue 23)."""

from __future__ import annotations

from datetime import date

from reminders.domain.night_choice import KnownRun, night_choice

TODAY = date(2027, 3, 1)


def run(run_id: int, day: int, outcome: str, step: str, alive: bool | None = None) -> KnownRun:
    return KnownRun(run_id, date(2027, 2, day), outcome, step, alive)


def test_tonight_and_a_missed_past_night_are_open() -> None:
    runs = [run(1, 20, "succeeded", "published")]
    assert night_choice(TODAY, TODAY, runs).verdict == "open"
    assert night_choice(date(2027, 2, 25), TODAY, runs).verdict == "open"


def test_a_night_to_come_is_refused() -> None:
    assert night_choice(date(2027, 3, 2), TODAY, []).verdict == "future"


def test_a_night_run_or_caught_up_by_a_later_run_is_done() -> None:
    runs = [run(2, 25, "succeeded", "published"), run(1, 20, "succeeded", "published")]
    assert night_choice(date(2027, 2, 25), TODAY, runs).run == runs[0]
    caught_up = night_choice(date(2027, 2, 22), TODAY, runs)
    assert (caught_up.verdict, caught_up.run) == ("done", runs[0])


def test_an_unfinished_run_is_resumed_first() -> None:
    failed = run(3, 27, "failed", "decided")
    assert night_choice(TODAY, TODAY, [failed]).verdict == "resume_first"
    killed = run(3, 27, "running", "printed", alive=False)
    assert night_choice(TODAY, TODAY, [killed]).verdict == "resume_first"
    assert killed.state == "stopped"


def test_a_run_that_kept_nothing_is_not_resumed() -> None:
    assert night_choice(TODAY, TODAY, [run(3, 27, "failed", "started")]).verdict == "open"
    killed_early = run(3, 27, "running", "started", alive=False)
    assert night_choice(TODAY, TODAY, [killed_early]).verdict == "open"


def test_nothing_starts_while_a_run_goes() -> None:
    going = run(4, 28, "running", "decided", alive=True)
    assert night_choice(TODAY, TODAY, [going]).verdict == "going"
    unknown = run(4, 28, "running", "decided", alive=None)  # cannot tell: taken as going
    assert night_choice(TODAY, TODAY, [unknown]).verdict == "going"
