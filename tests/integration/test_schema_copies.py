"""The tests' empty databases get the newest schema as a copy (tests/schemas.py), not by running
the migrations each time: the copy must be what the migrations make."""

from __future__ import annotations

import re
import secrets
import shutil
import sqlite3
import subprocess
from pathlib import Path

import psycopg
import pytest

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.schema import current_revision, head_revision, upgrade_schema
from tests.conftest import unavailable
from tests.schemas import libpq, newest_schema, pg_schema


def _sqlite_schema(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
        )
        return [tuple(row) for row in rows]


def _pg_dump(database_url: str) -> str:
    """pg_dump's script of the URL's schema, its name replaced by a fixed one, without psql's
    own commands (their key differs at each dump)."""
    schema = pg_schema(database_url)
    dump = subprocess.run(  # noqa: S603 - PostgreSQL's own client, fixed arguments
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges",  # noqa: S607
         f"--schema={schema}", libpq(database_url)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [line for line in dump.splitlines() if not line.startswith("\\")]
    return _same_check("\n".join(lines).replace(schema, "the_schema"))


def _same_check(dump: str) -> str:
    """A CHECK of a column against a list, written as PostgreSQL deparses it after the
    migrations (the list cast as a whole) rather than after reading its own dump back (each
    item cast): the same constraint, one spelling."""
    each = re.sub(
        r"\('((?:[^']|'')*)'::character varying\)::text", r"'\1'::character varying", dump
    )
    return re.sub(r"ANY \(\(ARRAY\[([^\]]*)\]\)::text\[\]\)", r"ANY (ARRAY[\1])", each)


def test_a_sqlite_copy_is_the_migrated_schema(tmp_path: Path) -> None:
    migrated, copied = tmp_path / "migrated.sqlite3", tmp_path / "copied.sqlite3"
    engine = make_engine(f"sqlite:///{migrated}")
    upgrade_schema(engine)
    engine.dispose()
    newest_schema(f"sqlite:///{copied}")
    assert _sqlite_schema(copied) == _sqlite_schema(migrated)
    assert len(_sqlite_schema(copied)) > 20  # the tables, their indexes, the log's triggers
    copy = make_engine(f"sqlite:///{copied}")
    assert current_revision(copy) == head_revision()
    copy.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_postgresql_copy_is_the_migrated_schema(database_url: str, pg_database: str) -> None:
    if shutil.which("pg_dump") is None:
        unavailable("pg_dump (PostgreSQL's client tools) is not on the PATH")
    migrated = database_url  # the test's own schema, still empty
    engine = make_engine(migrated)
    upgrade_schema(engine)
    engine.dispose()
    copied_schema = f"t_copy_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(pg_database), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{copied_schema}"')
        try:
            copied = f"{pg_database}?options=-csearch_path%3D{copied_schema}"
            newest_schema(copied)
            assert _pg_dump(copied) == _pg_dump(migrated)
            assert "CREATE TRIGGER audit_entry_append_only" in _pg_dump(copied)
            copy = make_engine(copied)
            assert current_revision(copy) == head_revision()
            copy.dispose()
        finally:
            admin.execute(f'DROP SCHEMA "{copied_schema}" CASCADE')
