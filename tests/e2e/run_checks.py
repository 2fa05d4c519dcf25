"""Harness of the crash-safety and one-run-at-a-time tests: a synthetic registry with a few
thousand letters due, copied into a fresh database for each test; `reminders run` as a real
subprocess, killed at a named point (``REMINDERS_KILL_AT``) or after a delay; and one checker
of what must hold after any number of kills and a final clean run: every letter exactly once,
in exactly one complete volume on disk, logged once, the log verifying.

Two sizes of registry (`Size`): `WHOLE`, some 1,250 letters in about nine volumes rendered by
two worker processes (a run of fewer than INLINE_BELOW_LETTERS renders in its own process),
for the tests of whole `reminders run` processes; `SMALL`, some 170
letters in about nine small volumes rendered in the run's own process, for the tests that
stop the run in this process (tests/integration/test_run_stopped_and_resumed.py). Importing a
registry takes seconds, so each backend's registry of each size is imported once per test
session (a template database) and copied for each test: a SQLite file through the
backup API, a PostgreSQL schema with ``INSERT ... SELECT``. A clean, never-killed run on a copy
gives the reference every test compares with. It runs in the test's process (the tests' own
runs are processes) and renders there, whatever the size: the same letters and bytes as with
render workers (tests/integration/test_letter_pdf.py), without the second or so of CPU a
process costs to start, and the seconds its workers do. Synthetic data only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, func, select
from sqlalchemy.engine import make_url

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import (
    AuditCheckpointRow,
    AuditEntryRow,
    DecisionRow,
    DocumentRow,
    LetterRow,
    NightlyRunRow,
    PrintVolumeRow,
    RunAttemptRow,
)
from reminders.adapters.printing.render_pool import INLINE_BELOW_LETTERS
from reminders.config import load_settings
from reminders.entrypoints.cli import main
from reminders.synthetic import (
    SyntheticMunicipality,
    SyntheticSpec,
    write_synthetic_registry,
)
from tests.conftest import REPO
from tests.e2e.installed import copy_database, new_pg_schema

RUN_DATE = date(2027, 3, 1)


@dataclass(frozen=True, slots=True)
class Size:
    """A test registry's size and how a run on it prints: about 6 % of the synthetic persons
    have a letter due on a first run."""

    persons: int
    volume_max_letters: int
    render_workers: int  # 1: in the run's own process
    letters: tuple[int, int]  # the range a clean run's letters must fall in
    volumes: int  # at least so many: the kills at the n-th volume need volumes after it


# 20,000 persons: some 1,250 letters, in 9 volumes over the 3 municipalities, rendered by two
# worker processes (the issue asks for thousands of due letters, in processes: over a thousand,
# as below INLINE_BELOW_LETTERS a run renders in its own process). The workers' start, not the
# letters, is most of a run's cost (SQLite, shared 2-core machine, CPU of the run and its
# workers): 2,120 letters 7.4 s with two workers, 3.6 s in the run's own process; 1,117
# letters 7.1 and 3.4 s.
WHOLE = Size(20_000, 150, 2, (INLINE_BELOW_LETTERS, 2_000), 5)
# 3,000 persons: some 170 letters in about nine volumes, rendered in the run's own process.
SMALL = Size(3_000, 25, 1, (100, 400), 5)
SEED = 7
MUNICIPALITIES = (
    SyntheticMunicipality("44021", "Gent", ("nl",)),
    SyntheticMunicipality("21004", "Bruxelles", ("fr", "nl")),
    SyntheticMunicipality("63023", "Eupen", ("de",)),
)
NIS_CODES = tuple(m.nis_code for m in MUNICIPALITIES)
KILL_VARIABLE = "REMINDERS_KILL_AT"
REMINDERS = str(Path(sys.executable).parent / "reminders")  # the console script of this venv
RUN_TIMEOUT_S = 180  # far beyond a run of a few seconds: a hung run fails the test, not CI


@dataclass(frozen=True, slots=True)
class Reference:
    """What a clean, never-killed run on the same registry and date decided and printed."""

    decisions: tuple[tuple[str, str, str, str | None, str | None], ...]  # sorted
    letters: int
    volumes: int


@dataclass(frozen=True, slots=True)
class Template:
    """A backend's imported registry that no run touches, and its reference run."""

    database_url: str
    reference: Reference
    reference_config: Path  # the reference run's config.toml, its print room beside it


@dataclass(frozen=True, slots=True)
class Night:
    """One test's installation: config.toml (its output and keys beside it) and database,
    and the runs started on it (any still running when the test ends are killed)."""

    config: Path
    database_url: str
    reference: Reference
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.config.parent


@dataclass(frozen=True, slots=True)
class Finished:
    """A `reminders run` process that ended: how, what it printed, after how long."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = json.loads(self.stdout)
        return summary


# -- the registry and the databases --------------------------------------------------------------


def write_config(folder: Path, size: Size = WHOLE, render_workers: int | None = None) -> Path:
    """The example config.toml in ``folder``, with small volumes, so that a run writes
    several, rendered by ``size.render_workers`` worker processes whatever the machine (or by
    ``render_workers``: 1 renders in the run's own process)."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    workers = size.render_workers if render_workers is None else render_workers
    for old, new in (
        ("volume_max_letters = 1000", f"volume_max_letters = {size.volume_max_letters}"),
        ("workers = 0 ", f"workers = {workers} "),
    ):
        assert old in text, old
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cli(config: Path, database_url: str, command: str, *args: str) -> str:
    """`reminders <command> --config CONFIG <args>` in this process (``command`` may be two
    words: "audit verify"); returns its output and fails the test unless it exits 0."""
    result = CliRunner().invoke(
        main,
        [*command.split(), "--config", str(config), *args],
        env={"REMINDERS_DATABASE_URL": database_url, KILL_VARIABLE: None},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, (args, result.output)
    return result.output


def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


_new_pg_schema = new_pg_schema  # the name other test modules import it by


def provision(template_url: str, config: Path, database_url: str) -> None:
    """Make ``database_url`` (empty) a copy of the template's registry and run `reminders init`
    on it, which also makes the installation's signing key."""
    copy_database(template_url, database_url)
    cli(config, database_url, "init")


# One template per backend, size and test session, shared by the test modules: fixtures
# defined outside a conftest.py are instantiated once per module that imports them.
_TEMPLATES: dict[tuple[str, Size, Path], Template] = {}


def template(request: pytest.FixtureRequest, kind: str, size: Size = WHOLE) -> Template:
    """The imported registry of ``size`` of this session for the backend ``kind``, made on
    first use, with its reference run."""
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    key = (kind, size, factory.getbasetemp())
    if key in _TEMPLATES:
        return _TEMPLATES[key]

    persons, documents = _registry_files(factory, size)
    folders = factory.mktemp(f"template-{kind}"), factory.mktemp(f"reference-{kind}")
    if kind == "sqlite":
        template_url, reference_url = (f"sqlite:///{f / 'registry.sqlite3'}" for f in folders)
    else:
        database: str = request.getfixturevalue("pg_database")
        template_url = _new_pg_schema(database, "template")
        reference_url = _new_pg_schema(database, "reference")
    config = write_config(folders[0], size)
    cli(config, template_url, "init")
    for kind_of_file, path in (("persons", persons), ("documents", documents)):
        output = cli(config, template_url, "import", kind_of_file, str(path))
        assert " 0 rejected" in output, output

    night = Night(write_config(folders[1], size, render_workers=1), reference_url, _NO_REFERENCE)
    provision(template_url, night.config, reference_url)
    summary = json.loads(cli(night.config, reference_url, "run", "--date", RUN_DATE.isoformat(),
                             "--json"))  # fmt: skip
    assert summary["letters"] > 0, summary
    observed = check_invariants(night, failed_attempts=0)  # what a resumed run must hold too
    assert size.letters[0] <= observed.letters <= size.letters[1], observed.letters
    assert len(observed.volumes) >= size.volumes, observed.volumes
    if size.render_workers > 1:  # else the tests' runs would not start their render workers
        assert observed.letters >= INLINE_BELOW_LETTERS, observed.letters
    reference = Reference(decided(reference_url), observed.letters, len(observed.volumes))
    _TEMPLATES[key] = Template(template_url, reference, night.config)
    return _TEMPLATES[key]


_NO_REFERENCE = Reference((), 0, 0)
# The registry extracts of each size, written once per test session for both backends.
_REGISTRY_FILES: dict[tuple[Size, Path], tuple[Path, Path]] = {}


def _registry_files(factory: pytest.TempPathFactory, size: Size) -> tuple[Path, Path]:
    """The synthetic persons and documents files of ``size`` (the same on every backend)."""
    key = (size, factory.getbasetemp())
    if key not in _REGISTRY_FILES:
        registry = factory.mktemp("registry")
        persons, documents = registry / "persons.csv", registry / "documents.csv"
        spec = SyntheticSpec(
            persons=size.persons, seed=SEED, as_of=RUN_DATE, municipalities=MUNICIPALITIES
        )
        write_synthetic_registry(spec, persons, documents)
        _REGISTRY_FILES[key] = persons, documents
    return _REGISTRY_FILES[key]


def prepared_night(
    request: pytest.FixtureRequest,
    database_url: str,
    folder: Path,
    size: Size = WHOLE,
    *,
    render_workers: int | None = None,
) -> Night:
    """This test's installation in ``folder`` on ``database_url``: the registry of ``size``
    imported, nothing run yet. Pass it to `stop_runs` when the test ends. ``render_workers``
    (1: the run's own process) for a test that does not need the size's: the same registry,
    decisions and bytes, without the seconds of CPU that starting the workers costs a run."""
    made = template(request, backend(database_url), size)
    config = write_config(folder, size, render_workers)
    provision(made.database_url, config, database_url)
    return Night(config, database_url, made.reference)


def stop_runs(night: Night) -> None:
    """Kill the runs a failed test left running, so none outlives its database."""
    for process in night.processes:
        if process.poll() is None:
            process.kill()
        process.wait()


# -- `reminders run` as a process ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    """A `reminders run` process under way; its output goes to files named ``stem``.*."""

    process: subprocess.Popen[str]
    started: float  # time.monotonic()
    stem: Path


def start_run(night: Night, *args: str, kill_at: str | None = None, name: str = "run") -> Started:
    """`reminders run --date RUN_DATE --json <args>` started, with ``REMINDERS_KILL_AT`` set to
    ``kill_at`` (and unset otherwise); its output goes to files beside config.toml."""
    env = {key: value for key, value in os.environ.items() if key != KILL_VARIABLE}
    env["REMINDERS_DATABASE_URL"] = night.database_url
    if kill_at is not None:
        env[KILL_VARIABLE] = kill_at
    stem = night.folder / f"{name}-{time.monotonic_ns()}"
    command = [REMINDERS, "run", "--config", str(night.config), "--date", RUN_DATE.isoformat(),
               "--json", *args]  # fmt: skip
    with stem.with_suffix(".out").open("w") as stdout, stem.with_suffix(".err").open("w") as err:
        process = subprocess.Popen(  # noqa: S603 - our own command
            command, env=env, stdout=stdout, stderr=err, text=True, cwd=night.folder
        )
    night.processes.append(process)
    return Started(process, time.monotonic(), stem)


def finish(run: Started) -> Finished:
    """Wait for a started run to end."""
    process = run.process
    try:
        process.wait(timeout=RUN_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return Finished(
        process.returncode,
        run.stem.with_suffix(".out").read_text(encoding="utf-8"),
        run.stem.with_suffix(".err").read_text(encoding="utf-8"),
        time.monotonic() - run.started,
    )


def run_to_end(night: Night, *args: str, kill_at: str | None = None) -> Finished:
    return finish(start_run(night, *args, kill_at=kill_at))


def killed_at(night: Night, point: str) -> Finished:
    """A run that kills itself at ``point``: it must die by SIGKILL there."""
    ended = run_to_end(night, kill_at=point)
    assert ended.returncode == -signal.SIGKILL, (
        f"{KILL_VARIABLE}={point}: expected death by SIGKILL, got exit {ended.returncode}\n"
        f"{ended.stdout}\n{ended.stderr}"
    )
    return ended


def clean_run(night: Night) -> Finished:
    """A run without any kill: it must exit 0 and print its JSON summary."""
    ended = run_to_end(night)
    assert ended.returncode == 0, f"exit {ended.returncode}\n{ended.stdout}\n{ended.stderr}"
    ended.summary()
    return ended


# -- what the database and the print room hold ---------------------------------------------------


def decided(database_url: str) -> tuple[tuple[str, str, str, str | None, str | None], ...]:
    """(kind, document number, stage, reason, language) of every decision, sorted."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    DecisionRow.document_kind, DocumentRow.number, DecisionRow.stage,
                    DecisionRow.reason, DecisionRow.language,
                ).join(DocumentRow, DocumentRow.id == DecisionRow.document_id)
            )  # fmt: skip
            found = [(k, n, s, r, lang) for k, n, s, r, lang in rows]
    finally:
        engine.dispose()
    return tuple(sorted(found, key=lambda row: tuple(value or "" for value in row)))


def staged_volumes(night: Night, process: subprocess.Popen[str], *, at_least: int) -> int:
    """Wait until the run in ``process`` (a `reminders run`, or a scheduler running one) has
    staged the PDFs of ``at_least`` volumes (hidden ``.part`` files, renamed only once the run
    is sealed): then it is printing. How many it had when seen."""
    output = load_settings(night.config, environ={}).output_dir
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (staged := len(list(output.glob("*/*/.volume-*.pdf.part")))) < at_least:
        assert process.poll() is None, f"the run ended with {staged} volumes staged"
        assert time.monotonic() < deadline, f"{staged} volumes staged in {RUN_TIMEOUT_S} s"
        time.sleep(0.01)
    return staged


def running_attempts(database_url: str) -> int:
    """Attempts recorded as running: after a kill, the killed one (until the next run)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            count = connection.scalar(
                select(func.count()).where(RunAttemptRow.outcome == "running")
            )
    finally:
        engine.dispose()
    return int(count or 0)


@dataclass(frozen=True, slots=True)
class Volume:
    """A recorded print volume whose files the checker found complete."""

    id: int
    run_id: int
    municipality_nis: str
    path: Path
    sha256: str
    letters: int


@dataclass(frozen=True, slots=True)
class Observed:
    """What the checker read, for a test's own further assertions."""

    runs: list[dict[str, Any]]
    attempts: list[dict[str, Any]]
    volumes: list[Volume]
    letters: int


def _rows(connection: Connection, *columns: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(select(*columns)).mappings()]


def check_invariants(night: Night, *, failed_attempts: int | None = None) -> Observed:
    """Everything that must hold once a run has finished cleanly, after any kills.

    (a) every letter decision has exactly one letter row, and the decisions are those of the
    clean reference run; (b) every volume exists under its final name, complete (SHA-256),
    with manifests listing exactly its letters, and nothing else is in the print room: no
    staged ``.part`` file, no volume without a record; (c) no reference twice over all
    volumes; (d) `audit verify` passes and the log has each letter once; (e) every run
    succeeded and was published, or was killed before deciding and kept nothing, and each
    killed attempt is recorded as failed, saying the process stopped (``failed_attempts``:
    how many, when known); (f) each run's signed checkpoints are beside its volumes; (g) each
    municipality's log is published in the output folder, whole, and verifies from there.
    """
    engine = make_engine(night.database_url)
    try:
        with engine.connect() as connection:
            decisions = _rows(
                connection, DecisionRow.id, DecisionRow.run_id, DecisionRow.municipality_nis,
                DecisionRow.reason,
            )  # fmt: skip
            letters = _rows(
                connection, LetterRow.decision_id, LetterRow.reference, LetterRow.volume_id,
                LetterRow.first_page, LetterRow.page_count,
            )  # fmt: skip
            volume_rows = _rows(
                connection, PrintVolumeRow.id, PrintVolumeRow.run_id,
                PrintVolumeRow.municipality_nis, PrintVolumeRow.path, PrintVolumeRow.sha256,
                PrintVolumeRow.letters, PrintVolumeRow.pages,
            )  # fmt: skip
            runs = _rows(
                connection, NightlyRunRow.id, NightlyRunRow.as_of, NightlyRunRow.outcome,
                NightlyRunRow.step, NightlyRunRow.failure, NightlyRunRow.letters,
                NightlyRunRow.started_at, NightlyRunRow.finished_at,
            )  # fmt: skip
            attempts = _rows(
                connection, RunAttemptRow.run_id, RunAttemptRow.attempt, RunAttemptRow.outcome,
                RunAttemptRow.step, RunAttemptRow.failure,
            )  # fmt: skip
            entries = _rows(
                connection, AuditEntryRow.municipality_nis, AuditEntryRow.seq,
                AuditEntryRow.run_id, AuditEntryRow.event, AuditEntryRow.reference,
            )  # fmt: skip
            checkpoints = _rows(
                connection, AuditCheckpointRow.municipality_nis, AuditCheckpointRow.tree_size,
                AuditCheckpointRow.run_id, AuditCheckpointRow.note,
            )  # fmt: skip
    finally:
        engine.dispose()

    # (a) exactly one letter row per letter decision, and the same decisions as a clean run
    letter_decisions = {row["id"] for row in decisions if row["reason"] is None}
    printed = Counter(row["decision_id"] for row in letters)
    assert [d for d, n in printed.items() if n > 1] == []
    missing = letter_decisions - set(printed)
    assert not missing, f"(a) {len(missing)} letter decisions without a printed letter"
    assert set(printed) <= letter_decisions, "(a) a letter row for a skip decision"
    if night.reference.decisions:
        assert len(letter_decisions) == night.reference.letters, (
            "(a) letters differ from a clean run"
        )
        assert decided(night.database_url) == night.reference.decisions, (
            "(a) decisions differ from a clean run"
        )

    # (b) complete volumes under their final names, manifests matching the letter table
    output_dir = load_settings(night.config, environ={}).output_dir.resolve()
    by_volume: dict[int, list[dict[str, Any]]] = {}
    for row in letters:
        by_volume.setdefault(row["volume_id"], []).append(row)
    nis_of_decision = {row["id"]: row["municipality_nis"] for row in decisions}
    expected_files: set[Path] = set()
    manifest_references: Counter[str] = Counter()
    volumes: list[Volume] = []
    for row in volume_rows:
        pdf = Path(row["path"])
        where = f"(b) volume {row['id']} ({pdf})"
        assert pdf.is_file(), f"{where}: no file under its final name"
        content = pdf.read_bytes()
        assert hashlib.sha256(content).hexdigest() == row["sha256"], f"{where}: SHA-256 differs"
        assert content.startswith(b"%PDF-"), where
        assert content.rstrip().endswith(b"%%EOF"), f"{where}: the PDF is cut off"
        printed_here = sorted(by_volume.get(row["id"], []), key=lambda r: r["first_page"])
        assert printed_here, f"{where}: a volume without letters"
        assert row["letters"] == len(printed_here), where
        assert {nis_of_decision[r["decision_id"]] for r in printed_here} == {
            row["municipality_nis"]
        }, f"{where}: a letter of another municipality"
        manifest_path, csv_path = pdf.with_suffix(".json"), pdf.with_suffix(".csv")
        sha_path = pdf.with_name(f"{pdf.name}.sha256")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        assert manifest["sha256"] == row["sha256"], where
        assert manifest["run_id"] == row["run_id"], where
        assert manifest["letters"] == row["letters"], where
        assert manifest["pages"] == row["pages"], where
        listed = [(e["reference"], e["first_page"], e["page_count"]) for e in manifest["entries"]]
        assert listed == [
            (r["reference"], r["first_page"], r["page_count"]) for r in printed_here
        ], f"{where}: the manifest does not list the letters recorded in the volume"
        with csv_path.open(encoding="utf-8", newline="") as file:
            csv_references = [line["reference"] for line in csv.DictReader(file)]
        assert csv_references == [entry[0] for entry in listed], f"{where}: CSV manifest"
        assert sha_path.read_text(encoding="utf-8") == f"{row['sha256']}  {pdf.name}\n", where
        manifest_references.update(csv_references)
        expected_files |= {pdf, manifest_path, csv_path, sha_path}
        volumes.append(
            Volume(row["id"], row["run_id"], row["municipality_nis"], pdf, row["sha256"],
                   row["letters"])
        )  # fmt: skip
    assert not set(by_volume) - {row["id"] for row in volume_rows}

    # (c) no reference twice, over all volumes; every letter in one
    assert [ref for ref, n in manifest_references.items() if n > 1] == [], "(c) twice"
    assert set(manifest_references) == {row["reference"] for row in letters}, "(c)"

    # (d) the log verifies and holds each letter exactly once, each volume once
    cli(night.config, night.database_url, "audit verify")
    logged = Counter(e["reference"] for e in entries if e["event"] == "letter")
    assert logged == Counter(row["reference"] for row in letters), (
        "(d) letter entries of the dispatch log differ from the letters printed"
    )
    assert Counter(e["municipality_nis"] for e in entries if e["event"] == "volume") == Counter(
        row["municipality_nis"] for row in volume_rows
    ), "(d) volume entries of the dispatch log differ from the volumes printed"

    # (e) each run published, or killed before deciding with nothing kept; attempts recorded
    assert runs, "(e) no run recorded"
    as_of = {row["id"]: row["as_of"] for row in runs}
    for run in runs:
        where = f"(e) run {run['id']} ({run['outcome']}, step {run['step']}: {run['failure']})"
        if run["outcome"] != "succeeded":
            assert (run["outcome"], run["step"]) == ("failed", "started"), where
            assert not any(d["run_id"] == run["id"] for d in decisions), where
            assert not any(v["run_id"] == run["id"] for v in volume_rows), where
            assert not any(e["run_id"] == run["id"] for e in entries), where
        else:
            assert run["step"] == "published", where
        mine = sorted((a for a in attempts if a["run_id"] == run["id"]), key=lambda a: a["attempt"])
        assert mine, f"{where}: no attempt recorded"
        assert [a["attempt"] for a in mine] == list(range(1, len(mine) + 1)), where
        assert mine[-1]["outcome"] == run["outcome"], where
        assert all(a["outcome"] == "failed" for a in mine[:-1]), where
    failed = [a for a in attempts if a["outcome"] == "failed"]
    for attempt in failed:
        assert "stopped" in (attempt["failure"] or ""), f"(e) attempt {attempt}"
    if failed_attempts is not None:
        assert len(failed) == failed_attempts, f"(e) failed attempts: {failed}"

    # (f) each run's checkpoint for each log it added to, beside its volumes
    added: dict[tuple[str, int], int] = {}
    for entry in entries:
        key = (entry["municipality_nis"], entry["run_id"])
        added[key] = max(added.get(key, 0), entry["seq"] + 1)
    signed = {(c["municipality_nis"], c["run_id"]): c for c in checkpoints if c["run_id"]}
    for (nis, run_id), size in added.items():
        checkpoint = signed.get((nis, run_id))
        assert checkpoint is not None, f"(f) run {run_id} added to {nis}'s log without a checkpoint"
        assert checkpoint["tree_size"] >= size, checkpoint
    for (nis, run_id), checkpoint in signed.items():
        folder = output_dir / nis / f"{as_of[run_id]}-run-{run_id:06d}"
        file = folder / f"checkpoint-{checkpoint['tree_size']}.txt"
        assert file.is_file(), f"(f) {file} missing"
        assert file.read_text(encoding="utf-8") == checkpoint["note"], f"(f) {file}"
        expected_files.add(file)

    # (g) each log published in the output folder holds exactly the database's log (its
    # newest checkpoint at the root) and verifies with the public key alone
    newest: dict[str, dict[str, Any]] = {}
    for checkpoint in checkpoints:
        nis = checkpoint["municipality_nis"]
        if checkpoint["tree_size"] > newest.get(nis, {"tree_size": -1})["tree_size"]:
            newest[nis] = checkpoint
    for nis, checkpoint in newest.items():
        published = output_dir / nis / "log"
        root = published / "checkpoint"
        assert root.read_text(encoding="utf-8") == checkpoint["note"], f"(g) {root}"
        expected_files |= {path for path in published.rglob("*") if path.is_file()}
    public_key = str(load_settings(night.config, environ={}).audit.public_key)
    verified = cli(night.config, night.database_url, "audit verify", "--from", str(output_dir),
                   "--public-key", public_key)  # fmt: skip
    assert verified.count(": intact") == len(newest), f"(g) {verified}"

    # (b) nothing else in the print room: no staged file, no unrecorded volume
    present = {path for path in output_dir.rglob("*") if path.is_file()}
    stray = sorted(str(path.relative_to(output_dir)) for path in present - expected_files)
    assert stray == [], f"(b) files in the print room that no record accounts for: {stray[:10]}"
    return Observed(runs, attempts, volumes, len(letters))


# SQLite keeps a DateTime as the text SQLAlchemy writes: 2027-03-02 00:52:10.123456.
SQLITE_DATETIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"


def times_stored_as_runs_store_them(database_url: str, table: str, *columns: str) -> bool:
    """Every non-empty value of ``columns`` stored the way SQLAlchemy stores a run's times
    (on SQLite as its text; on PostgreSQL as a timestamptz), restored rows included: recover
    writes through the driver and must format them itself."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            listed = ", ".join(columns)
            stored = [
                value
                for row in connection.exec_driver_sql(f"SELECT {listed} FROM {table}")
                for value in row
                if value is not None
            ]
    finally:
        engine.dispose()
    if not database_url.startswith("sqlite"):
        return bool(stored) and all(moment.tzinfo is not None for moment in stored)
    return bool(stored) and all(re.fullmatch(SQLITE_DATETIME, value) for value in stored)
