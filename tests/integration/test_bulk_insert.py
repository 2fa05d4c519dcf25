"""`insert_rows`, the bulk write of the dispatch log and of printed letters: COPY on
PostgreSQL, one executemany on SQLite. Whatever the route, the rows stored are the rows given,
awkward text included, and a refused row is the SQLAlchemy error an INSERT gives, naming no
value, not even in the traceback's chained causes.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.engine import IN_LIST_CHUNK, insert_rows, marker, rows_where_in

COLUMNS = ("nis", "seq", "body", "note")
# What COPY's text format must escape (tab, newline, backslash, \N) and what it must not touch.
AWKWARD: list[tuple[Any, ...]] = [
    ("44021", 0, "plain", None),
    ("44021", 1, "tab\there, newline\nthere, carriage\rreturn", "\\N"),
    ("44021", 2, "back\\slash \\. and a lone \\", ""),
    ("21004", 0, "Élodie Müller-Ñúñez, 1000 Bruxelles 🏛", '{"holder": "ab", "n": [1, 2]}'),
    ("21004", 1, "x" * 5_000, "NULL"),
]


def _table(connection: Connection, name: str) -> None:
    connection.exec_driver_sql(
        f"CREATE TABLE {name} (nis VARCHAR(5), seq INTEGER, body TEXT, note TEXT, "
        "PRIMARY KEY (nis, seq))"
    )


def _rows(connection: Connection, name: str) -> list[tuple[Any, ...]]:
    result = connection.exec_driver_sql(f"SELECT nis, seq, body, note FROM {name} ORDER BY 1, 2")
    return [tuple(row) for row in result]


def _executemany(connection: Connection, name: str, rows: Sequence[Sequence[Any]]) -> None:
    listed = ", ".join([marker(connection)] * len(COLUMNS))
    connection.exec_driver_sql(
        f"INSERT INTO {name} ({', '.join(COLUMNS)}) VALUES ({listed})", list(rows)
    )


def test_the_rows_stored_are_the_rows_given_and_as_an_insert_stores_them(engine: Engine) -> None:
    with engine.begin() as connection:
        _table(connection, "bulk_given")
        _table(connection, "bulk_inserted")
        insert_rows(connection, "bulk_given", COLUMNS, AWKWARD)
        _executemany(connection, "bulk_inserted", AWKWARD)
    with engine.connect() as connection:
        stored = _rows(connection, "bulk_given")
        assert stored == sorted(AWKWARD, key=lambda row: (row[0], row[1]))
        assert stored == _rows(connection, "bulk_inserted")


def test_nothing_to_write_writes_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        _table(connection, "bulk_empty")
        insert_rows(connection, "bulk_empty", COLUMNS, [])
        assert _rows(connection, "bulk_empty") == []


def _guarded_table(connection: Connection) -> None:
    """A table whose constraints are on the column that holds the personal value, so that a
    failing row's DETAIL or CONTEXT would quote it."""
    connection.exec_driver_sql(
        "CREATE TABLE bulk_guarded (nis VARCHAR(5) NOT NULL, body TEXT UNIQUE "
        "CHECK (length(body) = 11), note TEXT)"
    )


@pytest.mark.parametrize(
    "second",
    [
        ("44021", "85073003328", None),  # the same number again: unique
        ("44021", "940415001234", None),  # the check (12 digits)
        (None, "94041500123", "85073003328"),  # NOT NULL, the number in another column
    ],
    ids=["unique", "check", "not-null"],
)
def test_a_refused_row_is_an_integrity_error_that_names_no_value(
    engine: Engine, second: tuple[Any, ...]
) -> None:
    national_number = "85073003328"  # synthetic, as audit_subject holds them
    columns = ("nis", "body", "note")
    with engine.begin() as connection:
        _guarded_table(connection)
        insert_rows(connection, "bulk_guarded", columns, [("44021", national_number, None)])
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        insert_rows(connection, "bulk_guarded", columns, [second])
    told = "".join(traceback.format_exception(raised.value))
    assert national_number not in told
    assert "9404150012" not in told  # nor the refused row's own
    with engine.connect() as connection:  # the failed transaction left the table as it was
        kept = connection.exec_driver_sql("SELECT nis, body, note FROM bulk_guarded")
        assert [tuple(row) for row in kept] == [("44021", national_number, None)]


def test_a_lookup_of_more_keys_than_one_statement_takes_finds_them_all(engine: Engine) -> None:
    """`rows_where_in` cuts its IN list into statements of IN_LIST_CHUNK values (SQLite's
    parameter limit): every key is looked up once, with the values of markers before it."""
    keys = list(range(2 * IN_LIST_CHUNK + 7))
    with engine.begin() as connection:
        _table(connection, "bulk_lookup")
        rows = [("44021", n, f"body {n}", None) for n in keys] + [("21004", 0, "other", None)]
        insert_rows(connection, "bulk_lookup", COLUMNS, rows)
        found = rows_where_in(
            connection,
            f"SELECT seq, body FROM bulk_lookup WHERE nis = {marker(connection)} AND seq",
            keys,
            "44021",
        )
    assert sorted(found) == [(n, f"body {n}") for n in keys]
