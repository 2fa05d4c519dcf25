"""`insert_rows`, the bulk write of the dispatch log and of printed letters: COPY on
PostgreSQL, one executemany on SQLite. Whatever the route, the rows stored are the rows given,
awkward text included, and a failure is the SQLAlchemy error an INSERT gives, naming no value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.engine import insert_rows, marker

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


def test_a_duplicate_is_an_integrity_error_that_names_no_value(engine: Engine) -> None:
    national_number = "85073003328"  # a synthetic national number, as audit_subject holds them
    with engine.begin() as connection:
        _table(connection, "bulk_unique")
        insert_rows(connection, "bulk_unique", COLUMNS, [("44021", 0, national_number, None)])
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        insert_rows(connection, "bulk_unique", COLUMNS, [("44021", 0, national_number, None)])
    assert national_number not in str(raised.value)
    with engine.connect() as connection:  # the failed transaction left the table as it was
        assert _rows(connection, "bulk_unique") == [("44021", 0, national_number, None)]
