"""`LetterStore.refresh_statistics`: before the printing step reads the night's letters,
PostgreSQL's planner gets statistics of the decisions and letters as they are now (the night
has just written its decisions in bulk). Without them it planned the letters left to print as
nested loops: a 100,000-letter night resumed after its last volume took 256-283 s instead of
19-21 s (README, issue 24)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine

from reminders.adapters.db.letter_store import LetterStore

# The planner's row counts of the tables in the test's own schema; -1: never analysed.
_ROWS = (
    "SELECT relname, reltuples FROM pg_class WHERE relname IN ('decision', 'letter') "
    "AND pg_table_is_visible(oid) ORDER BY relname"
)


def _planned_rows(connection: Connection) -> list[tuple[str, float]]:
    return [(name, float(rows)) for name, rows in connection.exec_driver_sql(_ROWS)]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_decisions_and_letters_are_analysed_before_printing(engine: Engine) -> None:
    with engine.begin() as connection:
        assert _planned_rows(connection) == [("decision", -1.0), ("letter", -1.0)]
    with engine.begin() as connection:
        LetterStore(connection).refresh_statistics()
    with engine.connect() as connection:
        assert _planned_rows(connection) == [("decision", 0.0), ("letter", 0.0)]
