"""`RecoveryStore.restoring`: a recovery of many entries has PostgreSQL check the foreign keys of
the decisions and letters once, at the end, instead of row by row. The keys come back as they
were, a row that breaks one is still refused, and a recovery that fails leaves them in place.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.recovery_store import RecoveryStore, checked_at_once

_KEYS = (
    "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid), k.convalidated "
    "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'f' "
    "AND c.relname IN ('decision', 'letter') AND pg_table_is_visible(c.oid) ORDER BY 1, 2"
)


def _keys(connection: Connection) -> list[tuple[str, str, str, bool]]:
    return [tuple(row) for row in connection.exec_driver_sql(_KEYS)]


def _orphan_decision(connection: Connection) -> None:
    """A skip of a run and a document that do not exist."""
    connection.exec_driver_sql(
        "INSERT INTO decision (run_id, municipality_nis, document_id, document_kind, stage, "
        "reason, final, language, recorded_at) VALUES (987, '44021', 654321, 'eid', 'first', "
        "'too_late', true, NULL, now())"
    )


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_keys_are_dropped_for_the_block_and_come_back_as_they_were(engine: Engine) -> None:
    with engine.begin() as connection:
        before = _keys(connection)
        assert [name for _, name, _, _ in before] == [
            "fk_decision_document_id", "fk_decision_run_id",
            "fk_letter_decision_id", "fk_letter_volume_id",
        ]  # fmt: skip
        with RecoveryStore(connection).restoring(1_000):  # an empty table: at once
            assert _keys(connection) == []
        assert _keys(connection) == before  # validated, the same definitions


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_row_that_breaks_a_key_is_refused_when_the_block_ends(engine: Engine) -> None:
    with (
        pytest.raises(IntegrityError, match="fk_decision"),
        engine.begin() as connection,
        RecoveryStore(connection).restoring(1_000),
    ):
        _orphan_decision(connection)  # not checked yet
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM decision").scalar_one() == 0
        assert len(_keys(connection)) == 4


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_block_that_fails_leaves_the_keys_in_place(engine: Engine) -> None:
    with (
        pytest.raises(RuntimeError),
        engine.begin() as connection,
        RecoveryStore(connection).restoring(1_000),
    ):
        raise RuntimeError("killed in the middle")
    with engine.connect() as connection:
        assert len(_keys(connection)) == 4


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_few_entries_into_a_large_table_are_checked_row_by_row(engine: Engine) -> None:
    with engine.begin() as connection:
        # The planner's estimate is what is read: a table it believes to hold 100,000 rows.
        connection.exec_driver_sql(
            "UPDATE pg_class SET reltuples = 100000 WHERE oid = 'decision'::regclass"
        )
        with RecoveryStore(connection).restoring(9_999):
            assert len(_keys(connection)) == 4
            with pytest.raises(IntegrityError, match="fk_decision"):
                _orphan_decision(connection)


@pytest.mark.parametrize(
    ("entries", "held", "at_once"),
    [(0, 0, True), (1, 0, True), (1_000, 10_000, True), (999, 10_000, False),
     (1_000_740, 0, True), (50_000, 20_000_000, False)],
)  # fmt: skip
def test_at_once_where_the_rows_to_restore_are_a_tenth_of_those_held(
    entries: int, held: int, at_once: bool
) -> None:
    assert checked_at_once(entries, held) is at_once
