"""One run at a time per municipality, across processes and machines.

PostgreSQL: a session advisory lock per municipality, held on a connection of its own for the
whole run; the server releases it when that session ends, so a killed run never leaves a lock
behind. SQLite (one machine by nature): an OS file lock beside the database file, which the
kernel releases when the process dies. Locks are taken in NIS order and given back all at
once when one is held elsewhere, so two runs over overlapping municipalities cannot deadlock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import cast

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, Table, select, text
from sqlalchemy.engine import make_url

from reminders.adapters.db.orm import NightlyRunRow, RunAttemptRow
from reminders.adapters.private_files import OWNER_ONLY
from reminders.errors import MunicipalityBusyError, Reason, ReasonCode

# The advisory lock's first key: "REM", so our locks don't collide with another application's
# on a shared server; the second key is the NIS code.
LOCK_SPACE = 0x52454D
_POLL_SECONDS = 0.2
_run = cast(Table, NightlyRunRow.__table__)
_attempt = cast(Table, RunAttemptRow.__table__)
_memory_locks: dict[str, threading.Lock] = {}  # in-memory SQLite: one process by definition


class RunLocks:
    """Takes the run locks of municipalities on ``engine`` (a MunicipalityLocks)."""

    def __init__(self, engine: Engine, *, wait_seconds: float = 0.0) -> None:
        self.engine, self.wait_seconds = engine, wait_seconds
        database = make_url(str(engine.url)).database
        self.postgres = engine.dialect.name == "postgresql"
        self.lock_dir = (
            None
            if self.postgres or database in (None, "", ":memory:")
            else Path(f"{database}.locks")
        )

    @contextmanager
    def __call__(self, nis_codes: Collection[str]) -> Iterator[None]:
        deadline = time.monotonic() + self.wait_seconds
        wanted = sorted(set(nis_codes))
        while True:
            with ExitStack() as held:
                busy = self._take_all(wanted, held)
                if busy is None:
                    yield
                    return
            if time.monotonic() >= deadline:
                raise MunicipalityBusyError(
                    self._busy_message(busy),
                    reason=Reason(ReasonCode.MUNICIPALITY_BUSY, {"municipality": busy}),
                )
            time.sleep(_POLL_SECONDS)

    def _take_all(self, wanted: list[str], held: ExitStack) -> str | None:
        """Take every lock, in order; returns the first one held elsewhere (having let go of
        those taken), or None with all of them held by ``held``."""
        if self.postgres and wanted:
            connection = held.enter_context(
                self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            )
            for nis in wanted:
                if not _advisory_lock(connection, nis):
                    held.close()
                    return nis
                held.callback(_advisory_unlock, connection, nis)
            return None
        for nis in wanted:
            if not self._local_lock(nis, held):
                held.close()
                return nis
        return None

    def _local_lock(self, nis: str, held: ExitStack) -> bool:
        if self.lock_dir is None:
            lock = _memory_locks.setdefault(nis, threading.Lock())
            if not lock.acquire(blocking=False):
                return False
            held.callback(lock.release)
            return True
        OWNER_ONLY.make_folders(self.lock_dir)
        file_lock = FileLock(self.lock_dir / f"{nis}.lock", mode=0o600, thread_local=False)
        try:
            file_lock.acquire(timeout=0)
        except Timeout:
            return False
        held.callback(file_lock.release)
        return True

    def _busy_message(self, nis: str) -> str:
        waited = f" after waiting {self.wait_seconds:g} s" if self.wait_seconds else ""
        holder = self._holder(nis)
        return (
            f"municipality {nis} is being run by {holder}{waited}; nothing was done. "
            "Try again when it has finished, or pass --wait SECONDS"
        )

    def _holder(self, nis: str) -> str:
        """The running attempt that holds a municipality, as far as the database knows."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(_run.c.id, _run.c.municipalities, _attempt.c.started_by,
                       _attempt.c.worker, _attempt.c.started_at)
                .join(_attempt, _attempt.c.run_id == _run.c.id)
                .where(_attempt.c.outcome == "running")
                .order_by(_run.c.id.desc())
            ).all()  # fmt: skip
        for run_id, municipalities, started_by, worker, started_at in rows:
            if nis in municipalities.split(","):
                return (
                    f"run {run_id} ({started_by} on {worker}, started {started_at:%Y-%m-%d %H:%M})"
                )
        return "another run (starting or finishing)"


def _advisory_lock(connection: Connection, nis: str) -> bool:
    return bool(
        connection.scalar(
            text("SELECT pg_try_advisory_lock(:space, :key)"),
            {"space": LOCK_SPACE, "key": int(nis)},
        )
    )


def _advisory_unlock(connection: Connection, nis: str) -> None:
    connection.execute(
        text("SELECT pg_advisory_unlock(:space, :key)"), {"space": LOCK_SPACE, "key": int(nis)}
    )
