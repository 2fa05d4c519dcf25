"""Create, upgrade and check the database schema through the shipped Alembic migrations.

Alembic (with Mako and Pygments, 0.4 s) is imported only to upgrade: every other command
checks the schema's revision by reading Alembic's version table itself.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from reminders.errors import DatabaseNotReadyError

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = "reminders.adapters.db:migrations"
# The newest migration this code ships; a test checks that it is Alembic's head, so that a new
# migration without it fails the suite.
SCHEMA_REVISION = "0012"
VERSION_TABLE = "alembic_version"  # Alembic's default, where it records the revision


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code: no alembic.ini to install or lose."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache  # the shipped migrations do not change while the process runs; reading them takes long
def head_revision() -> str:
    """The newest migration of the shipped scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # noqa: S101 - the package ships at least one migration
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database (as Alembic's
    `MigrationContext.get_current_revision` reads it: one row, or no table)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        revisions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        found = revisions.scalars().all()
    if len(found) > 1:
        raise DatabaseNotReadyError(f"the database schema has several heads: {sorted(found)}")
    return found[0] if found else None


def upgrade_schema(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest migration; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    return before, head_revision()


def require_current_schema(engine: Engine) -> None:
    """Raise DatabaseNotReadyError unless the schema is at the newest migration."""
    revision = current_revision(engine)
    if revision is None:
        raise DatabaseNotReadyError("the database has no schema yet: run `reminders init` first")
    if revision != SCHEMA_REVISION:
        raise DatabaseNotReadyError(
            f"the database schema is at {revision}, this version needs {SCHEMA_REVISION}: "
            "run `reminders init` to upgrade it"
        )
