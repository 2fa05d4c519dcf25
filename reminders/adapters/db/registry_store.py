"""Registry rows into the database, in bulk, inside the caller's transaction.

Rows are first loaded into a temporary staging table (``executemany`` on SQLite, ``COPY`` on
PostgreSQL), then checked and merged with set-based SQL: doubled keys and unknown holders are
found by the database, not by a Python set, so memory stays flat whatever the file's size.
The merge only touches rows whose values changed, which makes a second import a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.schema import AddConstraint, DropConstraint
from sqlalchemy.sql.elements import ColumnElement

from reminders.adapters.db.orm import DocumentRow, PersonRow, RegistryImportRow, RejectedRowRow
from reminders.adapters.db.registry_lock import hold_registry
from reminders.domain.model import RegistryKind
from reminders.domain.national_number import masked_national_number
from reminders.domain.registry_rows import DocumentRecord, MergeCounts, PersonRecord, Rejection

_staging = MetaData()
_PERSON_TYPES: dict[str, Any] = {"status_since": Date, "email_consent": Boolean}
PERSON_STAGE = Table(
    "person_stage",
    _staging,
    Column("line", Integer, nullable=False),
    Column("raw", Text, nullable=False),
    *(Column(name, _PERSON_TYPES.get(name, String)) for name in PersonRecord._fields),
    prefixes=["TEMPORARY"],
)
DOCUMENT_STAGE = Table(
    "document_stage",
    _staging,
    Column("line", Integer, nullable=False),
    Column("raw", Text, nullable=False),
    *(Column(name, Date if name.endswith("_on") else String) for name in DocumentRecord._fields),
    prefixes=["TEMPORARY"],
)
_STAGES = {RegistryKind.PERSONS: PERSON_STAGE, RegistryKind.DOCUMENTS: DOCUMENT_STAGE}
_KEYS = {RegistryKind.PERSONS: ("national_number",), RegistryKind.DOCUMENTS: ("kind", "number")}

StagedRow = tuple[Any, ...]  # (line, raw text, *record)
_BATCH = 10_000  # rows per round trip when the store itself reads rows back


_PERSON = cast_type(Table, PersonRow.__table__)
_DOCUMENT = cast_type(Table, DocumentRow.__table__)
_IMPORT = cast_type(Table, RegistryImportRow.__table__)
_REJECTED = cast_type(Table, RejectedRowRow.__table__)


def _masked(column: ColumnElement[Any]) -> ColumnElement[str]:
    """SQL for the masked form of a compact national number (check digits only)."""
    return literal("**.**.**-***.") + func.substr(column, 10, 2)


class RegistryStore:
    """Bulk staging and merging of one registry import, on the caller's connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @staticmethod
    def for_connection(connection: Connection) -> RegistryStore:
        """The store suited to the connection's database."""
        if connection.dialect.name == "postgresql":
            return PostgresRegistryStore(connection)
        return RegistryStore(connection)

    # -- the import record -------------------------------------------------------------------

    def start_import(self, kind: RegistryKind, file_name: str, started_at: datetime) -> int:
        """Record the import (counts are filled in by ``finish_import``); returns its id.
        First takes the registry lock for the rest of the transaction (adapters/db/
        registry_lock.py): another import waits, and a night decides before or after it."""
        hold_registry(self.connection)
        result = self.connection.execute(
            insert(RegistryImportRow).values(
                kind=kind.value, file_name=file_name[:255], file_sha256="", started_at=started_at,
                finished_at=started_at, rows_read=0, inserted=0, updated=0, unchanged=0,
                rejected=0,
            ).returning(RegistryImportRow.id)
        )  # fmt: skip
        return int(result.scalar_one())

    def finish_import(
        self,
        import_id: int,
        *,
        file_sha256: str,
        finished_at: datetime,
        rows_read: int,
        counts: MergeCounts,
    ) -> int:
        """Store the import's counts; returns the number of rejected rows recorded."""
        rejected = self.connection.execute(
            select(func.count()).where(RejectedRowRow.import_id == import_id)
        ).scalar_one()
        self.connection.execute(
            _IMPORT.update()
            .where(RegistryImportRow.id == import_id)
            .values(
                file_sha256=file_sha256, finished_at=finished_at, rows_read=rows_read,
                inserted=counts.inserted, updated=counts.updated, unchanged=counts.unchanged,
                rejected=rejected,
            )
        )  # fmt: skip
        return int(rejected)

    # -- staging ---------------------------------------------------------------------------

    def create_staging(self, kind: RegistryKind) -> None:
        """An empty temporary staging table for this import."""
        stage = _STAGES[kind]
        stage.drop(self.connection, checkfirst=True)
        stage.create(self.connection)

    def drop_staging(self, kind: RegistryKind) -> None:
        """Drop the staging table (it would vanish with the connection anyway)."""
        _STAGES[kind].drop(self.connection, checkfirst=True)

    def stage(self, kind: RegistryKind, rows: Sequence[StagedRow]) -> None:
        """Load valid rows into the staging table."""
        if not rows:
            return
        stage = _STAGES[kind]
        marks = ", ".join("?" * len(stage.columns))
        cursor = self.connection.connection.driver_connection
        assert cursor is not None  # noqa: S101 - a live connection
        cursor.executemany(f"INSERT INTO {stage.name} VALUES ({marks})", rows)

    def reject(self, import_id: int, rejections: Sequence[Rejection]) -> None:
        """Keep rejected rows with their reasons."""
        if rejections:
            self.connection.execute(
                insert(RejectedRowRow),
                [
                    {"import_id": import_id, "line": r.line, "column_name": r.column,
                     "reason": r.reason[:300], "subject": r.subject, "raw": r.raw}
                    for r in rejections
                ],
            )  # fmt: skip

    # -- set-based checks ----------------------------------------------------------------

    def reject_repeated_keys(self, kind: RegistryKind, import_id: int) -> int:
        """Reject every row whose key appeared on an earlier line of the same file.

        Merged exports can carry one person twice (domain.md §8.5): the first row wins and
        the others are kept as rejected, so two rows can never both become letters.
        """
        stage = _STAGES[kind]
        keys = [stage.c[name] for name in _KEYS[kind]]
        first = (
            select(*keys, func.min(stage.c.line).label("first_line"))
            .group_by(*keys)
            .having(func.count() > 1)
            .subquery()
        )
        matches = and_(
            *(key == first.c[key.name] for key in keys), stage.c.line > first.c.first_line
        )
        column = "national_number" if kind is RegistryKind.PERSONS else "number"
        what = "national number" if kind is RegistryKind.PERSONS else "document (kind and number)"
        repeated = select(
            literal(import_id), stage.c.line, literal(column),
            literal(f"the same {what} is on line ") + cast(first.c.first_line, String),
            _masked(stage.c.national_number), stage.c.raw,
        ).join_from(stage, first, matches)  # fmt: skip
        return self._move_to_rejected(stage, import_id, repeated)

    def reject_unknown_holders(self, import_id: int, reason_for: Callable[[str], str]) -> int:
        """Reject documents whose holder is not a known person; ``reason_for`` says why.

        Unknown holders are few, so they come back to Python, where the reason can tell a
        mistyped number (bad check digits) from a person missing in the persons import.
        """
        stage, person = DOCUMENT_STAGE, _PERSON
        known = select(person.c.id).where(person.c.national_number == stage.c.national_number)
        unknown = select(stage.c.line, stage.c.national_number, stage.c.raw).where(~known.exists())
        # Streamed in batches: documents imported before their persons are all unknown.
        total, batch = 0, list[Rejection]()
        streamed = {"yield_per": _BATCH}  # per statement: the connection's options would stick
        for line, number, raw in self.connection.execute(unknown, execution_options=streamed):
            masked = masked_national_number(number)
            batch.append(Rejection(line, "national_number", reason_for(number), masked, raw))
            if len(batch) >= _BATCH:
                self.reject(import_id, batch)
                total, batch = total + len(batch), []
        self.reject(import_id, batch)
        total += len(batch)
        if total:
            self.connection.execute(stage.delete().where(~known.exists()))
        return total

    def _move_to_rejected(self, stage: Table, import_id: int, rejected: Select[Any]) -> int:
        rejected_rows = _REJECTED
        columns = ["import_id", "line", "column_name", "reason", "subject", "raw"]
        moved = self.connection.execute(
            insert(rejected_rows).from_select(columns, rejected),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        if moved:
            lines = select(rejected_rows.c.line).where(rejected_rows.c.import_id == import_id)
            self.connection.execute(stage.delete().where(stage.c.line.in_(lines)))
        return int(moved)

    # -- merging ---------------------------------------------------------------------------

    def merge(self, kind: RegistryKind, import_id: int) -> MergeCounts:
        """Update the rows that changed, then insert the new ones; others are not touched.

        Two plain statements rather than one ``INSERT ... ON CONFLICT DO UPDATE``: the upsert
        pays for a speculative insertion on every row, which made PostgreSQL three times slower
        on a first import, and the two statements count updates and inserts exactly.
        """
        stage = _STAGES[kind]
        self._analyze(stage)
        staged = self.connection.execute(select(func.count()).select_from(stage)).scalar_one()
        if kind is RegistryKind.PERSONS:
            target = _PERSON
            columns = list(PersonRecord._fields)
            source = select(*stage.c[*columns], literal(import_id).label("import_id")).subquery()
        else:
            target, person = _DOCUMENT, _PERSON
            fields = [name for name in DocumentRecord._fields if name != "national_number"]
            columns = ["person_id", *fields]
            source = (
                select(
                    person.c.id.label("person_id"),
                    *stage.c[*fields],
                    literal(import_id).label("import_id"),
                )
                .join_from(stage, person, person.c.national_number == stage.c.national_number)
                .subquery()
            )
        keys = _KEYS[kind]
        same_key = and_(*(target.c[name] == source.c[name] for name in keys))
        changed = or_(*(target.c[name].is_distinct_from(source.c[name]) for name in columns))
        update = (
            target.update()
            .where(same_key, changed)
            .values({name: source.c[name] for name in [*columns, "import_id"] if name not in keys})
        )
        # psycopg reports no rowcount for these unless SQLAlchemy is asked to keep it.
        keep_rowcount = {"preserve_rowcount": True}
        first_load = self.connection.execute(select(target.c.id).limit(1)).first() is None
        updated = 0
        with self._bulk_load(target) if first_load else nullcontext():
            if not first_load:
                updated = self.connection.execute(update, execution_options=keep_rowcount).rowcount
            new = select(source).where(~select(target.c.id).where(same_key).exists())
            inserted = self.connection.execute(
                insert(target).from_select([*columns, "import_id"], new),
                execution_options=keep_rowcount,
            ).rowcount
        unchanged = int(staged) - updated - inserted
        return MergeCounts(inserted=int(inserted), updated=int(updated), unchanged=unchanged)

    def _analyze(self, stage: Table) -> None:
        """Nothing to do on SQLite: its planner picks the unique indexes by itself."""

    @contextmanager
    def _bulk_load(self, target: Table) -> Iterator[None]:
        """Load an empty table without its secondary indexes, then build them by sorting.

        Maintaining a B-tree row by row costs several times more than building it once. Only
        for a first load: the table is empty, so nobody reads it meanwhile, and it all happens
        in the import's transaction, so a failure brings every index back.
        """
        indexes = sorted(target.indexes, key=lambda index: str(index.name))
        for index in indexes:
            index.drop(self.connection)
        yield
        for index in indexes:
            index.create(self.connection)

    # -- reading back ----------------------------------------------------------------------

    def rejections(self, import_id: int) -> Iterator[tuple[int, str | None, str, str]]:
        """(line, column, reason, masked national number) of an import's rejected rows."""
        rows = self.connection.execute(
            select(RejectedRowRow.line, RejectedRowRow.column_name, RejectedRowRow.reason,
                   RejectedRowRow.subject)
            .where(RejectedRowRow.import_id == import_id)
            .order_by(RejectedRowRow.line),
            execution_options={"yield_per": _BATCH},
        )  # fmt: skip
        for line, column, reason, subject in rows:
            yield int(line), column, str(reason), str(subject)


class PostgresRegistryStore(RegistryStore):
    """PostgreSQL: staging through COPY, several times faster than INSERT batches."""

    def _analyze(self, stage: Table) -> None:
        # A temporary table has no statistics until analysed; without them the planner
        # guesses a few hundred rows and joins a million by nested loops.
        self.connection.exec_driver_sql(f"ANALYZE {stage.name}")

    @contextmanager
    def _bulk_load(self, target: Table) -> Iterator[None]:
        """Also drop the unique and foreign-key constraints during a first load.

        PostgreSQL checks a foreign key with a trigger per row; adding the constraint after
        the load checks every row in one join, and re-adding a unique constraint builds its
        index by sorting. Both are validated in full when re-added: nothing goes unchecked.
        (PostgreSQL's manual, "Populating a Database", advises exactly this.)
        """
        constraints = [
            constraint
            for constraint in sorted(target.constraints, key=lambda c: str(c.name))
            if isinstance(constraint, UniqueConstraint | ForeignKeyConstraint)
        ]
        for constraint in constraints:
            self.connection.execute(DropConstraint(constraint))
        with super()._bulk_load(target):
            yield
        for constraint in constraints:
            self.connection.execute(AddConstraint(constraint))
        self.connection.exec_driver_sql(f"ANALYZE {target.name}")  # the nightly scan plans on it

    def stage(self, kind: RegistryKind, rows: Sequence[StagedRow]) -> None:
        if not rows:
            return
        stage = _STAGES[kind]
        names = ", ".join(column.name for column in stage.columns)
        connection = self.connection.connection.driver_connection
        assert connection is not None  # noqa: S101 - a live connection
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {stage.name} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
