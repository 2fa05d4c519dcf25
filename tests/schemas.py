"""The newest schema for the tests' empty databases, migrated once per test process and engine,
then copied: running the twelve Alembic migrations took 70-120 ms of CPU a database on SQLite and
about 195 ms on PostgreSQL (105 ms of it Alembic's, in the test's process), for several hundred
databases a suite.

- SQLite: a database file migrated once, copied through the backup API.
- PostgreSQL: a schema migrated once in the session's database, and the script pg_dump writes
  of it (its tables, indexes, sequences, functions and triggers), replayed into each new schema
  under that schema's name; then Alembic's revision, which a schema-only dump leaves out.
  Without pg_dump on the PATH, each schema is migrated.

The migrations themselves are tested by tests/integration/test_migrations.py, and
`reminders init` keeps running them wherever a test calls it;
tests/integration/test_schema_copies.py checks that a copy is the migrated schema.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.schema import SCHEMA_REVISION, VERSION_TABLE, upgrade_schema

_SQLITE_TEMPLATE: list[Path] = []  # the migrated file, once made
_PG_SCRIPTS: dict[str, str] = {}  # by database (libpq URL): the dump, its schema as _NAME
_NAME = "t_template_schema"  # its schema's name in the script (renamed before each use)


def newest_schema(database_url: str) -> None:
    """Give the empty database at ``database_url`` (a SQLite file not yet written, or a
    PostgreSQL schema named by its search_path) the newest schema, as `upgrade_schema`
    makes it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        target = Path(url.database)
        if target.exists():  # not empty: migrate it as it is
            _migrate(database_url)
            return
        _sqlite_copy(target)
        return
    if shutil.which("pg_dump") is None:  # no PostgreSQL client tools here: migrate each
        _migrate(database_url)
        return
    schema = pg_schema(database_url)
    script = _pg_script(database_url).replace(_NAME, schema)
    with (
        psycopg.connect(libpq(database_url), autocommit=True) as connection,
        connection.transaction(),
    ):
        connection.execute(script.encode())
        connection.execute(
            f'INSERT INTO "{schema}".{VERSION_TABLE} (version_num) VALUES (%s)',
            (SCHEMA_REVISION,),
        )


def libpq(database_url: str) -> str:
    """The URL libpq (psycopg, pg_dump) reads: no driver name, no query."""
    return (
        make_url(database_url)
        .set(drivername="postgresql", query={})
        .render_as_string(hide_password=False)
    )


def pg_schema(database_url: str) -> str:
    """The schema a test's PostgreSQL URL works in (its search_path option)."""
    options = make_url(database_url).query["options"]
    assert isinstance(options, str)
    assert options.startswith("-csearch_path="), options
    return options.removeprefix("-csearch_path=")


def _migrate(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()


def _sqlite_copy(target: Path) -> None:
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="reminders-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "newest.sqlite3"
        _migrate(f"sqlite:///{template}")
        _SQLITE_TEMPLATE.append(template)
    origin, copied = sqlite3.connect(_SQLITE_TEMPLATE[0]), sqlite3.connect(target)
    try:
        origin.backup(copied)
    finally:
        origin.close()
        copied.close()


def _pg_script(database_url: str) -> str:
    """pg_dump's script of a schema migrated in the database of ``database_url``, made once:
    psql's own commands (``\\restrict``) and the CREATE SCHEMA left out, the schema named
    _NAME. The migrated schema is dropped again."""
    database = libpq(database_url)
    if database in _PG_SCRIPTS:
        return _PG_SCRIPTS[database]
    template = f"t_migrated_{secrets.token_hex(4)}"
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{template}"')
        try:
            _migrate(
                make_url(database_url)
                .set(query={"options": f"-csearch_path={template}"})
                .render_as_string(hide_password=False)
            )
            dump = subprocess.run(  # noqa: S603 - PostgreSQL's own client, fixed arguments
                ["pg_dump", "--schema-only", "--no-owner", "--no-privileges",  # noqa: S607
                 f"--schema={template}", database],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
        finally:
            admin.execute(f'DROP SCHEMA "{template}" CASCADE')
    lines = [
        line
        for line in dump.splitlines()
        if not line.startswith("\\") and not line.startswith("CREATE SCHEMA ")
    ]
    script = "\n".join(lines).replace(template, _NAME)
    _PG_SCRIPTS[database] = script
    return script
