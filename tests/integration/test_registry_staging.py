"""PostgreSQL stages an import through COPY (adapters/db/registry_store.py); a plain INSERT of
the same staged rows must store exactly the same registry and keep the same rejections, also
for values COPY's text format treats specially (backslashes, tabs, ``\\N``, line breaks)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text

from reminders.adapters.db.orm import DocumentRow, PersonRow, RejectedRowRow
from reminders.adapters.db.registry_store import (
    DOCUMENT_STAGE,
    PERSON_STAGE,
    PostgresRegistryStore,
    RegistryStore,
    StagedRow,
)
from reminders.adapters.db.unit_of_work import SqlUnitOfWork
from reminders.adapters.registry.registry_files import RegistryFile
from reminders.bootstrap import iso_country_codes, unit_of_work
from reminders.domain.model import RegistryKind
from reminders.domain.registry_rows import PERSON_COLUMNS, REGISTRY_FORMATS
from reminders.services.import_registry import import_registry
from reminders.services.ports import UnitOfWork

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PERSONS = (
    ";".join(PERSON_COLUMNS)
    + "\n"
    + (
        '85073003328;\\N;Jan\\Piet;nl;"Kerk\tstraat";12\\A;bus \\N;9000;Gent;;44021;;;;;\n'
        '17073003384;"O\\\'Brien\r\nde Smet";Lotte;;Kerkstraat;12A;3;9000;Gent;BE;44021;;;'
        "85073003328;lotte.x@example.com;ja\n"
        '90020100229;Dubois;Marie;fr;"Rue\\\\du\tMidi";1;;1000;Bruxelles;;21004;;'
        "2026-01-15;;;\n"
        "85073003328;Other\\N;Jan;nl;Kerkstraat;1;;9000;Gent;;44021;;;;;\n"  # repeated: raw kept
    )
)
DOCUMENTS = "national_number;kind;number;issued_on;expires_on;status;note\n" + (
    "85073003328;eid;591-1234567-89;2017-01-01;2027-01-01;;\n"
    "17073003384;kids_id;N1;;01/06/2027;;\\N\n"
    '90020100229;driving_licence;A-9;1999-01-01;;;"a\tb\\\\c"\n'
    "85073003328;eid;591.1234567.89;;2028-01-01;;\\N\\\t\n"  # repeated: raw kept
)


def snapshot(engine: Engine) -> dict[str, list[Any]]:
    """The registry and the rejected rows, without the ids the database gave them."""
    with engine.connect() as connection:
        persons = connection.execute(
            select(*(c for c in PersonRow.__table__.c if c.name not in {"id", "import_id"}))
            .order_by(PersonRow.national_number)
        ).all()  # fmt: skip
        documents = connection.execute(
            select(PersonRow.national_number,
                   *(c for c in DocumentRow.__table__.c
                     if c.name not in {"id", "person_id", "import_id"}))
            .join(PersonRow, PersonRow.id == DocumentRow.person_id)
            .order_by(DocumentRow.kind, DocumentRow.number)
        ).all()  # fmt: skip
        rejected = connection.execute(
            select(RejectedRowRow.line, RejectedRowRow.column_name, RejectedRowRow.reason,
                   RejectedRowRow.subject, RejectedRowRow.raw)
            .order_by(RejectedRowRow.import_id, RejectedRowRow.line)
        ).all()  # fmt: skip
    return {
        "persons": [tuple(row) for row in persons],
        "documents": [tuple(row) for row in documents],
        "rejected": [tuple(row) for row in rejected],
    }


def emptied(engine: Engine) -> Engine:
    """The registry and the import log emptied, for a second import of the same files."""
    with engine.begin() as connection:
        for table in ("rejected_row", "document", "person", "registry_import"):
            connection.execute(text(f"DELETE FROM {table}"))
    return engine


class InsertingStore(RegistryStore):
    """The store with staging through SQLAlchemy INSERTs (executemany), on either engine."""

    def stage(self, kind: RegistryKind, rows: Sequence[StagedRow]) -> None:
        if rows:
            stage = PERSON_STAGE if kind is RegistryKind.PERSONS else DOCUMENT_STAGE
            names = [column.name for column in stage.columns]
            self.connection.execute(
                insert(stage), [dict(zip(names, row, strict=True)) for row in rows]
            )


class InsertingUnitOfWork(SqlUnitOfWork):
    """The unit of work with its registry store staging through INSERTs."""

    def __enter__(self) -> InsertingUnitOfWork:
        super().__enter__()
        store = self.registry
        store.__class__ = type("Inserting", (InsertingStore, type(store)), {})
        return self


def imported(engine: Engine, folder: Path, uow: UnitOfWork) -> None:
    for kind, content in ((RegistryKind.PERSONS, PERSONS), (RegistryKind.DOCUMENTS, DOCUMENTS)):
        path = folder / f"{kind.value}.csv"
        path.write_text(content, encoding="utf-8", newline="")
        with RegistryFile(path, *REGISTRY_FORMATS[kind]) as source:
            import_registry(kind, source, uow, countries=iso_country_codes(),
                            now=lambda: NOW)  # fmt: skip


def test_copy_and_insert_stage_the_same_rows(engine: Engine, tmp_path: Path) -> None:
    """The store's own staging (COPY on PostgreSQL) and INSERTs give the same registry and the
    same rejected rows, raw text included."""
    imported(engine, tmp_path, unit_of_work(engine))
    own = snapshot(engine)
    assert len(own["persons"]) == 3
    assert len(own["documents"]) == 3
    assert [row[:3] for row in own["rejected"]] == [
        (6, "national_number", "the same national number is on line 2"),
        (5, "number", "the same document (kind and number) is on line 2"),
    ]
    imported(emptied(engine), tmp_path, InsertingUnitOfWork(engine))
    assert snapshot(engine) == own
    if engine.dialect.name == "postgresql":  # what was compared: COPY against INSERT
        with engine.connect() as connection:
            store = RegistryStore.for_connection(connection)
        assert type(store).stage is PostgresRegistryStore.stage
