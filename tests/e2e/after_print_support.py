"""What the tests after the print share (issue 21): the registry of test_print_volumes under a
config where Gent's volumes wait for an approver and the print shop reads a pick-up folder of
its own, console users who act on the command line, and reading what the print shop gets."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import LetterRow, PrintVolumeRow
from reminders.bootstrap import console_transaction
from reminders.domain.console_access import Grant, Role
from reminders.entrypoints.cli import main
from reminders.services.console_accounts import add_user, grant_role
from tests.console_support import PASSWORD, cheap_passwords
from tests.e2e.test_print_volumes import with_print

GENT, BRUSSELS, EUPEN = "44021", "21004", "63023"
PICKUP = "var/pickup"
# Console users who act after the print: two approvers and a clerk of Gent.
APPROVERS = {
    "an": (Grant(GENT, Role.APPROVER), Grant(GENT, Role.STAFF)),
    "bert": (Grant(GENT, Role.APPROVER), Grant(BRUSSELS, Role.APPROVER)),
    "cleo": (Grant(GENT, Role.STAFF), Grant(BRUSSELS, Role.STAFF)),
}


def with_approval(config_file: Path, database_url: str, *, volume_max_letters: int = 3) -> None:
    """Gent's volumes held for approval, a pick-up folder for the print shop, small volumes
    rendered in the run's own process, and the console users above."""
    text = config_file.read_text(encoding="utf-8")
    gent = 'nis_code = "44021"\n'
    assert gent in text
    config_file.write_text(text.replace(gent, gent + 'release = "approval"\n'), encoding="utf-8")
    with_print(
        config_file,
        f"volume_max_letters = {volume_max_letters}",
        "workers = 1",
        f'pickup_dir = "{PICKUP}"',
    )
    engine = make_engine(database_url)
    try:
        transaction = console_transaction(engine)
        now = datetime(2027, 1, 1, tzinfo=UTC)
        passwords = cheap_passwords()
        for name, grants in APPROVERS.items():
            add_user(transaction, passwords, name, PASSWORD, by="cli:test", now=now)
            for grant in grants:
                grant_role(transaction, name, grant, by="cli:test", now=now)
    finally:
        engine.dispose()


def reminders(
    config_file: Path,
    database_url: str,
    *args: str,
    by: str | None = None,
    password: str = PASSWORD,
) -> Result:
    """`reminders <args> --config ...`, acting as console user ``by`` (password on stdin)."""
    command = 2 if args[0] in ("audit", "returns", "console-user") else 1  # group, command
    arguments = [*args[:command], "--config", str(config_file), *args[command:]]
    if by is not None:
        arguments += ["--by", by, "--password-stdin"]
    return CliRunner().invoke(
        main,
        arguments,
        env={"REMINDERS_DATABASE_URL": database_url},
        input=f"{password}\n" if by is not None else None,
        catch_exceptions=False,
    )


def run_night(
    config_file: Path, database_url: str, day: str, started_by: str = "scheduler:nightly"
) -> dict[str, Any]:
    result = reminders(
        config_file, database_url, "run", "--json", "--date", day, "--started-by", started_by
    )
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.output)
    return summary


@dataclass(frozen=True, slots=True)
class StoredVolume:
    volume_id: int
    run_id: int
    municipality_nis: str
    path: Path
    state: str
    kind: str
    references: tuple[str, ...]  # of the letters it holds now, in page order


def stored_volumes(database_url: str, nis: str | None = None) -> list[StoredVolume]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            volumes = connection.execute(select(PrintVolumeRow).order_by(PrintVolumeRow.id)).all()
            letters = connection.execute(
                select(LetterRow.volume_id, LetterRow.reference).order_by(LetterRow.first_page)
            ).all()
    finally:
        engine.dispose()
    held: dict[int, list[str]] = {}
    for volume_id, reference in letters:
        held.setdefault(volume_id, []).append(reference)
    return [
        StoredVolume(
            v.id,
            v.run_id,
            v.municipality_nis,
            Path(v.path),
            v.state,
            v.kind,
            tuple(held.get(v.id, ())),
        )
        for v in volumes
        if nis in (None, v.municipality_nis)
    ]


def pickup_of(config_file: Path) -> Path:
    return config_file.parent / PICKUP


def picked_up(config_file: Path, nis: str | None = None) -> list[Path]:
    """The PDFs the print shop finds in its pick-up folder (of a municipality)."""
    root = pickup_of(config_file) / (nis or "")
    return sorted(root.rglob("*.pdf")) if root.exists() else []


def in_pickup(config_file: Path, volume: Path) -> Path:
    """Where a volume of the output folder is in the pick-up folder."""
    output = config_file.parent / "var" / "out"
    return pickup_of(config_file) / volume.resolve().relative_to(output.resolve())


def checked_volume(pdf: Path) -> dict[str, Any]:
    """A volume's files as the print shop gets them: its SHA-256 file and JSON manifest
    match the PDF, the CSV lists the same letters; returns the JSON manifest."""
    data = pdf.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert pdf.with_name(f"{pdf.name}.sha256").read_text() == f"{digest}  {pdf.name}\n"
    manifest: dict[str, Any] = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["sha256"] == digest
    assert manifest["volume"] == pdf.name
    csv_lines = pdf.with_suffix(".csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in csv_lines[1:]] == [
        entry["reference"] for entry in manifest["entries"]
    ]
    assert manifest["letters"] == len(manifest["entries"])
    return manifest


def log_verifies(config_file: Path, database_url: str) -> None:
    result = reminders(config_file, database_url, "audit", "verify")
    assert result.exit_code == 0, result.output


REFERENCE = re.compile(r"\b\d{5}-\d{6}-\d{6}(?:-R\d+)?\b")
