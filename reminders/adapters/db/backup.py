"""`reminders backup` for an embedded SQLite database: a consistent copy made with SQLite's
online backup API while runs go on, and a note beside it saying what belongs with it.

The copy is made in one step, inside one read transaction of the source (WAL: the nightly
writer is not blocked), so it is the database as of one commit: never half a run's step. It is
written under a temporary name, synced, then renamed, so a backup file is whole or absent.
PostgreSQL has its own tools (pg_dump, continuous archiving: docs/operations.md).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from reminders.adapters.private_files import OWNER_ONLY
from reminders.errors import UsageError


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite database URL; UsageError for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise UsageError(
            f"`reminders backup` copies an embedded SQLite database; {url.get_backend_name()} "
            "is backed up with its own tools (pg_dump or continuous archiving: see "
            'docs/operations.md, "Backup, restore, recover")'
        )
    return Path(str(url.database))


def back_up_sqlite(source: Path, target: Path) -> None:
    """Copy the database at ``source`` to ``target`` (replaced whole once the copy is done)."""
    if not source.is_file():
        raise UsageError(f"{source}: no such database file")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        OWNER_ONLY.make_folders(target.parent)
        OWNER_ONLY.write_bytes(temporary, b"")  # SQLite fills the empty file; its mode stays
    except OSError as err:  # a file where a folder should be, no permission, a full disk
        raise UsageError(f"{target}: cannot write a backup there ({err.strerror})") from err
    origin = sqlite3.connect(source, timeout=30)
    try:
        copy = sqlite3.connect(temporary)
        try:
            origin.backup(copy)  # all pages in one step: one read transaction, one snapshot
        finally:
            copy.close()
    finally:
        origin.close()
    with temporary.open("rb") as file:
        os.fsync(file.fileno())
    os.replace(temporary, target)
    descriptor = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_note(path: Path, text: str) -> None:
    """The note beside a backup (plain text, replaced whole)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    OWNER_ONLY.write_text(temporary, text)
    os.replace(temporary, path)
