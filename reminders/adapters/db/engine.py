"""Database engines: embedded SQLite (one municipality) or PostgreSQL via psycopg 3 (many)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.elements import ColumnElement

SQLITE_BUSY_TIMEOUT_MS = 30_000  # a second writer waits for the first instead of failing at once
_WRITE_LOCK_AT_BEGIN = "reminders_write_lock_at_begin"  # an execution option of ours


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings this project relies on."""
    parsed = make_url(url)
    # Statement parameters never reach an error message or a log: they can hold a national
    # number, and error messages end up in run records, cron mail and the scheduler's log.
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    engine = create_engine(url, hide_parameters=True)
    event.listen(engine, "connect", _configure_sqlite_connection)
    # pysqlite's own transaction handling defers BEGIN and ignores it for DDL; we hand
    # control to SQLAlchemy so transactions, savepoints and rollbacks mean what they say.
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _begin_sqlite(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE_LOCK_AT_BEGIN, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_locked_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds SQLite's write lock from its first statement (BEGIN IMMEDIATE),
    so what it reads cannot change before it writes: two of them run one after the other.
    On PostgreSQL an ordinary transaction: callers lock what they need (an advisory lock)."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE_LOCK_AT_BEGIN: True})
        with connection.begin():
            yield connection


def _configure_sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite
        cursor.execute("PRAGMA journal_mode = WAL")  # readers do not block the nightly writer
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # 16 MiB: large enough for index builds, small enough that a 1.6-million-row import
        # stays under 200 MB (the page cache also bounds the sorter of CREATE INDEX).
        cursor.execute("PRAGMA cache_size = -16384")
    finally:
        cursor.close()


def marker(connection: Connection) -> str:
    """The driver's positional parameter marker (sqlite3: ?, psycopg: %s)."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


IN_LIST_CHUNK = 900  # values per IN (...): below SQLite's old 999-parameter limit


def rows_where_in(
    connection: Connection, select_from_where: str, values: Sequence[Any], *first: Any
) -> list[Any]:
    """The rows of ``SELECT ... WHERE ... <column> IN (values)`` (the statement ends with the
    column; ``first`` are the values of markers before it), through the driver, IN_LIST_CHUNK
    values a statement: lookups of thousands of keys, where SQLAlchemy would name and process
    each of them."""
    rows: list[Any] = []
    for start in range(0, len(values), IN_LIST_CHUNK):
        chunk = values[start : start + IN_LIST_CHUNK]
        listed = ", ".join([marker(connection)] * len(chunk))
        statement = f"{select_from_where} IN ({listed})"
        rows.extend(driver_rows(connection.exec_driver_sql(statement, (*first, *chunk))))
    return rows


def driver_rows(result: CursorResult[Any]) -> Sequence[Any]:
    """All rows of ``result`` as the driver gives them, without SQLAlchemy's processing of
    each value (a Row per row, SQLite's dates parsed): for reads of thousands of rows whose
    values need none of it, or whose caller converts the few that do."""
    with result:
        return result.cursor.fetchall() if result.cursor is not None else []


def insert_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Many rows of plain values (text, numbers, NULL) in one bulk write of the driver: the
    dispatch log's entries, the night's decisions, printed letters and recover's rows, where
    SQLAlchemy's parameter processing costs more per row than the insert itself and such
    values need none of it. On PostgreSQL through COPY (a quarter of an executemany's time
    and an eighth of its CPU, and less work for the server, which shares the machine's cores
    with the run); on SQLite one executemany."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, columns, rows)
        return
    placeholders = ", ".join([marker(connection)] * len(columns))
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    connection.exec_driver_sql(statement, list(rows))


def column_values(connection: Connection, column: ColumnElement[Any]) -> Callable[[Any], Any]:
    """How the dialect stores ``column``'s values, for `insert_rows`, which bypasses
    SQLAlchemy's processing (SQLite keeps a DateTime as SQLAlchemy's own text, not as the
    driver's adapter would write it). The generic type has no processor of its own: the
    dialect's implementation has."""
    dialect = connection.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else _as_is


def _as_is(value: Any) -> Any:
    return value


def _copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """COPY ... FROM STDIN on the connection's own transaction. A failure is raised as the
    SQLAlchemy error an INSERT would raise (IntegrityError and the like) with the server's
    primary message and SQLSTATE only: its DETAIL ("Key (...)=(...)", "Failing row contains
    (...)") and CONTEXT (the whole COPY line) would quote the row, which can hold a national
    number, and messages reach run records and logs. A lost connection is invalidated, as
    SQLAlchemy does for a statement's."""
    import psycopg  # only with PostgreSQL, whose driver it is

    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as err:
        dbapi = connection.connection.dbapi_connection
        lost = connection.dialect.is_disconnect(err, dbapi, None)  # type: ignore[arg-type]
        if lost:
            connection.invalidate()
        primary = err.diag.message_primary or type(err).__name__
        quiet = type(err)(f"{primary} (SQLSTATE {err.sqlstate}, {table})")
        raise DBAPIError.instance(
            statement, None, quiet, psycopg.Error, hide_parameters=True,
            connection_invalidated=lost, dialect=connection.dialect,
        ) from None  # fmt: skip
    finally:
        cursor.close()


def stored_utc(moment: datetime) -> datetime:
    """A stored ``*_at`` as an aware UTC time: SQLite gives timestamps back naive, and every
    one is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_ids(connection: Connection, table: str, count: int) -> list[int]:
    """``count`` ids for new rows of ``table`` (its integer key ``id``), for inserts that give
    them, so that they need not be read back. PostgreSQL: from the id's sequence (later inserts
    take the next ones). SQLite: past the largest, which stays so while the caller's
    transaction holds the write lock (recover's does: `write_locked_transaction`)."""
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        result = connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (table, count),
        )
        return [int(value) for (value,) in result]
    last = connection.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar()
    first = int(last or 0) + 1
    return list(range(first, first + count))
