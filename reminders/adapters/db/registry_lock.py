"""The registry lock: imports one at a time, and never beside a night's decide step.

A night remembers the newest import it read (``max(registry_import.id)``) and next reads only
rows changed by later imports. On PostgreSQL two imports that overlap can commit out of id
order: a night deciding between the two commits would take the later id for its watermark and
never look at the slower import's changes. So an import holds this lock exclusively from
before it takes its id until it commits, and a decide step holds it shared from before it reads
the newest import until it commits: ids are taken and committed in order, and a night never
reads past an import that has not committed. Nights do not wait for each other.

PostgreSQL: a transaction-level advisory lock, per installation (the first key "REG", apart
from the run locks' "REM" and the logins' "RLG"; the second the hash of the schema the
installation's tables are in). SQLite: nothing to do, one writer at a time already (an import
and a decide step are write transactions).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

REGISTRY_LOCK_SPACE = 0x524547


def hold_registry(connection: Connection) -> None:
    """Until this transaction ends: no other import, and no decide step, runs (an import's)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(current_schema()))"),
            {"space": REGISTRY_LOCK_SPACE},
        )


def wait_for_imports(connection: Connection) -> None:
    """Wait for a running import to commit, and keep imports out until this transaction ends
    (a decide step's); other decide steps go on beside it."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock_shared(:space, hashtext(current_schema()))"),
            {"space": REGISTRY_LOCK_SPACE},
        )
