"""Create, upgrade and check the database schema through the shipped Alembic migrations."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from reminders.errors import DatabaseNotReadyError

SCRIPT_LOCATION = "reminders.adapters.db:migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code: no alembic.ini to install or lose."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache  # the shipped migrations do not change while the process runs; reading them takes long
def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # noqa: S101 - the package ships at least one migration
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest migration; returns (revision before, revision after)."""
    before = current_revision(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    return before, head_revision()


def require_current_schema(engine: Engine) -> None:
    """Raise DatabaseNotReadyError unless the schema is at the newest migration."""
    revision = current_revision(engine)
    if revision is None:
        raise DatabaseNotReadyError("the database has no schema yet: run `reminders init` first")
    if revision != head_revision():
        raise DatabaseNotReadyError(
            f"the database schema is at {revision}, this version needs {head_revision()}: "
            "run `reminders init` to upgrade it"
        )
