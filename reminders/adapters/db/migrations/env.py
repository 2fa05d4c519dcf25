"""Alembic environment: runs on the connection `reminders init` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite has no ALTER for most changes: copy-and-move instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        _run(fresh)
    engine.dispose()
