"""Imports and the night on PostgreSQL (issue 18): two imports that overlap, and a night run
between their commits, must not leave the slower import's changes undecided.

A night remembers the newest import it read (its watermark) and the next night reads only
rows changed by later imports. Import A takes its id and is held before its merge; import B
takes the next id and would commit first; the night would run between B's commit and A's and
take B's id for its watermark, so A's correction (a driving licence's expiry date, which moves
its first stage into the past) would never be decided. The registry lock (adapters/db/
registry_lock.py) makes B and the night wait for A instead. SQLite has one writer at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.registry_lock import REGISTRY_LOCK_SPACE
from reminders.adapters.registry.registry_files import RegistryFile
from reminders.bootstrap import (
    import_registry_file,
    iso_country_codes,
    nightly_job,
    unit_of_work,
)
from reminders.config import load_settings
from reminders.domain.model import RegistryKind
from reminders.domain.registry_rows import REGISTRY_FORMATS
from reminders.services.import_registry import import_registry
from reminders.services.ports import RawRegistryRow
from tests.e2e.test_run import DOCUMENTS, JAN, recorded, registry, run  # noqa: F401 - fixture

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
WAIT = 60.0  # seconds, at most, for a thread to reach the registry lock and wait there


class HeldSource:
    """A registry file whose rows are read only once ``release`` is set; ``started`` is set
    when the import has taken its id and begins to read (inside its transaction)."""

    def __init__(self, inner: RegistryFile) -> None:
        self.inner = inner
        self.path, self.size, self.unknown_columns = inner.path, inner.size, inner.unknown_columns
        self.bytes_read = 0
        self.started, self.release = threading.Event(), threading.Event()

    @property
    def sha256(self) -> str:
        return self.inner.sha256

    def rows(self) -> Iterator[RawRegistryRow]:
        self.started.set()
        assert self.release.wait(60), "the test never released import A"
        for row in self.inner.rows():
            self.bytes_read = self.inner.bytes_read
            yield row


def waiting_for_registry(database_url: str, sessions: int, thread: threading.Thread) -> bool:
    """Whether ``sessions`` sessions come to wait for the registry lock of ``database_url``'s
    schema (adapters/db/registry_lock.py) while ``thread`` is alive: False once the thread
    has ended without it, which a thread that does not wait for the lock does, in seconds."""
    waiting = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = :space AND objid::integer = hashtext(current_schema())"
    )
    engine = make_engine(database_url)
    deadline = time.monotonic() + WAIT
    try:
        with engine.connect() as connection:
            while time.monotonic() < deadline and thread.is_alive():
                found = connection.scalar(text(waiting), {"space": REGISTRY_LOCK_SPACE})
                connection.rollback()
                if found == sessions:
                    return True
                time.sleep(0.02)
    finally:
        engine.dispose()
    return False


@POSTGRES_ONLY
def test_a_night_between_two_overlapping_imports_misses_nothing(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
) -> None:
    settings = load_settings(registry, environ={"REMINDERS_DATABASE_URL": database_url})
    assert run(registry, database_url, "--date", "2027-02-28")["run_id"] is not None
    # A: PAPER7, Jan's licence without a date, gets one: its first stage (-3 months) falls on
    # 20 January, a night long past, so only "changed by an import" can find it.
    corrected = registry.parent / "corrected.csv"
    paper = f"{JAN};driving_licence;PAPER7;1999-01-01;"
    corrected.write_text(DOCUMENTS.replace(f"{paper};", f"{paper}2027-04-20;"), encoding="utf-8")
    assert corrected.read_text(encoding="utf-8") != DOCUMENTS
    engines = [make_engine(database_url) for _ in range(2)]
    failures: list[BaseException] = []

    def guarded(work: object) -> threading.Thread:
        def target() -> None:
            try:
                work()  # type: ignore[operator]
            except BaseException as err:
                failures.append(err)

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        return thread

    columns, required = REGISTRY_FORMATS[RegistryKind.DOCUMENTS]
    try:
        with RegistryFile(corrected, columns, required) as file:
            held = HeldSource(file)
            import_a = guarded(
                lambda: import_registry(
                    RegistryKind.DOCUMENTS,
                    held,
                    unit_of_work(engines[0]),
                    countries=iso_country_codes(),
                    now=lambda: datetime(2027, 3, 1, 6, tzinfo=UTC),
                )
            )
            assert held.started.wait(30), "import A did not start"
            # B: the persons again, unchanged; it takes the next id.
            import_b = guarded(
                lambda: import_registry_file(
                    RegistryKind.PERSONS, registry.parent / "persons.csv", engines[1]
                )
            )
            waited = {"import B": waiting_for_registry(database_url, 1, import_b)}
            night = guarded(
                lambda: nightly_job(
                    settings, as_of=date(2027, 3, 1), nis_codes=None, started_by="test"
                )
            )
            # Both wait for A (two sessions waiting: B still does); without the lock B would
            # commit and the night run, and neither would ever be seen waiting.
            waited["night"] = waiting_for_registry(database_url, 2, night)
            held.release.set()
            for thread in (import_a, import_b, night):
                thread.join(120)
                assert not thread.is_alive()
    finally:
        for engine in engines:
            engine.dispose()
    assert not failures, failures
    assert waited == {"import B": True, "night": True}
    run(registry, database_url, "--date", "2027-03-02")
    paper7 = [row for row in recorded(database_url) if row[0] == "PAPER7"]
    assert paper7, "the corrected licence was never decided: the night passed import A"
