"""`reminders status`: how the nights are going, for a person or a monitor (exit 1 when
something needs looking at)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from reminders.adapters.db.dispatch_log_store import DispatchLogStore
from reminders.adapters.db.status_store import municipality_states, run_alive
from reminders.adapters.printing.log_folder import LogFolders
from reminders.adapters.scheduling.job_files import load_jobs
from reminders.adapters.scheduling.nightly_trigger import night_of, previous_fire_time, trigger_for
from reminders.bootstrap import key_ring, open_engine
from reminders.config import Settings, load_settings
from reminders.domain.nightly_job import JobService
from reminders.domain.run_health import MunicipalityState, Schedule, due_night
from reminders.entrypoints.options import config_option
from reminders.errors import ConfigError
from reminders.services.publish_log import published_state


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the state as one JSON object.")
def status(config_path: Path, as_json: bool) -> None:
    """Per municipality: the last run and its outcome, the next scheduled run, letters
    waiting, the newest signed checkpoint and its last verification. Exit 1 when something
    needs looking at (a failed or unfinished run, a night not run, a log that failed
    verification), 0 otherwise."""
    settings = load_settings(config_path)
    now = datetime.now(UTC)
    nis_codes = [m.nis_code for m in settings.municipalities]
    engine = open_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            states = municipality_states(connection, nis_codes)
            for state in states.values():
                run = state.last_run
                if run is not None and run.outcome == "running":
                    state.run_alive = run_alive(connection, run.run_id)
            _add_published(settings, states, DispatchLogStore(connection))
    finally:
        engine.dispose()
    _add_schedules(settings, states, now)
    for state in states.values():
        state.evaluated()
    healthy = all(not state.problems for state in states.values())
    if as_json:
        document = {
            "healthy": healthy,
            "checked_at": now.isoformat(),
            "municipalities": {nis: state.as_json() for nis, state in states.items()},
        }
        click.echo(json.dumps(document, ensure_ascii=False))
    else:
        names = {m.nis_code: m.name for m in settings.municipalities}
        for nis, state in states.items():
            _echo_state(state, names[nis], settings)
        click.echo("All well." if healthy else "Something needs looking at (exit 1).")
    if not healthy:
        sys.exit(1)


def _add_published(
    settings: Settings, states: dict[str, MunicipalityState], store: DispatchLogStore
) -> None:
    """Whether each municipality's database log is behind its log published in the output
    folder (a database restored from a backup): no run starts until `reminders recover`."""
    try:
        keys = key_ring(settings)
    except ConfigError as err:
        for state in states.values():
            state.behind_published = f"the published log cannot be checked: {err.message}"
        return
    logs = LogFolders(settings.output_dir)
    for nis, state in states.items():
        state.behind_published = published_state(nis, store, logs.log(nis), keys).problem


def _add_schedules(settings: Settings, states: dict[str, MunicipalityState], now: datetime) -> None:
    """The nightly job covering each municipality: its next fire time and the night it should
    have run by now. No jobs directory: nothing is scheduled, so nothing is overdue."""
    if not settings.jobs_dir.is_dir():
        return
    nightly = [job for job in load_jobs(settings) if job.service is JobService.NIGHTLY_RUN]
    for nis, state in states.items():
        job = next((job for job in nightly if job.covers(nis)), None)
        if job is None:
            continue
        trigger = trigger_for(job, settings.timezone)
        previous = previous_fire_time(trigger, now)
        night = night_of(previous, settings.timezone) if previous else None
        state.schedule = Schedule(
            job.id,
            trigger.get_next_fire_time(None, now),
            due_night(previous, night, job.misfire_grace, now),
        )


def _echo_state(state: MunicipalityState, name: str, settings: Settings) -> None:
    tz = settings.timezone
    click.echo(f"{state.nis_code} {name}: {'ok' if not state.problems else 'NEEDS ATTENTION'}")
    run = state.last_run
    if run is None:
        click.echo("  last run: none yet")
    else:
        ended = (
            f", finished {run.finished_at.astimezone(tz):%Y-%m-%d %H:%M}" if run.finished_at else ""
        )
        started = f"started {run.started_at.astimezone(tz):%Y-%m-%d %H:%M}"
        click.echo(
            f"  last run: {run.run_id} for {run.as_of}, {run.outcome} (after step {run.step}), "
            f"{run.letters:,} letters in the run, {started}{ended}"
        )
    if state.schedule and state.schedule.next_run:
        click.echo(
            f"  next run: {state.schedule.next_run.astimezone(tz):%Y-%m-%d %H:%M %Z} "
            f"(job {state.schedule.job_id})"
        )
    click.echo(f"  letters waiting: {state.letters_waiting:,}")
    if state.checkpoint:
        signed = state.checkpoint.signed_at
        when = f", signed {signed.astimezone(tz):%Y-%m-%d %H:%M}" if signed else ""
        click.echo(f"  newest checkpoint: {state.checkpoint.tree_size:,} entries{when}")
    verified = state.verification
    if verified:
        verdict = "intact" if verified.intact else "BROKEN"
        click.echo(
            f"  last verified: {verified.verified_at.astimezone(tz):%Y-%m-%d %H:%M}, "
            f"{verified.tree_size:,} entries, {verdict}"
        )
    else:
        click.echo("  last verified: never (`reminders audit verify`)")
    for problem in state.problems:
        click.echo(f"  ! {problem}")
