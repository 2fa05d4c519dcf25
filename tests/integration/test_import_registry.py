"""Importing registry extracts into SQLite and PostgreSQL: idempotent, all or nothing, and
nothing lost (interfaces.md §1)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from reminders.adapters.db.orm import DocumentRow, PersonRow, RejectedRowRow
from reminders.bootstrap import import_registry_file, unit_of_work
from reminders.domain.model import RegistryKind
from reminders.domain.registry_rows import PERSON_COLUMNS
from reminders.errors import InputFileError
from reminders.services.import_registry import ImportReport, Rejected, rejected_rows

PERSONS_HEADER = ";".join(PERSON_COLUMNS[:-2]) + "\n"
PERSONS = PERSONS_HEADER + (
    "85.07.30-033.28;Peeters;Jan;nl;Kerkstraat;12A;bus 3;9000;Gent;;44021;;;\n"
    "85.07.30-033.61;Janssens;An;nl;Veldstraat;1;;9000;Gent;;44021;;;\n"  # bad check digits
    "17.07.30-033.84;Peeters;Lotte;;Kerkstraat;12A;3;9000;Gent;BE;44021;;;85073003328\n"
    "90.02.01-002.29;Dubois;Marie;fr;;;;;;;21004;;;\n"  # resident without address
    "85073003328;Dup;Jan;nl;Kerkstraat;1;;9000;Gent;;44021;;;\n"  # same person again
)
DOCUMENTS = "national_number;kind;number;issued_on;expires_on;status\n" + (
    "85073003328;driving_licence;1234567890;2017-01-01;2027-01-01;\n"
    "17073003384;kids_id;591-1234567-89;;01/06/2027;\n"
    "85073003329;eid;111;;2027-01-01;\n"  # holder's number mistyped
    "90020100427;eid;222;;2027-01-01;\n"  # valid number, nobody imported
    "85073003328;driving_licence;1234567890;2017-01-01;2027-01-02;\n"  # same document again
    "85073003328;driving_licence;A-9;1999-01-01;;\n"  # paper licence: no expiry
)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def run_import(engine: Engine, kind: RegistryKind, path: Path) -> ImportReport:
    return import_registry_file(kind, path, engine, now=lambda: NOW)


def listed(engine: Engine, report: ImportReport) -> list[Rejected]:
    return list(rejected_rows(report.import_id, unit_of_work(engine)))


def registry_state(engine: Engine) -> tuple[list[Any], list[Any]]:
    with engine.connect() as connection:
        persons = connection.execute(select(PersonRow.__table__).order_by("id")).all()
        documents = connection.execute(select(DocumentRow.__table__).order_by("id")).all()
    return [tuple(row) for row in persons], [tuple(row) for row in documents]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    persons, documents = tmp_path / "persons.csv", tmp_path / "documents.csv"
    persons.write_text(PERSONS, encoding="utf-8")
    documents.write_text(DOCUMENTS, encoding="utf-8")
    return persons, documents


def test_good_rows_are_imported_and_bad_rows_kept_with_reasons(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    """Each bad row is kept with its line, column, reason and text; the rest is imported."""
    persons, documents = files
    report = run_import(engine, RegistryKind.PERSONS, persons)
    assert (report.rows_read, report.inserted, report.rejected) == (5, 3, 2)
    assert [(line, column, reason) for line, column, reason, _ in listed(engine, report)] == [
        (3, "national_number", "invalid check digits"),
        (6, "national_number", "the same national number is on line 2"),
    ]
    assert all(subject.startswith("**.**.**-***.") for *_, subject in listed(engine, report))

    report = run_import(engine, RegistryKind.DOCUMENTS, documents)
    assert (report.rows_read, report.inserted, report.rejected) == (6, 3, 3)
    assert [(line, reason) for line, _, reason, _ in listed(engine, report)] == [
        (4, "holder's national number: invalid check digits"),
        (5, "unknown holder: no person with this national number (import persons first)"),
        (6, "the same document (kind and number) is on line 2"),
    ]
    with engine.connect() as connection:
        kept = connection.execute(
            select(RejectedRowRow.line, RejectedRowRow.raw).order_by(RejectedRowRow.id)
        ).all()
        by_number = dict(
            connection.execute(select(DocumentRow.number, DocumentRow.expires_on)).tuples().all()
        )
    assert (3, "85.07.30-033.61;Janssens;An;nl;Veldstraat;1;;9000;Gent;;44021;;;") in kept
    assert by_number["591123456789"] == date(2027, 6, 1)
    assert by_number["A9"] is None  # a paper licence is kept, with no expiry


def test_importing_the_same_files_twice_changes_nothing(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    """The second import finds every row unchanged and leaves the tables as they were."""
    persons, documents = files
    run_import(engine, RegistryKind.PERSONS, persons)
    run_import(engine, RegistryKind.DOCUMENTS, documents)
    before = registry_state(engine)
    again = run_import(engine, RegistryKind.PERSONS, persons)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    again = run_import(engine, RegistryKind.DOCUMENTS, documents)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert registry_state(engine) == before


def test_a_changed_row_updates_the_record(engine: Engine, files: tuple[Path, Path]) -> None:
    """A person who moved is updated in place, keyed by national number."""
    persons, _ = files
    run_import(engine, RegistryKind.PERSONS, persons)
    persons.write_text(PERSONS.replace("Kerkstraat;12A;bus 3", "Veldstraat;7;"), encoding="utf-8")
    report = run_import(engine, RegistryKind.PERSONS, persons)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    with engine.connect() as connection:
        street, box, import_id = connection.execute(
            select(PersonRow.street, PersonRow.box, PersonRow.import_id).where(
                PersonRow.national_number == "85073003328"
            )
        ).one()
    assert (street, box, import_id) == ("Veldstraat", None, report.import_id)


def test_a_file_that_breaks_halfway_imports_nothing(
    engine: Engine, files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Binary data near the end rolls back the whole import: not even the import is recorded."""
    persons, _ = files
    run_import(engine, RegistryKind.PERSONS, persons)
    before = registry_state(engine)
    broken = tmp_path / "broken.csv"
    broken.write_bytes(
        (
            PERSONS_HEADER + "88.01.01-001.78;New;Person;nl;Kerkstraat;1;;9000;Gent;;44021;;;\n"
        ).encode()
        * 1
        + b"\x00garbage\n"
    )
    with pytest.raises(InputFileError, match=r"broken\.csv:3: contains binary data"):
        run_import(engine, RegistryKind.PERSONS, broken)
    assert registry_state(engine) == before
    with engine.connect() as connection:
        imports = connection.execute(text("SELECT count(*) FROM registry_import")).scalar_one()
    assert imports == 1


def test_a_large_file_streams_through_several_batches(engine: Engine, tmp_path: Path) -> None:
    """More rows than one batch: counts add up and nothing is lost between batches."""
    from reminders.services import import_registry as module

    lines = [PERSONS_HEADER]
    for day in range(1, 29):
        for counter in range(1, 40, 2):
            base = f"8001{day:02d}{counter:03d}"
            check = 97 - int(base) % 97
            lines.append(f"{base}{check:02d};Name;Given;nl;Straat;1;;9000;Gent;;44021;;;\n")
    lines.append("80010100100;Bad;Row;nl;Straat;1;;9000;Gent;;44021;;;\n")
    path = tmp_path / "persons.csv"
    path.write_text("".join(lines), encoding="utf-8")
    original = module.BATCH_ROWS
    module.BATCH_ROWS = 50
    try:
        report = run_import(engine, RegistryKind.PERSONS, path)
    finally:
        module.BATCH_ROWS = original
    assert (report.rows_read, report.inserted, report.rejected) == (561, 560, 1)


def test_a_first_load_leaves_every_index_and_constraint_in_place(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    """Loading into empty tables drops and rebuilds indexes and constraints; afterwards the
    schema is exactly the migrations' again, and the constraints hold."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import IntegrityError

    from reminders.adapters.db.orm import Base

    persons, documents = files
    run_import(engine, RegistryKind.PERSONS, persons)
    run_import(engine, RegistryKind.DOCUMENTS, documents)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(
            text(
                "INSERT INTO document (person_id, kind, number, status, import_id) "
                "SELECT person_id, kind, number, status, import_id FROM document"
            )
        )


def test_documents_imported_before_their_persons_are_all_kept_as_rejected(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    """Every document names its holder as unknown; nothing is imported, nothing is lost."""
    _, documents = files
    report = run_import(engine, RegistryKind.DOCUMENTS, documents)
    assert (report.inserted, report.rejected) == (0, 6)
    reasons = [reason for _, _, reason, _ in listed(engine, report)]
    assert (
        reasons.count("unknown holder: no person with this national number (import persons first)")
        == 4
    )


def test_email_addresses_are_kept_with_consent_and_deleted_when_it_is_withdrawn(
    engine: Engine, tmp_path: Path
) -> None:
    """Issue 25: `email` and `email_consent` are optional columns; an address is kept only
    with consent, a malformed one is a kept rejection (the row, not lost; the reason without
    the address), and a later import with an empty consent deletes the address."""
    header = ";".join(PERSON_COLUMNS) + "\n"
    base = "Peeters;Jan;nl;Kerkstraat;12A;;9000;Gent;;44021;;;"
    first = tmp_path / "persons.csv"
    first.write_text(
        header
        + f"85073003328;{base};jan.peeters@Example.COM;ja\n"
        + f"90020100229;{base};marie@@example.com;2026-01-15\n"
        + f"17073003384;{base};lotte@example.com;\n",
        encoding="utf-8",
    )
    report = run_import(engine, RegistryKind.PERSONS, first)
    assert (report.inserted, report.rejected) == (2, 1)
    [(line, column, reason, _)] = listed(engine, report)
    assert (line, column) == (3, "email")
    assert reason.startswith("not a valid e-mail address")
    assert "marie" not in reason
    with engine.connect() as connection:
        raw = connection.execute(select(RejectedRowRow.raw)).scalar_one()
        assert "marie@@example.com" in raw  # the row as it stood: nothing is lost
        kept = [
            tuple(row)
            for row in connection.execute(
                select(PersonRow.national_number, PersonRow.email).where(PersonRow.email_consent)
            )
        ]
    assert kept == [("85073003328", "jan.peeters@example.com")]

    later = tmp_path / "later.csv"
    later.write_text(header + f"85073003328;{base};jan.peeters@example.com;\n", encoding="utf-8")
    report = run_import(engine, RegistryKind.PERSONS, later)
    assert (report.updated, report.rejected) == (1, 0)
    with engine.connect() as connection:
        row = connection.execute(
            select(PersonRow.email, PersonRow.email_consent).where(
                PersonRow.national_number == "85073003328"
            )
        ).one()
    assert tuple(row) == (None, False)
