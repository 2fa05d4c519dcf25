"""Every CSV the product writes, opened in a spreadsheet, runs no formula (issue 18, OWASP
"CSV injection"), on SQLite and PostgreSQL: a volume's manifest, `reminders audit export`
and the console's export of the log. The import refuses such document numbers now; a
database imported before keeps them, which is what these tests hold: the writers neutralise
whatever the database has. The exports' `volume` is relative to the output folder."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from reminders.adapters.db.engine import make_engine
from reminders.config import load_settings
from tests.console_support import (
    GENT,
    add_users,
    cheap_passwords,
    console_app,
    log_in,
    night_clock,
)
from tests.e2e.test_campaigns import invoke_group
from tests.e2e.test_cli import invoke
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture
from tests.e2e.test_run import run

FORMULA = '=HYPERLINK("http://evil")'


def _numbered_as_before_the_check(database_url: str, number: str, to: str) -> None:
    """A document number the import takes no more, as a database imported before holds it."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE document SET number = :to WHERE number = :number"),
                {"to": to, "number": number},
            )
    finally:
        engine.dispose()


@pytest.fixture
def formula_run(registry: Path, database_url: str) -> dict[str, Any]:  # noqa: F811 - fixture
    _numbered_as_before_the_check(database_url, "E01", FORMULA)
    return run(registry, database_url, "--date", RUN_DATE)


def _rows(text_csv: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text_csv)))


def test_the_manifest_csv_neutralises_a_formula(formula_run: dict[str, Any]) -> None:
    gent = next(Path(v) for v in formula_run["volumes"] if f"/{GENT}/" in v)
    rows = _rows(gent.with_suffix(".csv").read_text(encoding="utf-8"))
    numbers = [row["document_number"] for row in rows]
    assert "'" + FORMULA in numbers
    assert FORMULA not in numbers
    assert "E02" in numbers  # other cells keep their bytes
    manifest = json.loads(gent.with_suffix(".json").read_text(encoding="utf-8"))
    # The JSON manifest is read by programs, not spreadsheets: it keeps the value.
    assert FORMULA in [letter["document_number"] for letter in manifest["entries"]]


def test_the_audit_export_neutralises_and_shows_volumes_relative(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
    formula_run: dict[str, Any],
) -> None:
    exported = invoke_group(registry, database_url, "audit", "export", "--municipality", GENT)
    assert exported.exit_code == 0, exported.output
    rows = _rows(exported.output)
    numbers = {row["document_number"] for row in rows}
    assert "'" + FORMULA in numbers
    assert FORMULA not in numbers
    output_dir = load_settings(registry).output_dir.resolve()
    volumes = {row["volume"] for row in rows if row["event"] == "letter"}
    gent = next(Path(v) for v in formula_run["volumes"] if f"/{GENT}/" in v)
    assert volumes == {gent.relative_to(output_dir).as_posix()}
    assert volumes == {f"{GENT}/{RUN_DATE}-run-{formula_run['run_id']:06d}/volume-001.pdf"}
    assert str(output_dir) not in exported.output


def test_the_console_export_neutralises_and_shows_volumes_relative(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
    formula_run: dict[str, Any],
) -> None:
    add_users(database_url, cheap_passwords())
    with TestClient(console_app(registry, database_url, night_clock(RUN_DATE))) as client:
        log_in(client, "audit.gent")
        exported = client.get(f"/m/{GENT}/export?format=csv")
    assert exported.status_code == 200
    rows = _rows(exported.text)
    assert "'" + FORMULA in {row["document_number"] for row in rows}
    assert FORMULA not in {row["document_number"] for row in rows}
    volumes = {row["volume"] for row in rows if row["event"] == "letter"}
    assert volumes == {f"{GENT}/{RUN_DATE}-run-{formula_run['run_id']:06d}/volume-001.pdf"}


def test_the_import_rejects_a_formula_for_a_document_number(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
) -> None:
    documents = registry.parent / "documents.csv"
    lines = documents.read_text(encoding="utf-8").splitlines()
    holder = lines[1].split(";")[0]
    lines.append(f"{holder};eid;{FORMULA};2017-01-01;2027-04-15;")
    documents.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke(registry, database_url, "import", "documents", str(documents), "--report")
    assert result.exit_code == 0, result.output
    assert "1 rejected" in result.output
    assert "number" in result.output
    assert "letters and digits only" in result.output
