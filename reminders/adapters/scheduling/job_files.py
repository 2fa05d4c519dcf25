"""``jobs/*.toml`` → JobSpecs: the scheduler's jobs as data, one file each (jobs/README.md).

Like config.toml, every problem is a ConfigError naming the file, the key (``job.at``) and,
when it can be told, the line; nothing unknown is silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from reminders.config import Settings
from reminders.domain.nightly_job import DEFAULT_MISFIRE_GRACE, JobService, JobSpec
from reminders.errors import ConfigError

TABLE = "job"
_KEYS = ("id", "service", "municipalities", "at", "day_of_week", "misfire_grace", "description")
# A job's id is its key in the job store and a word in every log line; its runs are started
# by "scheduler:<id>", which nightly_run.started_by (40 characters) must hold.
_JOB_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DURATION = re.compile(r"^(\d{1,6})\s*(second|minute|hour)s?$")
# A fire more than a day late is not "late" any more: the next night, or the start-up
# catch-up, which asks the data rather than the clock, takes over.
_MAX_GRACE = timedelta(hours=24)


def load_jobs(settings: Settings) -> tuple[JobSpec, ...]:
    """Every job in ``settings.jobs_dir``, in file-name order; job ids are unique."""
    directory = settings.jobs_dir
    if not directory.is_dir():
        raise ConfigError(directory, "no such directory (see [schedule] jobs in config.toml)")
    jobs: list[JobSpec] = []
    files: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        job = load_job_file(path, settings)
        if job.id in files:
            raise _with_line(
                path,
                ConfigError(
                    path, f"job id {job.id!r} is also used by {files[job.id]}", key=f"{TABLE}.id"
                ),
            )
        files[job.id] = path
        jobs.append(job)
    return tuple(jobs)


def load_job_file(path: Path, settings: Settings) -> JobSpec:
    """One job file, checked against the configured municipalities."""
    try:
        document = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as err:
        raise ConfigError(path, f"cannot be read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(path, "is not UTF-8 text") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, f"not valid TOML: {err}") from err
    try:
        return _job(path, document, settings)
    except ConfigError as err:
        raise _with_line(path, err) from err


def _job(path: Path, document: dict[str, Any], settings: Settings) -> JobSpec:
    for name in document:
        if name != TABLE:
            raise ConfigError(path, f"unknown key (a job file holds one [{TABLE}] table)", key=name)
    table = document.get(TABLE)
    if not isinstance(table, dict):
        problem = "missing required table" if table is None else "expected a table"
        raise ConfigError(path, problem, key=TABLE)
    for name in table:
        if name not in _KEYS:
            raise _error(path, name, f"unknown key (expected one of {', '.join(_KEYS)})")

    job_id = _text(path, table, "id", default=path.stem)
    if not _JOB_ID.match(job_id):
        raise _error(path, "id", f'expected a lower-case word like "nightly", got {job_id!r}')
    service_name = _text(path, table, "service")
    try:
        service = JobService(service_name)
    except ValueError as err:
        allowed = ", ".join(service.value for service in JobService)
        raise _error(path, "service", f"expected one of {allowed}, got {service_name!r}") from err
    day_of_week = _text(path, table, "day_of_week", default="*")
    try:
        CronTrigger(day_of_week=day_of_week, timezone=settings.timezone)
    except ValueError as err:
        problem = f'expected a cron day of week like "*", "sun" or "mon-fri", got {day_of_week!r}'
        raise _error(path, "day_of_week", problem) from err
    return JobSpec(
        id=job_id,
        service=service,
        municipalities=_municipalities(path, table, settings),
        at=_clock(path, table, settings.nightly_at),
        day_of_week=day_of_week,
        misfire_grace=_grace(path, table),
        description=_text(path, table, "description", default=""),
    )


def _text(path: Path, table: dict[str, Any], name: str, *, default: str | None = None) -> str:
    value = table.get(name, default)
    if value is None:
        raise _error(path, name, "missing required key")
    if not isinstance(value, str):
        raise _error(path, name, f"expected a string, got {value!r}", value)
    if not value.strip() and name != "description":
        raise _error(path, name, "must not be empty", value)
    return value


def _municipalities(
    path: Path, table: dict[str, Any], settings: Settings
) -> tuple[str, ...] | None:
    value = table.get("municipalities")
    if value == "all":
        return None  # every configured municipality, also those added later
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        expected = 'expected "all" or a non-empty list of NIS codes like ["44021"]'
        problem = "missing required key" if value is None else f"{expected}, got {value!r}"
        raise _error(path, "municipalities", problem, value)
    known = {m.nis_code for m in settings.municipalities}
    for nis_code in value:
        if nis_code not in known:
            listed = ", ".join(sorted(known))
            problem = f"{nis_code!r} is not a configured municipality (known: {listed})"
            raise _error(path, "municipalities", problem, value)
    if len(set(value)) != len(value):
        raise _error(path, "municipalities", "a NIS code is listed twice", value)
    return tuple(value)


def _clock(path: Path, table: dict[str, Any], default: time) -> time:
    if "at" not in table:
        return default  # [schedule] nightly_at of config.toml
    value = _text(path, table, "at")
    match = _CLOCK.match(value)
    if match is None:
        raise _error(path, "at", f'expected a local time like "01:30", got {value!r}', value)
    return time(int(match[1]), int(match[2]))


def _grace(path: Path, table: dict[str, Any]) -> timedelta:
    value = table.get("misfire_grace")
    if value is None:
        return DEFAULT_MISFIRE_GRACE
    expected = 'expected a duration like "1 hour", "30 minutes" or a number of seconds'
    if isinstance(value, int) and not isinstance(value, bool):
        grace = timedelta(seconds=value)
    elif isinstance(value, str) and (match := _DURATION.match(value.strip())):
        grace = timedelta(**{f"{match[2]}s": int(match[1])})
    else:
        raise _error(path, "misfire_grace", f"{expected}, got {value!r}", value)
    if not timedelta(seconds=1) <= grace <= _MAX_GRACE:
        raise _error(path, "misfire_grace", f"must be from 1 second to 24 hours, got {value!r}")
    return grace


def _error(path: Path, name: str, problem: str, value: object = None) -> ConfigError:
    return ConfigError(path, problem, key=f"{TABLE}.{name}", value=value)


def _with_line(path: Path, err: ConfigError) -> ConfigError:
    """The error with the line of its key, when the file can tell (tomllib keeps no lines)."""
    if err.key is None or err.line is not None:
        return err
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return err
    line = _line_of(lines, err.key)
    if line is None:
        return err
    return ConfigError(path, err.problem, key=err.key, line=line, value=err.value)


def _line_of(lines: Sequence[str], key: str) -> int | None:
    """The line (1-based) of ``job.name`` in a job file: ``name = ...`` after ``[job]``, or
    the ``[job]`` header for a missing key."""
    table, _, name = key.partition(".")
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
    start = next((n for n, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return None
    assignment = re.compile(rf"^\s*{re.escape(name)}\s*=") if name else None
    for number in range(start + 1, len(lines)):
        if lines[number].lstrip().startswith("["):
            break
        if assignment is not None and assignment.match(lines[number]):
            return number + 1
    return start + 1
