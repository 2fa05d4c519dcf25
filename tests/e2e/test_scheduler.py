"""`reminders scheduler` as a real process, on SQLite and PostgreSQL: it starts, logs JSON lines
without personal data and stops cleanly on SIGTERM; its start-up catch-up runs the latest
night once and finds it done the second time; a SIGTERM in the middle of a night stops the run
at a safe point and the next start resumes it; two schedulers started together on one database
never both run the night."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import NightlyRunRow, RunAttemptRow
from reminders.adapters.scheduling.nightly_trigger import NightlyTrigger
from reminders.entrypoints.scheduler_cli import JOB_TABLE, run_scheduled_job
from tests.e2e.run_checks import (
    REMINDERS,
    Night,
    check_invariants,
    prepared_night,
    staged_volumes,
)
from tests.e2e.test_cli import NATIONAL_NUMBER
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture

SCHEDULER = (REMINDERS, "scheduler")  # the command as an operator or systemd starts it
NOW = f"{RUN_DATE}T12:00:00+01:00"  # the catch-up's "now": the night of RUN_DATE is due
TIMEOUT_S = 180  # far beyond a night of a few seconds: a hung scheduler fails, not CI
NIGHTLY = """\
[job]
id = "nightly"
service = "nightly_run"
municipalities = "all"
at = "01:30"
"""


@dataclass(frozen=True, slots=True)
class Scheduler:
    """A scheduler process under way; its stderr (the log) goes to a file."""

    process: subprocess.Popen[str]
    log_file: Path

    def lines(self) -> list[dict[str, Any]]:
        """The log so far, each line checked to be a JSON object with our four fields."""
        return log_lines(self.log_file.read_text(encoding="utf-8"))

    def wait_for(self, message: str) -> dict[str, Any]:
        """The first log line with ``message``, once it is written."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            text = self.log_file.read_text(encoding="utf-8")
            complete = text[: text.rfind("\n") + 1]  # not a line still being written
            found = [line for line in log_lines(complete) if line["message"] == message]
            if found:
                return found[0]
            assert self.process.poll() is None, f"exited {self.process.returncode}:\n{text}"
            time.sleep(0.05)
        raise AssertionError(f"no {message!r} within {TIMEOUT_S} s")

    def finish(self) -> tuple[int, list[dict[str, Any]]]:
        """Its exit status and whole log, once it has exited."""
        try:
            self.process.wait(timeout=TIMEOUT_S)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        text = self.log_file.read_text(encoding="utf-8")
        assert not NATIONAL_NUMBER.search(text), text
        return self.process.returncode, log_lines(text)


def log_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        record = json.loads(line)
        assert isinstance(record, dict), line
        assert {"ts", "level", "logger", "message"} <= record.keys(), line
        assert record["ts"].endswith("+00:00"), line  # UTC
        lines.append(record)
    return lines


def with_job(config: Path, text: str = NIGHTLY) -> Path:
    """The config's jobs/ folder, holding one job."""
    jobs = config.parent / "jobs"
    jobs.mkdir(exist_ok=True)
    (jobs / "nightly.toml").write_text(text, encoding="utf-8")
    return config


def start(config: Path, database_url: str, *args: str, name: str = "scheduler") -> Scheduler:
    log_file = config.parent / f"{name}-{time.monotonic_ns()}.log"
    env = {**os.environ, "REMINDERS_DATABASE_URL": database_url}
    env.pop("REMINDERS_KILL_AT", None)
    with log_file.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [*SCHEDULER, "--config", str(config), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            cwd=config.parent,
        )
    return Scheduler(process, log_file)


def once(config: Path, database_url: str, name: str = "once") -> tuple[int, list[dict[str, Any]]]:
    return start(config, database_url, "--once", "--now", NOW, name=name).finish()


SCHEDULER_LOGGERS = ("reminders.scheduler", "reminders.signals")


def messages(lines: list[dict[str, Any]]) -> list[str]:
    """What the scheduler itself logged (and the signal watcher it starts)."""
    return [line["message"] for line in lines if line["logger"] in SCHEDULER_LOGGERS]


def runs(database_url: str) -> list[tuple[str, str]]:
    """(date, outcome) of every recorded run."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(NightlyRunRow.as_of, NightlyRunRow.outcome))
            return sorted((as_of.isoformat(), outcome) for as_of, outcome in rows)
    finally:
        engine.dispose()


def failures(database_url: str) -> list[str]:
    """Why each failed attempt of a run failed."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    select(RunAttemptRow.failure).where(RunAttemptRow.outcome == "failed")
                )
            )
    finally:
        engine.dispose()


def stored_jobs(database_url: str) -> list[tuple[str, Any, Any, list[str], Any]]:
    """(id, function, trigger, args, next run time) of each job in the database's job store,
    unpickled as a scheduler starting on it would."""
    engine = make_engine(database_url)
    jobstore = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
    store = BackgroundScheduler(jobstores={"default": jobstore})
    store.start(paused=True)
    try:
        return [(j.id, j.func, j.trigger, list(j.args), j.next_run_time) for j in store.get_jobs()]
    finally:
        store.shutdown()
        engine.dispose()


def test_it_starts_logs_json_and_stops_on_sigterm(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """Started, it logs each job with its next fire time, local and UTC, and keeps the job in
    the database's job store; SIGTERM ends it with exit 0 and "stopped"; every line is JSON,
    none holds a national number."""
    scheduler = start(with_job(registry), database_url)
    scheduled = scheduler.wait_for("scheduled")
    scheduler.wait_for("started")
    scheduler.process.send_signal(signal.SIGTERM)
    status, lines = scheduler.finish()
    assert status == 0, lines
    assert scheduled["job"] == "nightly"
    assert scheduled["next_fire_local"].endswith(("T01:30:00+01:00", "T01:30:00+02:00"))
    assert scheduled["next_fire_utc"].endswith(("T00:30:00+00:00", "T23:30:00+00:00"))
    assert messages(lines)[-3:] == [
        "received SIGTERM",
        "stopping: the running job, if any, stops at its next safe point",
        "stopped",
    ]
    ((job_id, function, trigger, args, next_at),) = stored_jobs(database_url)
    assert (job_id, function, args) == ("nightly", run_scheduled_job, [str(registry), "nightly"])
    assert isinstance(trigger, NightlyTrigger)
    assert next_at.isoformat() == scheduled["next_fire_local"]


def test_once_runs_the_night_and_then_finds_it_done(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """`scheduler --once`: the latest night due is run; a second time it is already done."""
    config = with_job(registry)
    status, lines = once(config, database_url)
    assert status == 0, lines
    (finished,) = [line for line in lines if line["message"] == "night run finished"]
    assert (finished["night"], finished["status"]) == (RUN_DATE, "ran")
    assert finished["letters"] > 0
    status, lines = once(config, database_url)
    assert status == 0, lines
    assert "night already done; nothing to do" in messages(lines)
    assert runs(database_url) == [(RUN_DATE, "succeeded")]


def test_two_schedulers_at_once_run_the_night_once(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """Two `scheduler --once` started together on one database (two machines of a shared
    service centre): one runs the night, the other finds it busy or done; one run recorded."""
    config = with_job(registry)
    both = [start(config, database_url, "--once", "--now", NOW, name=f"s{n}") for n in (1, 2)]
    ended = [scheduler.finish() for scheduler in both]
    assert sorted(status for status, _ in ended) in ([0, 0], [0, 3]), ended
    outcomes = sorted(
        line["message"]
        for _, lines in ended
        for line in lines
        if line.get("job") == "nightly" and "night" in line
    )
    assert outcomes[0] in (
        "another scheduler or run holds it; skipped",
        "night already done; nothing to do",
    ), outcomes
    assert outcomes[1:] == ["night run finished"], outcomes
    assert runs(database_url) == [(RUN_DATE, "succeeded")]


@pytest.fixture
def night(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Night:
    """An installation with some 1,250 letters due on RUN_DATE, rendered by two worker
    processes (tests/e2e/run_checks.py)."""
    return prepared_night(request, database_url, tmp_path)


def test_sigterm_in_the_middle_of_a_night_stops_it_and_the_next_start_resumes_it(
    night: Night,
) -> None:
    """SIGTERM while the catch-up prints a large night (its render workers at work): the run
    stops at its next safe point, recorded as failed, and the process exits 0; the next start
    completes that run, and the letters are exactly those of a clean run, each once."""
    config = with_job(night.config)
    scheduler = start(config, night.database_url, "--once", "--now", NOW)
    scheduler.wait_for("catch-up: the latest night due")
    staged_volumes(night, scheduler.process, at_least=1)  # printing: not before, by a timer
    scheduler.process.send_signal(signal.SIGTERM)
    status, lines = scheduler.finish()
    assert status == 0, lines
    assert "stopped on request at a safe point; the run resumes next time" in messages(lines)
    assert messages(lines)[-1] == "stopped"
    (stopped,) = failures(night.database_url)
    assert stopped.startswith("stopped on request at print:"), stopped

    status, lines = once(config, night.database_url)
    assert status == 0, lines
    (finished,) = [line for line in lines if line["message"] == "night run finished"]
    assert finished["status"] == "ran"
    check_invariants(night, failed_attempts=1)


def test_a_fire_whose_job_cannot_be_read_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """APScheduler calls the job by name with the config's path: a config that vanished since
    the start is an error line, never an exception that APScheduler would log with its data."""
    run_scheduled_job(str(tmp_path / "config.toml"), "nightly")
    (record,) = caplog.records
    assert (record.levelname, record.name) == ("ERROR", "reminders.scheduler")
    assert record.getMessage().startswith("cannot read the job: ")
