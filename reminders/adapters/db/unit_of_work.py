"""The unit of work on SQLAlchemy: one transaction on the engine, the repositories on its
connection (services/ports.py `UnitOfWork`). Commits when the block ends normally, rolls back
when it raises."""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType

from sqlalchemy import Connection, Engine

from reminders.adapters.db.after_print_store import AfterPrintStore
from reminders.adapters.db.campaign_store import CampaignStore
from reminders.adapters.db.decision_store import DecisionStore
from reminders.adapters.db.dispatch_log_store import DispatchLogStore
from reminders.adapters.db.engine import write_locked_transaction
from reminders.adapters.db.letter_store import LetterStore
from reminders.adapters.db.recovery_store import RecoveryStore
from reminders.adapters.db.registry_store import RegistryStore
from reminders.adapters.db.run_ledger import RunLedger


class NestedUnitOfWorkError(RuntimeError):
    """A block opened inside another on the same unit of work: it would not be the outer
    transaction, so it is refused rather than silently committed apart."""


class SqlUnitOfWork:
    """Each ``with`` block is one transaction (``engine.begin()``; with ``write_locked``, one
    that holds SQLite's write lock from its start: adapters/db/engine.py), with the
    repositories bound to its connection."""

    registry: RegistryStore
    decisions: DecisionStore
    letters: LetterStore
    runs: RunLedger
    dispatch_log: DispatchLogStore
    after_print: AfterPrintStore
    campaigns: CampaignStore
    recovery: RecoveryStore

    def __init__(self, engine: Engine, *, write_locked: bool = False) -> None:
        self.engine, self.write_locked = engine, write_locked
        self._transaction: AbstractContextManager[Connection] | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._transaction is not None:
            raise NestedUnitOfWorkError("a unit of work's block was opened inside another")
        transaction = (
            write_locked_transaction(self.engine) if self.write_locked else self.engine.begin()
        )
        connection = transaction.__enter__()
        self._transaction = transaction
        # Each store only holds the connection: building them all costs microseconds.
        self.registry = RegistryStore.for_connection(connection)
        self.decisions = DecisionStore(connection)
        self.letters = LetterStore(connection)
        self.runs = RunLedger(connection)
        self.dispatch_log = DispatchLogStore(connection)
        self.after_print = AfterPrintStore(connection)
        self.campaigns = CampaignStore(connection)
        self.recovery = RecoveryStore(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            transaction.__exit__(exc_type, exc, traceback)
