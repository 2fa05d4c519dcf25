"""The schema comes only from migrations, and the migrations match the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import Base
from reminders.adapters.db.schema import (
    SCHEMA_REVISION,
    alembic_config,
    head_revision,
    require_current_schema,
    upgrade_schema,
)
from reminders.errors import DatabaseNotReadyError


def test_models_and_migrations_agree(engine: Engine) -> None:
    """Autogenerate finds nothing to add: no model change is missing a migration."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_revision_runs_check_is_the_newest_migration(engine: Engine) -> None:
    """Commands compare the database with SCHEMA_REVISION, not with Alembic's scripts (not
    imported but to upgrade): it must be the head, and is what Alembic records."""
    assert head_revision() == SCHEMA_REVISION
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == SCHEMA_REVISION


def test_a_database_at_an_older_revision_asks_for_init(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0011'"))
    with pytest.raises(DatabaseNotReadyError, match=r"is at 0011, this version needs 0012: run"):
        require_current_schema(engine)


def test_upgrading_twice_is_harmless(engine: Engine) -> None:
    """`reminders init` on an up-to-date database changes nothing."""
    assert upgrade_schema(engine) == (head_revision(), head_revision())
    require_current_schema(engine)


def test_an_empty_database_asks_for_init(database_url: str) -> None:
    """Commands other than init refuse to work on a database without schema."""
    engine = make_engine(database_url)
    try:
        with pytest.raises(DatabaseNotReadyError, match="run `reminders init` first"):
            require_current_schema(engine)
    finally:
        engine.dispose()


def test_sqlite_connections_enforce_foreign_keys(tmp_path: object) -> None:
    """SQLite leaves foreign keys off unless asked; every connection asks."""
    engine = make_engine(f"sqlite:///{tmp_path}/fk.sqlite3")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    finally:
        engine.dispose()


def test_migration_0008_widens_the_checks_of_a_log_in_use(database_url: str) -> None:
    """A database at 0006 with a log entry and a role: after 0008 the log takes the new
    events (and still refuses others, and still refuses UPDATE), roles may be approver,
    the models agree, and SQLite's file is intact (0008 edits the constraints' text)."""
    engine = make_engine(database_url)
    entry = (
        "INSERT INTO audit_entry (municipality_nis, seq, run_id, event, recorded_at, details,"
        " prev_hash, entry_hash) VALUES ('44021', :seq, NULL, :event, 't', '{}', 'p', 'h')"
    )
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0006")
        with engine.begin() as connection:
            connection.execute(text(entry), {"seq": 0, "event": "letter"})
            connection.execute(text(
                "INSERT INTO console_user (id, username, password_hash, created_at) "
                "VALUES (1, 'an', 'x', CURRENT_TIMESTAMP)"
            ))  # fmt: skip
        assert upgrade_schema(engine) == ("0006", head_revision())
        with engine.begin() as connection:
            connection.execute(text(entry), {"seq": 1, "event": "released"})
            connection.execute(text(
                "INSERT INTO console_grant (user_id, municipality_nis, role, may_reveal) "
                "VALUES (1, '44021', 'approver', false)"
            ))  # fmt: skip
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(entry), {"seq": 2, "event": "bogus"})
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("UPDATE audit_entry SET details = '{\"x\": 1}'"))
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    finally:
        engine.dispose()


def test_migration_0010_adds_the_email_channel_to_a_database_in_use(database_url: str) -> None:
    """A database at 0009 with a log entry: after 0010 the log takes `emailed` and
    `email_failed` (and still refuses others), the models agree, and SQLite's file is intact
    (0010 edits the events' constraint text)."""
    engine = make_engine(database_url)
    entry = (
        "INSERT INTO audit_entry (municipality_nis, seq, run_id, event, recorded_at, details,"
        " prev_hash, entry_hash) VALUES ('44021', :seq, NULL, :event, 't', '{}', 'p', 'h')"
    )
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0009")
        with engine.begin() as connection:
            connection.execute(text(entry), {"seq": 0, "event": "returned"})
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(entry), {"seq": 1, "event": "emailed"})
        assert upgrade_schema(engine) == ("0009", head_revision())
        with engine.begin() as connection:
            connection.execute(text(entry), {"seq": 1, "event": "emailed"})
            connection.execute(text(entry), {"seq": 2, "event": "email_failed"})
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(entry), {"seq": 3, "event": "faxed"})
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    finally:
        engine.dispose()
