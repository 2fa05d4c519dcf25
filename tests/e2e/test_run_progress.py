"""`reminders run` on a terminal: a progress bar from the run's own records (issue 23);
nothing at all when stderr is not a terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.run_progress import progress_of
from reminders.bootstrap import worker_name
from reminders.entrypoints import run_watch
from reminders.entrypoints.run_watch import describe, watching
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture
from tests.e2e.test_run import run


def test_a_run_on_a_terminal_shows_its_progress(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # This registry's run, in its own process, can end within one poll of half a second.
    monkeypatch.setattr(run_watch, "POLL_SECONDS", 0.02)
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    with watching(database_url, console=terminal):
        summary = run(registry, database_url, "--date", RUN_DATE)  # in this process
    shown = screen.getvalue()
    assert f"Run {summary['run_id']}: " in shown
    assert "letters" in shown


def test_no_bar_off_a_terminal(registry: Path, database_url: str) -> None:  # noqa: F811
    screen = io.StringIO()
    with watching(database_url, console=Console(file=screen)):
        run(registry, database_url, "--date", RUN_DATE)
    assert screen.getvalue() == ""


def test_progress_is_read_from_the_runs_records(registry: Path, database_url: str) -> None:  # noqa: F811
    summary = run(registry, database_url, "--date", RUN_DATE)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            assert progress_of(connection, worker_name()) is None  # its attempt has ended
            connection.exec_driver_sql(
                "UPDATE run_attempt SET outcome = 'running', worker = 'here:1'"
            )
            progress = progress_of(connection, "here:1")
    finally:
        engine.dispose()
    assert progress is not None
    assert progress.run_id == summary["run_id"]
    assert progress.letters == summary["letters"]
    assert progress.printed == summary["letters"]
    assert describe(progress).startswith(f"Run {summary['run_id']}: finished")


def test_a_printing_run_says_which_volume_of_how_many(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
) -> None:
    """The plan the run recorded once its letters were decided gives "volume N of M"."""
    summary = run(registry, database_url, "--date", RUN_DATE)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            planned = connection.execute(
                text("SELECT planned_volumes FROM nightly_run WHERE id = :id"),
                {"id": summary["run_id"]},
            ).scalar_one()
            assert sum(json.loads(planned).values()) == len(summary["volumes"])
            connection.exec_driver_sql(
                "UPDATE nightly_run SET step = 'decided', planned_volumes = '{\"44021\": 9}'"
            )
            connection.exec_driver_sql(
                "UPDATE run_attempt SET outcome = 'running', worker = 'here:1'"
            )
            progress = progress_of(connection, "here:1")
    finally:
        engine.dispose()
    assert progress is not None
    written = len(summary["volumes"])
    assert describe(progress) == f"Run {summary['run_id']}: printing volume {written + 1} of 9"
