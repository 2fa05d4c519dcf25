"""jobs/*.toml: the repository's jobs load, defaults come from config.toml, and each mistake
is a ConfigError naming the file, the line and the key."""

from __future__ import annotations

import shutil
from datetime import time, timedelta
from pathlib import Path

import pytest

from reminders.adapters.scheduling.job_files import load_jobs
from reminders.config import Settings, load_settings
from reminders.domain.nightly_job import JobService, JobSpec
from reminders.errors import ConfigError
from tests.conftest import REPO

GOOD = """\
[job]
service = "nightly_run"
municipalities = ["44021", "21004"]
at = "02:30"
day_of_week = "mon-fri"
misfire_grace = "30 minutes"
"""


@pytest.fixture
def settings(config_file: Path) -> Settings:
    """The example config, with an empty jobs/ beside it."""
    (config_file.parent / "jobs").mkdir()
    return load_settings(config_file, environ={})


def write(settings: Settings, name: str, text: str) -> Path:
    path = settings.jobs_dir / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_repository_jobs_load(settings: Settings) -> None:
    """jobs/nightly.toml runs every municipality at nightly_at; jobs/verify.toml on Sundays."""
    for path in (REPO / "jobs").glob("*.toml"):
        shutil.copy(path, settings.jobs_dir)
    assert load_jobs(settings) == (
        JobSpec(
            id="nightly",
            service=JobService.NIGHTLY_RUN,
            municipalities=None,
            at=settings.nightly_at,
            day_of_week="*",
            misfire_grace=timedelta(hours=1),
            description="Tonight's reminder letters, every municipality",
        ),
        JobSpec(
            id="verify",
            service=JobService.AUDIT_VERIFY,
            municipalities=None,
            at=time(5, 0),
            day_of_week="sun",
            misfire_grace=timedelta(hours=6),
            description="Weekly check that the dispatch logs verify",
        ),
    )


def test_every_key_is_read(settings: Settings) -> None:
    """The id defaults to the file's name; the rest is as written."""
    write(settings, "gent-brussels.toml", GOOD)
    (job,) = load_jobs(settings)
    assert job == JobSpec(
        id="gent-brussels",
        service=JobService.NIGHTLY_RUN,
        municipalities=("44021", "21004"),
        at=time(2, 30),
        day_of_week="mon-fri",
        misfire_grace=timedelta(minutes=30),
    )
    assert job.covers("44021")
    assert not job.covers("63023")


@pytest.mark.parametrize(
    ("grace", "expected"),
    [("7200", timedelta(hours=2)), ('"1 hour"', timedelta(hours=1)),
     ('"90 seconds"', timedelta(seconds=90)), ('"24 hours"', timedelta(days=1))],
)  # fmt: skip
def test_misfire_grace_in_words_or_seconds(
    settings: Settings, grace: str, expected: timedelta
) -> None:
    """Seconds as a number, or a count of seconds, minutes or hours."""
    write(settings, "n.toml", f'[job]\nservice = "nightly_run"\nmunicipalities = "all"\n'
                              f"misfire_grace = {grace}\n")  # fmt: skip
    assert load_jobs(settings)[0].misfire_grace == expected


def test_no_files_no_jobs(settings: Settings) -> None:
    """An empty folder holds no jobs (the scheduler refuses to start with none)."""
    (settings.jobs_dir / "README.md").write_text("not a job", encoding="utf-8")
    assert load_jobs(settings) == ()


def test_a_missing_folder_is_a_config_error(settings: Settings) -> None:
    """The folder is named."""
    settings.jobs_dir.rmdir()
    with pytest.raises(ConfigError, match="no such directory") as caught:
        load_jobs(settings)
    assert caught.value.path == settings.jobs_dir


@pytest.mark.parametrize(
    ("old", "new", "key", "line", "problem"),
    [
        ('service = "nightly_run"', 'service = "nightly"', "job.service", 2,
         "expected one of nightly_run, audit_verify, got 'nightly'"),
        ('service = "nightly_run"', "", "job.service", 1, "missing required key"),
        ('municipalities = ["44021", "21004"]', 'municipalities = ["44021", "99999"]',
         "job.municipalities", 3,
         "'99999' is not a configured municipality (known: 21004, 44021, 63023)"),
        ('municipalities = ["44021", "21004"]', 'municipalities = "every"',
         "job.municipalities", 3,
         "expected \"all\" or a non-empty list of NIS codes like [\"44021\"], got 'every'"),
        ('municipalities = ["44021", "21004"]', "municipalities = []", "job.municipalities", 3,
         "expected \"all\" or a non-empty list of NIS codes like [\"44021\"], got []"),
        ('municipalities = ["44021", "21004"]', 'municipalities = ["44021", "44021"]',
         "job.municipalities", 3, "a NIS code is listed twice"),
        ('municipalities = ["44021", "21004"]', "", "job.municipalities", 1,
         "missing required key"),
        ('at = "02:30"', 'at = "2:30"', "job.at", 4,
         "expected a local time like \"01:30\", got '2:30'"),
        ('at = "02:30"', "at = 230", "job.at", 4, "expected a string, got 230"),
        ('day_of_week = "mon-fri"', 'day_of_week = "monday"', "job.day_of_week", 5,
         "expected a cron day of week like \"*\", \"sun\" or \"mon-fri\", got 'monday'"),
        ('misfire_grace = "30 minutes"', 'misfire_grace = "half an hour"',
         "job.misfire_grace", 6,
         "expected a duration like \"1 hour\", \"30 minutes\" or a number of seconds, "
         "got 'half an hour'"),
        ('misfire_grace = "30 minutes"', "misfire_grace = 0", "job.misfire_grace", 6,
         "must be from 1 second to 24 hours, got 0"),
        ('misfire_grace = "30 minutes"', 'misfire_grace = "2 days"', "job.misfire_grace", 6,
         "expected a duration like \"1 hour\", \"30 minutes\" or a number of seconds, "
         "got '2 days'"),
        ('misfire_grace = "30 minutes"', "misfire_grace = true", "job.misfire_grace", 6,
         "expected a duration like \"1 hour\", \"30 minutes\" or a number of seconds, "
         "got True"),
        ('at = "02:30"', 'at = "02:30"\nwhen = "nightly"', "job.when", 5,
         "unknown key (expected one of id, service, municipalities, at, day_of_week, "
         "misfire_grace, description)"),
        ("[job]\n", '[job]\nid = "Nightly Run"\n', "job.id", 2,
         "expected a lower-case word like \"nightly\", got 'Nightly Run'"),
        ("[job]\n", '[job]\nid = "a-job-id-longer-than-thirty-chars"\n', "job.id", 2,
         "expected a lower-case word like \"nightly\", got 'a-job-id-longer-than-thirty-chars'"),
        ("[job]\n", "[jobs]\n", "jobs", 1, "unknown key (a job file holds one [job] table)"),
        ("[job]\n", '[job]\ndescription = 3\n', "job.description", 2,
         "expected a string, got 3"),
    ],
)  # fmt: skip
def test_each_mistake_names_file_line_and_key(
    settings: Settings, old: str, new: str, key: str, line: int, problem: str
) -> None:
    """The message reads ``<file>:<line>: <key>: <problem>``."""
    assert old in GOOD
    path = write(settings, "nightly.toml", GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_jobs(settings)
    assert (caught.value.path, caught.value.key, caught.value.line) == (path, key, line)
    assert caught.value.message == f"{path}:{line}: {key}: {problem}"


def test_a_file_without_a_job_table(settings: Settings) -> None:
    """An empty file is missing its [job] table."""
    path = write(settings, "empty.toml", "")
    with pytest.raises(ConfigError) as caught:
        load_jobs(settings)
    assert caught.value.message == f"{path}: job: missing required table"


def test_toml_syntax_errors_give_the_line(settings: Settings) -> None:
    """tomllib's own line and column."""
    path = write(settings, "broken.toml", '[job]\nservice = "nightly_run\n')
    with pytest.raises(ConfigError, match=r"not valid TOML: .*\(at line 2") as caught:
        load_jobs(settings)
    assert caught.value.path == path


def test_two_files_with_one_id(settings: Settings) -> None:
    """The second file is named, and the first in the message."""
    first = write(settings, "a.toml", '[job]\nid = "nightly"\n' + GOOD.removeprefix("[job]\n"))
    second = write(settings, "b.toml", '[job]\nid = "nightly"\n' + GOOD.removeprefix("[job]\n"))
    with pytest.raises(ConfigError) as caught:
        load_jobs(settings)
    assert caught.value.message == f"{second}:2: job.id: job id 'nightly' is also used by {first}"
