"""The schema comes only from migrations, and the migrations match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import Base
from reminders.adapters.db.schema import head_revision, require_current_schema, upgrade_schema
from reminders.errors import DatabaseNotReadyError


def test_models_and_migrations_agree(engine: Engine) -> None:
    """Autogenerate finds nothing to add: no model change is missing a migration."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


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
