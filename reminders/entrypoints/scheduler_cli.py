"""`reminders scheduler`: the long-running service that starts the jobs in ``jobs/`` on time.

The scheduler only starts things; correctness lives in the data. A night's run is asked for
with ``skip_if_done``: a run for that date that already succeeded makes it a no-op, whoever
asks (a second scheduler on another machine, the repeated DST hour, a restart). Two runs for
one municipality never overlap: the per-municipality lock in the database decides, and the
loser logs "busy" and does nothing. After downtime, the start-up catch-up runs the latest
night that was due, once, and the reminder rule catches up by itself.

On SIGTERM or SIGINT the running job stops at its next safe point (it is recorded as failed
and resumed next time), the scheduler shuts down, and the process exits 0. Every log line is
a JSON object (``--log-format json``) with ids, counts and NIS codes only.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from reminders.adapters.scheduling.job_files import load_jobs
from reminders.adapters.scheduling.json_logging import configure_logging
from reminders.adapters.scheduling.nightly_trigger import night_of, previous_fire_time, trigger_for
from reminders.bootstrap import nightly_job, open_engine, utc_now, verify_job
from reminders.config import Settings, load_settings
from reminders.domain.bounds import EARLIEST_DATE, LATEST_DATE, is_supported_day
from reminders.domain.nightly_job import JobService, JobSpec
from reminders.entrypoints.options import config_option, reported
from reminders.entrypoints.signals import stop_on_signals
from reminders.errors import ConfigError, MunicipalityBusyError, RemindersError, UsageError
from reminders.services.nightly_run import RunFailedError, RunInterruptedError
from reminders.services.run_control import StopSignal

log = logging.getLogger("reminders.scheduler")

# What the job store records for each job: a textual reference, resolved again at every fire,
# so the stored job never points at "__main__" (python -m) or pickles a function object.
JOB_FUNCTION = "reminders.entrypoints.scheduler_cli:run_scheduled_job"
JOB_TABLE = "scheduler_job"  # APScheduler's job store, in the installation's database
EXIT_FAILED, EXIT_BUSY = 1, 3  # as `reminders run`: 3 = another run holds a municipality

# The process's stop request: set on SIGTERM/SIGINT, checked by the running night between its
# steps and volumes. Module-level because APScheduler calls run_scheduled_job by name.
STOP = threading.Event()


class JobResult(StrEnum):
    """How one job ended, for the logs and the exit status of ``--once``."""

    RAN = "ran"
    ALREADY_DONE = "already_done"  # a run for that night had succeeded: nothing to do
    BUSY = "busy"  # another run or scheduler holds a municipality: nothing done
    STOPPED = "stopped"  # stopped on request at a safe point; resumes next time
    FAILED = "failed"  # recorded as failed with its reason; resumes next time
    INTACT = "intact"  # audit_verify: every log verified
    BROKEN = "broken"  # audit_verify: a log does not verify


@click.command()
@config_option
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="One JSON object per line (for the journal and log shippers), or plain text.",
)
@click.option(
    "--once",
    is_flag=True,
    help="Only the start-up catch-up: run the latest night that was due unless it is done, "
    "then exit (for a systemd timer). Exit 1 if a run failed, 3 if a municipality was busy.",
)
@click.option(
    "--now",
    "now_text",
    default=None,
    hidden=True,  # tests: the catch-up's "now", as an ISO 8601 time with its offset
)
def scheduler(config_path: Path, log_format: str, once: bool, now_text: str | None) -> None:
    """Run the jobs in jobs/ at their times (the unattended nights); stop on SIGTERM."""
    configure_logging(json_lines=log_format == "json")
    try:
        now = _parsed_now(now_text, once=once)
        status = serve(config_path.resolve(), once=once, now=now)
    except RemindersError as err:
        raise reported(err) from err
    if status:
        raise click.exceptions.Exit(status)


def _parsed_now(text: str | None, *, once: bool) -> datetime | None:
    if text is None:
        return None
    if not once:
        raise UsageError("--now: only with --once")
    try:
        now = datetime.fromisoformat(text)
    except ValueError as err:
        raise UsageError(f"--now: expected an ISO 8601 time, got {text!r}") from err
    if now.tzinfo is None:
        raise UsageError(f"--now: expected a time with its UTC offset, got {text!r}")
    if not is_supported_day(now.date()):
        raise UsageError(f"--now: expected a time from {EARLIEST_DATE} to {LATEST_DATE}")
    return now


def serve(config_path: Path, *, once: bool = False, now: datetime | None = None) -> int:
    """Catch up, then (unless ``once``) schedule the jobs until a stop signal; the exit status."""
    STOP.clear()
    settings = load_settings(config_path)
    jobs = load_jobs(settings)
    if not jobs:
        raise ConfigError(settings.jobs_dir, "no job files (*.toml): nothing to schedule")
    engine = open_engine(settings.database_url)  # also: has `reminders init` run?
    try:
        with stop_on_signals(STOP):
            started = now or utc_now()
            results = catch_up(jobs, settings, now=started, stop=STOP)
            if once or STOP.is_set():
                log.info("stopped" if STOP.is_set() else "catch-up done")
                return exit_status(results)
            _run_until_stopped(engine, settings, jobs, config_path, caught_up_to=started)
    finally:
        engine.dispose()
    return 0


def exit_status(results: Sequence[JobResult]) -> int:
    """0 when every job ran, was done already or was stopped on request; 1 when one failed;
    3 when one found a municipality busy (and none failed)."""
    if JobResult.FAILED in results or JobResult.BROKEN in results:
        return EXIT_FAILED
    return EXIT_BUSY if JobResult.BUSY in results else 0


def catch_up(
    jobs: Sequence[JobSpec], settings: Settings, *, now: datetime, stop: StopSignal
) -> list[JobResult]:
    """Each nightly_run job, for the latest night it was due at or before ``now``.

    This is how a scheduler that was down for days runs once at start: the night it missed
    last, asked for with skip_if_done, so a night that already succeeded costs a query. Older
    missed nights need no run of their own: the reminder rule catches up from the latest.
    """
    results: list[JobResult] = []
    for job in jobs:
        if job.service is not JobService.NIGHTLY_RUN or stop.is_set():
            continue
        fired = previous_fire_time(trigger_for(job, settings.timezone), now)
        if fired is None:
            continue
        night = night_of(fired, settings.timezone)
        log.info(
            "catch-up: the latest night due",
            extra={"job": job.id, "fired_at": fired.astimezone(UTC).isoformat(), "due": str(night)},
        )
        results.append(perform(job, settings, as_of=night, stop=stop))
    return results


def run_scheduled_job(config_path: str, job_id: str) -> None:
    """What APScheduler calls at a fire time (by JOB_FUNCTION, with plain strings only, so
    the stored job pickles and survives a restart). Never raises: a failure is logged, and a
    failed run is recorded in the database and resumed next time.

    The settings and the job file are read again, so an edited job takes effect at its next
    fire. APScheduler does not pass the fire time; the night is that of the latest fire time
    at or before now, which is this one (misfire_grace is at most a day, and coalesce keeps
    only the latest of a backlog).
    """
    fields = {"job": job_id}
    try:
        settings = load_settings(Path(config_path))
        job = next((job for job in load_jobs(settings) if job.id == job_id), None)
        if job is None:
            log.error("no file in jobs/ defines this job any more; skipped", extra=fields)
            return
        fired = previous_fire_time(trigger_for(job, settings.timezone), utc_now())
        if fired is None:  # cannot happen for a job that fired, unless its file changed since
            log.warning("no fire time due for this job; skipped", extra=fields)
            return
    except RemindersError as err:
        log.error("cannot read the job: %s", err.message, extra=fields)
        return
    except Exception as err:  # the scheduler outlives any one job
        _log_unexpected(err, fields)
        return
    perform(job, settings, as_of=night_of(fired, settings.timezone), stop=STOP)


def perform(job: JobSpec, settings: Settings, *, as_of: date, stop: StopSignal) -> JobResult:
    """Run one job for one night and log how it ended; never raises."""
    fields: dict[str, Any] = {"job": job.id, "service": job.service.value}
    try:
        if job.service is JobService.AUDIT_VERIFY:
            return _verify(job, settings, fields)
        return _night(job, settings, as_of, stop, {**fields, "night": as_of.isoformat()})
    except RemindersError as err:
        log.error("job failed: %s", err.message, extra=fields)
    except Exception as err:  # the scheduler outlives any one job
        _log_unexpected(err, fields)
    return JobResult.FAILED


def _log_unexpected(err: Exception, fields: dict[str, Any]) -> None:
    # Not str(err): database errors quote the statement's parameters, and PostgreSQL's DETAIL
    # the offending key, which may be a national number. The type and the frames say where;
    # the run's own record in the database says what.
    log.error(
        "job failed unexpectedly",
        extra={
            **fields,
            "error_type": f"{type(err).__module__}.{type(err).__qualname__}",
            "traceback": "".join(traceback.format_tb(err.__traceback__)),
        },
    )


def _night(
    job: JobSpec, settings: Settings, as_of: date, stop: StopSignal, fields: dict[str, Any]
) -> JobResult:
    try:
        outcome = nightly_job(
            settings,
            as_of=as_of,
            nis_codes=job.municipalities,
            started_by=f"scheduler:{job.id}",
            stop=stop,
            wait_seconds=0,  # a scheduler does not queue behind another: the next night comes
            skip_if_done=True,
        )
    except MunicipalityBusyError as err:
        log.warning(
            "another scheduler or run holds it; skipped", extra={**fields, "reason": err.message}
        )
        return JobResult.BUSY
    except RunInterruptedError as err:
        log.warning(
            "stopped on request at a safe point; the run resumes next time",
            extra={**fields, "reason": err.message},
        )
        return JobResult.STOPPED
    except RunFailedError as err:
        log.error(
            "run failed; recorded as failed, it resumes next time",
            extra={**fields, "reason": err.message},
        )
        return JobResult.FAILED
    resumed = list(outcome.resumed)
    if outcome.status == "already_done":
        log.info("night already done; nothing to do", extra={**fields, "resumed": resumed})
        return JobResult.ALREADY_DONE
    summary = outcome.summary
    log.info(
        "night run finished",
        extra={
            **fields,
            "status": outcome.status,
            "run_id": summary.run_id if summary else None,
            "letters": summary.letters if summary else 0,
            "volumes": len(summary.volumes) if summary else 0,
            "resumed": resumed,
        },
    )
    return JobResult.RAN


def _verify(job: JobSpec, settings: Settings, fields: dict[str, Any]) -> JobResult:
    verdicts = verify_job(settings, nis_codes=job.municipalities, verified_by=f"scheduler:{job.id}")
    for nis_code, intact in sorted(verdicts.items()):
        if intact:
            log.info("dispatch log intact", extra={**fields, "municipality": nis_code})
        else:
            log.error(
                "dispatch log does NOT verify: run `reminders audit verify --municipality %s`",
                nis_code,
                extra={**fields, "municipality": nis_code},
            )
    return JobResult.INTACT if all(verdicts.values()) else JobResult.BROKEN


def _run_until_stopped(
    engine: Engine,
    settings: Settings,
    jobs: Sequence[JobSpec],
    config_path: Path,
    *,
    caught_up_to: datetime,
) -> None:
    """Schedule the jobs, wait for a stop signal, shut down once the running job stopped."""
    background = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        # One worker: a night and a verification never run side by side in one process.
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            # A backlog of missed fire times collapses into one run: the reminder rule
            # catches up by itself, so a run per missed night would only repeat the work.
            "coalesce": True,
            # Within this process. Across processes and machines the per-municipality lock
            # in the database decides, and skip_if_done makes a second start a no-op.
            "max_instances": 1,
        },
        timezone=settings.timezone,
    )
    # Paused: the job store opens (its table is made if missing) but nothing fires before
    # the jobs below replace what an earlier start stored.
    background.start(paused=True)
    try:
        _replace_stored_jobs(background, settings, jobs, config_path, caught_up_to)
        background.resume()
        for job in jobs:
            stored = background.get_job(job.id)
            next_at = stored.next_run_time if stored is not None else None
            log.info(
                "scheduled",
                extra={
                    "job": job.id,
                    "service": job.service.value,
                    "trigger": str(stored.trigger) if stored is not None else None,
                    "municipalities": list(job.municipalities or ["all"]),
                    "next_fire_local": next_at.isoformat() if next_at else None,
                    "next_fire_utc": next_at.astimezone(UTC).isoformat() if next_at else None,
                },
            )
        log.info("started", extra={"jobs": len(jobs), "pid": os.getpid()})
        STOP.wait()  # the main thread sleeps here until SIGTERM or SIGINT
        log.info("stopping: the running job, if any, stops at its next safe point")
    finally:
        background.shutdown(wait=True)
    log.info("stopped")


def _replace_stored_jobs(
    background: BackgroundScheduler,
    settings: Settings,
    jobs: Sequence[JobSpec],
    config_path: Path,
    caught_up_to: datetime,
) -> None:
    """The job store holds exactly the jobs of ``jobs/``, due from ``caught_up_to`` on."""
    wanted = {job.id for job in jobs}
    for stored in background.get_jobs():
        if stored.id not in wanted:
            background.remove_job(stored.id)
            log.warning("removed from the job store: no file in jobs/ defines it any more",
                        extra={"job": stored.id})  # fmt: skip
    for job in jobs:
        trigger = trigger_for(job, settings.timezone)
        background.add_job(
            JOB_FUNCTION,
            trigger=trigger,
            args=[str(config_path), job.id],
            id=job.id,
            name=job.id,
            replace_existing=True,
            # A fire delayed past this (a machine asleep, a long job before it) is not run
            # late by APScheduler; the next start-up catch-up runs the night instead.
            misfire_grace_time=int(job.misfire_grace.total_seconds()),
            # The first fire after the catch-up's "now": a fire that fell while the catch-up
            # ran is still due (and run at once), one the catch-up covered is not run twice.
            next_run_time=trigger.get_next_fire_time(
                previous_fire_time(trigger, caught_up_to), caught_up_to
            ),
        )


if __name__ == "__main__":
    # Through the package's own module, not this "__main__" copy: STOP must be the event the
    # job store's JOB_FUNCTION reference resolves to.
    from reminders.entrypoints.scheduler_cli import scheduler as command

    command()
