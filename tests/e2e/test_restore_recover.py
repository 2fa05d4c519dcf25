"""Exactly once across a restored backup (issue 20), on SQLite and PostgreSQL: an installation
runs three nights; its database is restored from the backup taken after the first; `run`, the
scheduler and `status` refuse to go on and name `reminders recover`; recover restores from the
published logs what the backup lacks; the third night run again and a later one then send
every due letter in exactly one published manifest, no reference on two letters, and every
checkpoint file published before the restore still verifies. `recover` stopped at each of its
steps (and once by SIGKILL) and run again ends exactly as an uninterrupted one; a published log
that does not verify is refused and nothing changes.

The installation is built once per backend and test session (three nights take seconds) and
put back for each test at the same place: volume paths in the log are absolute. Synthetic
registry only (tests/e2e/test_print_volumes.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.console import Console
from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import (
    AuditCheckpointRow,
    AuditEntryRow,
    AuditSubjectRow,
    DecisionRow,
    DocumentRow,
    LetterRow,
    NightlyRunRow,
    PrintVolumeRow,
    RunAttemptRow,
)
from reminders.adapters.printing.log_folder import LogFolders
from reminders.adapters.printing.print_volume import VolumeFolder
from reminders.bootstrap import key_ring, unit_of_work, utc_now
from reminders.config import load_settings
from reminders.entrypoints.cli import main
from reminders.entrypoints.run_watch import recovering
from reminders.services.recover_log import recover
from reminders.services.run_control import RunControl
from tests.conftest import REPO
from tests.e2e.run_checks import (
    _new_pg_schema,
    backend,
    provision,
    times_stored_as_runs_store_them,
)
from tests.e2e.test_print_volumes import registry_files

NIGHTS = ("2027-03-01", "2027-04-20", "2027-05-15")  # first stages; licences' second; eIDs'
LATER = "2027-06-03"  # the licences' expired stage
NIS_CODES = ("21004", "44021", "63023")
REMINDERS = str(Path(sys.executable).parent / "reminders")


def cli(config: Path, database_url: str, *args: str) -> Result:
    words = 2 if args[0] == "audit" else 1
    return CliRunner().invoke(
        main,
        [*args[:words], "--config", str(config), *args[words:]],
        env={"REMINDERS_DATABASE_URL": database_url, "REMINDERS_KILL_AT": None},
        catch_exceptions=False,
    )


def ok(config: Path, database_url: str, *args: str) -> str:
    result = cli(config, database_url, *args)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def new_installation(folder: Path, database_url: str) -> Path:
    """config.toml in ``folder`` (its output and keys beside it), the database initialised
    and the registry imported."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = text.replace('templates = "templates/letters"',
                        f'templates = "{REPO / "templates" / "letters"}"')  # fmt: skip
    assert "workers = 0 " in text
    text = text.replace("workers = 0 ", "workers = 1 ")  # a few letters: no worker to start
    config = folder / "config.toml"
    config.write_text(text, encoding="utf-8")
    persons, documents = registry_files()
    (folder / "persons.csv").write_text(persons, encoding="utf-8")
    (folder / "documents.csv").write_text(documents, encoding="utf-8")
    ok(config, database_url, "init")
    for kind in ("persons", "documents"):
        ok(config, database_url, "import", kind, str(folder / f"{kind}.csv"))
    return config


def output(config: Path) -> Path:
    return load_settings(config, environ={}).output_dir


@dataclass(frozen=True, slots=True)
class Installation:
    """Three nights run; the backup of the first; the output and keys as the third left them."""

    config: Path
    backup_url: str  # the database as it was after the first night
    pristine: Path  # a copy of the installation's var/ (output and keys) after the third
    checkpoints: tuple[Path, ...]  # every checkpoint file published before the restore

    @property
    def var(self) -> Path:
        return self.config.parent / "var"


_INSTALLATIONS: dict[tuple[str, Path], Installation] = {}
_REFERENCES: dict[tuple[str, Path], dict[str, Any]] = {}


def installation(request: pytest.FixtureRequest, kind: str) -> Installation:
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    key = (kind, factory.getbasetemp())
    if key not in _INSTALLATIONS:
        folder = factory.mktemp(f"installation-{kind}")
        if kind == "sqlite":
            main_url = f"sqlite:///{folder / 'main.sqlite3'}"
        else:
            main_url = _new_pg_schema(request.getfixturevalue("pg_database"), "main")
        config = new_installation(folder, main_url)
        ok(config, main_url, "run", "--date", NIGHTS[0])
        if kind == "sqlite":  # the documented way: `reminders backup`
            ok(config, main_url, "backup", "--to", str(folder / "night-1.sqlite3"))
            backup_url = f"sqlite:///{folder / 'night-1.sqlite3'}"
        else:  # what pg_dump and pg_restore give: the schema's rows, sequences included
            backup_url = _new_pg_schema(request.getfixturevalue("pg_database"), "backup")
            provision(main_url, config, backup_url)
        for night in NIGHTS[1:]:
            ok(config, main_url, "run", "--date", night)
        pristine = factory.mktemp(f"pristine-{kind}")
        shutil.copytree(folder / "var", pristine / "var")
        files = tuple(sorted(output(config).glob("*/*-run-*/checkpoint-*.txt")))
        _INSTALLATIONS[key] = Installation(config, backup_url, pristine / "var", files)
    return _INSTALLATIONS[key]


def restored(request: pytest.FixtureRequest, database_url: str) -> Installation:
    """The installation with its output and keys as after the third night, and the database
    at ``database_url`` restored from the backup of the first."""
    made = installation(request, backend(database_url))
    shutil.rmtree(made.var)
    shutil.copytree(made.pristine, made.var)
    provision(made.backup_url, made.config, database_url)
    return made


def due_letters(request: pytest.FixtureRequest) -> Counter[tuple[str, str]]:
    """(document, stage) of every letter an installation never restored sends over the four
    nights: each once."""
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    key = ("letters", factory.getbasetemp())
    if key not in _REFERENCES:
        folder = factory.mktemp("never-restored")
        url = f"sqlite:///{folder / 'straight.sqlite3'}"
        config = new_installation(folder, url)
        for night in (*NIGHTS, LATER):
            ok(config, url, "run", "--date", night)
        _REFERENCES[key] = {"letters": manifest_letters(output(config))[0]}
    letters: Counter[tuple[str, str]] = _REFERENCES[key]["letters"]
    return letters


def manifest_letters(out: Path) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """What the print room has: (document, stage) and reference of every letter in every
    published manifest."""
    letters: Counter[tuple[str, str]] = Counter()
    references: Counter[str] = Counter()
    for manifest in out.glob("*/*-run-*/volume-*.json"):
        for entry in json.loads(manifest.read_text(encoding="utf-8"))["entries"]:
            letters[(entry["document_number"], entry["stage"])] += 1
            references[entry["reference"]] += 1
    return letters, references


# -- the scenario of the issue -------------------------------------------------------------------


def test_a_restored_database_is_refused_then_recovered_and_every_letter_goes_once(
    request: pytest.FixtureRequest, database_url: str
) -> None:
    made = restored(request, database_url)
    config, out = made.config, output(made.config)
    due = due_letters(request)
    assert {stage for _, stage in due} >= {"first", "second", "expired"}

    refused = cli(config, database_url, "run", "--date", NIGHTS[2])
    assert refused.exit_code == 1, refused.output
    message = refused.output.replace("\n  ", " ")
    assert "reminders recover" in message
    for nis in NIS_CODES:
        assert f"dispatch log of {nis} in the database has" in message
    assert "Nothing was done" in refused.output or "nothing was done" in refused.output
    status = cli(config, database_url, "status")
    assert status.exit_code == 1, status.output
    assert "needs a person" in status.output
    assert "reminders recover" in status.output
    scheduled = _scheduler_once(made, database_url)
    assert scheduled.returncode == 1, scheduled.stdout + scheduled.stderr
    assert "reminders recover" in scheduled.stdout + scheduled.stderr
    assert manifest_letters(out)[0] == Counter(  # nothing was printed by the refused runs
        manifest_letters(made.pristine / "out")[0]
    )

    recovered = ok(config, database_url, "recover")
    assert "runs 2, 3" in recovered
    assert "Runs published again and recorded as succeeded: 2, 3." in recovered
    assert "Run ids continue after 3." in recovered
    again = ok(config, database_url, "recover")
    assert again.count("nothing to recover") == 3
    ok(config, database_url, "status")  # exit 0: all well
    assert times_stored_as_runs_store_them(database_url, "decision", "recorded_at")

    third = json.loads(ok(config, database_url, "run", "--date", NIGHTS[2], "--json"))
    later = json.loads(ok(config, database_url, "run", "--date", LATER, "--json"))
    assert (third["run_id"], later["run_id"]) == (4, 5)
    assert third["letters"] == 0  # the third night's letters were restored: none again

    letters, references = manifest_letters(out)
    assert letters == due, "every due letter in exactly one published manifest"
    assert [ref for ref, n in references.items() if n > 1] == [], "a reference on two letters"
    kept = [arg for path in made.checkpoints for arg in ("--checkpoint", str(path))]
    verified = ok(config, database_url, "audit", "verify", *kept)
    assert verified.count(": intact") == 3
    assert ok(config, database_url, "audit", "verify", "--from", str(out)).count(": intact") == 3


def _scheduler_once(made: Installation, database_url: str) -> subprocess.CompletedProcess[str]:
    """`reminders scheduler --once` at the third night, as a timer would start it."""
    jobs = made.config.parent / "jobs"
    jobs.mkdir(exist_ok=True)
    (jobs / "nightly.toml").write_text(
        '[job]\nid = "nightly"\nservice = "nightly_run"\nmunicipalities = "all"\n', encoding="utf-8"
    )
    env = {**os.environ, "REMINDERS_DATABASE_URL": database_url}
    env.pop("REMINDERS_KILL_AT", None)
    return subprocess.run(  # noqa: S603 - our own command
        [REMINDERS, "scheduler", "--config", str(made.config), "--once", "--log-format", "text",
         "--now", f"{NIGHTS[2]}T01:45:00+02:00"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_published_log_that_does_not_verify_is_refused_and_nothing_changes(
    request: pytest.FixtureRequest, database_url: str
) -> None:
    """One of Gent's published tiles changed: recover exits 2 naming it; the database is as
    restored (a run is still refused)."""
    made = restored(request, database_url)
    tile = next((output(made.config) / "44021" / "log" / "tile" / "0").rglob("*"))
    while tile.is_dir():
        tile = next(tile.iterdir())
    data = bytearray(tile.read_bytes())
    data[0] ^= 1
    tile.write_bytes(bytes(data))
    before = state_of(made, database_url)
    result = cli(made.config, database_url, "recover", "--municipality", "44021")
    assert result.exit_code == 2, result.output
    assert "does not verify" in result.output
    assert tile.name in result.output
    assert state_of(made, database_url) == before
    assert cli(made.config, database_url, "run", "--date", NIGHTS[2]).exit_code == 1


def test_recover_on_a_terminal_shows_the_entries_checked_of_each_log(
    request: pytest.FixtureRequest, database_url: str
) -> None:
    """Recover tells, after each bundle of a published log, how many of its entries it has
    checked; `reminders recover` draws a bar of it on a terminal, and nothing elsewhere."""
    made = restored(request, database_url)
    settings = load_settings(made.config, environ={})
    told: list[tuple[str, int, int]] = []
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    engine = make_engine(database_url)
    try:
        with recovering(console=terminal) as bar:
            assert bar is not None

            def both(nis: str, checked: int, published: int) -> None:
                told.append((nis, checked, published))
                bar(nis, checked, published)

            result = recover(
                NIS_CODES,
                unit_of_work(engine, write_locked=True),
                LogFolders(settings.output_dir),
                key_ring(settings),
                VolumeFolder(settings.output_dir, settings.print_options.pickup_dir),
                now=utc_now,
                control=RunControl(),
                worker="test",
                progress=both,
            )
    finally:
        engine.dispose()
    for recovered in result.logs:
        mine = [(checked, published) for nis, checked, published in told
                if nis == recovered.municipality_nis]  # fmt: skip
        assert mine, recovered.municipality_nis
        assert mine[-1] == (recovered.published, recovered.published)
        assert [checked for checked, _ in mine] == sorted(checked for checked, _ in mine)
        assert f"Recovering the log of {recovered.municipality_nis}" in screen.getvalue()
    assert "entries" in screen.getvalue()
    with recovering(console=Console(file=io.StringIO())) as quiet:
        assert quiet is None  # off a terminal (a pipe, cron): no bar


# -- recover stopped anywhere ----------------------------------------------------------------------


def state_of(made: Installation, database_url: str) -> dict[str, Any]:
    """What recovering must leave the same however often it is stopped: the log, the runs,
    decisions, letters and volumes by what names them (not by surrogate ids), and every file
    of the output folder by its SHA-256."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:

            def rows(*columns: Any, join: Any = None) -> list[tuple[Any, ...]]:
                query = select(*columns)
                if join is not None:
                    query = query.select_from(join)
                return sorted(
                    (tuple(row) for row in connection.execute(query)),
                    key=lambda row: tuple(str(value) for value in row),
                )

            decided = DecisionRow.__table__.join(
                DocumentRow.__table__, DocumentRow.id == DecisionRow.document_id
            )
            found = {
                "entries": rows(AuditEntryRow.municipality_nis, AuditEntryRow.seq,
                                AuditEntryRow.entry_hash),
                "subjects": rows(AuditSubjectRow.municipality_nis, AuditSubjectRow.seq),
                "checkpoints": rows(AuditCheckpointRow.municipality_nis,
                                    AuditCheckpointRow.tree_size, AuditCheckpointRow.run_id,
                                    AuditCheckpointRow.note, AuditCheckpointRow.frontier),
                "runs": rows(NightlyRunRow.id, NightlyRunRow.as_of, NightlyRunRow.municipalities,
                             NightlyRunRow.step, NightlyRunRow.outcome, NightlyRunRow.letters,
                             NightlyRunRow.skips, NightlyRunRow.failure),
                "attempts": rows(RunAttemptRow.run_id, RunAttemptRow.attempt,
                                 RunAttemptRow.started_by, RunAttemptRow.outcome,
                                 RunAttemptRow.step),
                "decisions": rows(DecisionRow.run_id, DecisionRow.municipality_nis,
                                  DocumentRow.number, DecisionRow.stage, DecisionRow.reason,
                                  DecisionRow.final, DecisionRow.language, join=decided),
                "letters": rows(LetterRow.reference, DocumentRow.number, DecisionRow.stage,
                                PrintVolumeRow.path, LetterRow.first_page, LetterRow.page_count,
                                join=LetterRow.__table__.join(decided).join(
                                    PrintVolumeRow.__table__,
                                    PrintVolumeRow.id == LetterRow.volume_id)),
                "volumes": rows(PrintVolumeRow.run_id, PrintVolumeRow.path, PrintVolumeRow.sha256,
                                PrintVolumeRow.letters, PrintVolumeRow.sequence),
            }  # fmt: skip
    finally:
        engine.dispose()
    out = output(made.config)
    found["files"] = sorted(
        (str(path.relative_to(out)), hashlib.sha256(path.read_bytes()).hexdigest())
        for path in out.rglob("*")
        if path.is_file()
    )
    return found


def reference_state(request: pytest.FixtureRequest, kind: str) -> dict[str, Any]:
    """The state an uninterrupted `reminders recover` leaves (once per backend, on a
    database of its own)."""
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    key = (kind, factory.getbasetemp())
    if key not in _REFERENCES:
        if kind == "sqlite":
            url = f"sqlite:///{factory.mktemp('recovered') / 'recovered.sqlite3'}"
        else:
            url = _new_pg_schema(request.getfixturevalue("pg_database"), "recovered")
        made = restored(request, url)
        ok(made.config, url, "recover")
        _REFERENCES[key] = state_of(made, url)
    return _REFERENCES[key]


class StoppedHereError(Exception):
    """Raised where the test stops `recover`, as a kill would (nothing after it runs)."""


class StopAt(RunControl):
    """A RunControl that raises at the n-th time ``point`` is reached."""

    def __init__(self, point: str) -> None:
        super().__init__()
        name, _, nth = point.partition("#")
        self.target, self.nth, self.count = name, int(nth or 1), 0

    def reached(self, point: str) -> None:
        super().reached(point)
        if point == self.target:
            self.count += 1
            if self.count == self.nth:
                raise StoppedHereError(point)


RECOVER_POINTS = (
    "recover:verified#2",  # the second municipality's log checked, nothing of it written
    "recover:appended#1",  # entries appended, not committed
    "recover:restored#2",  # what they record restored too, not committed
    "recover:committed#3",  # every log committed; no run published again yet
    "publish:renamed#2",  # publishing a restored run again: its volumes being renamed
    "recover:run-published#1",  # one restored run published again, the other not
)


@pytest.mark.parametrize("point", RECOVER_POINTS)
def test_recover_stopped_at_each_step_and_run_again_ends_as_an_uninterrupted_one(
    request: pytest.FixtureRequest, database_url: str, point: str
) -> None:
    reference = reference_state(request, backend(database_url))
    made = restored(request, database_url)
    settings = load_settings(made.config, environ={})
    engine = make_engine(database_url)
    try:
        with pytest.raises(StoppedHereError):
            recover(
                NIS_CODES,
                unit_of_work(engine, write_locked=True),
                LogFolders(settings.output_dir),
                key_ring(settings),
                VolumeFolder(settings.output_dir, settings.print_options.pickup_dir),
                now=utc_now,
                control=StopAt(point),
                worker="test",
            )
    finally:
        engine.dispose()
    if point.startswith(("recover:verified", "recover:appended", "recover:restored")):
        # A log still behind: no run starts (one started later would resume the restored
        # runs itself, as recover does).
        assert cli(made.config, database_url, "run", "--date", NIGHTS[2]).exit_code == 1
    ok(made.config, database_url, "recover")
    assert_same_as(state_of(made, database_url), reference)


def assert_same_as(state: dict[str, Any], reference: dict[str, Any]) -> None:
    """The same log, runs, records and files; attempts differ by the stopped ones only (each
    run's last attempt succeeded, every earlier one failed)."""
    attempts = state.pop("attempts")
    assert state == {key: value for key, value in reference.items() if key != "attempts"}
    for run_id in {row[0] for row in attempts}:
        mine = sorted(row for row in attempts if row[0] == run_id)
        assert mine[-1][3] == "succeeded", mine
        assert all(row[3] == "failed" for row in mine[:-1]), mine


def test_recover_killed_by_sigkill_and_run_again_ends_as_an_uninterrupted_one(
    request: pytest.FixtureRequest, database_url: str
) -> None:
    reference = reference_state(request, backend(database_url))
    made = restored(request, database_url)
    env = {**os.environ, "REMINDERS_DATABASE_URL": database_url,
           "REMINDERS_KILL_AT": "recover:restored#2"}  # fmt: skip
    killed = subprocess.run(  # noqa: S603 - our own command
        [REMINDERS, "recover", "--config", str(made.config)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    ok(made.config, database_url, "recover")
    assert_same_as(state_of(made, database_url), reference)
