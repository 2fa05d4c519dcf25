"""Installations the end-to-end tests start from, made once per test session and copied into
each test's own folder and database, instead of being made again for every test.

An installation is a folder (config.toml and what `reminders init`, the imports and the runs
wrote beside it: the signing key, the print room) and a database. The first test that asks for
one on an engine makes it in a folder of its own (the template); every test then gets a copy:
the database copied (`copy_database`: a SQLite file through the backup API; a PostgreSQL schema
migrated and its rows copied table by table), the folder copied file by file. Each test mutates
its own copy only.

A run stores absolute paths of its print room: in ``print_volume.path`` and in the signed
dispatch log (a volume's entry names its file), which no copy may rewrite. So an installation
that ran has its print room (``var/out``) in one place per test session, `output_place`: a
symlink to it stands in the template's folder and in each copy's. The paths the run stored
(the real path, which `VolumeFolder` resolves) are then those of each copy's print room,
refilled from the template's at each copy. A session's tests run one after another, so one
print room at a time is enough; a test that starts from the registry only, or makes its
installation itself, keeps a print room of its own in its folder.

pytest-xdist runs a test session per worker, each with its own temporary folders, PostgreSQL
database and so its own templates.
"""

from __future__ import annotations

import copy
import secrets
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy.engine import make_url

from reminders.adapters.db.orm import Base
from tests.conftest import example_config
from tests.schemas import libpq, newest_schema, pg_schema

PRINT_ROOM = Path("var/out")  # the example config's output_dir, relative to config.toml

# What a test's installation is made with, in the folder of its config.toml (the example config)
# and on its database (empty); returns what the fixture that made it returned.
Build = Callable[[Path, str], Any]


def copy_database(source_url: str, target_url: str) -> None:
    """Make the database at ``target_url`` a copy of the one at ``source_url``, on the same
    engine: a SQLite file through the backup API, with the source file's mode (whatever
    ``target_url`` held is replaced); a PostgreSQL schema (empty, or migrated without rows)
    given the newest schema (tests/schemas.py), then given the source's rows table by table, its
    sequences set past them."""
    if make_url(target_url).get_backend_name() == "sqlite":
        source, target = make_url(source_url).database, make_url(target_url).database
        assert source
        assert target
        origin, copied = sqlite3.connect(source), sqlite3.connect(target)
        try:
            origin.backup(copied)  # consistent even if a WAL file were left beside it
        finally:
            origin.close()
            copied.close()
        shutil.copymode(source, target)  # owner-only, as `reminders init` makes it
        return
    newest_schema(target_url)  # the tables, the log's triggers, the sequences
    source, target = pg_schema(source_url), pg_schema(target_url)
    with psycopg.connect(libpq(target_url)) as connection:  # one transaction
        # A copy of rows that already satisfy every constraint: skipping the foreign-key
        # triggers (and the log's refusals) halves the time; the tests connect as superuser.
        connection.execute("SET LOCAL session_replication_role = replica")
        for table in Base.metadata.sorted_tables:  # parents before children
            name = table.name
            row = connection.execute(f'SELECT EXISTS (SELECT 1 FROM "{source}"."{name}")')
            if row.fetchone() != (True,):
                continue
            connection.execute(f'INSERT INTO "{target}"."{name}" SELECT * FROM "{source}"."{name}"')
            if "id" in table.c and table.c["id"].primary_key:
                connection.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    f'(SELECT max(id) FROM "{target}"."{name}"))',
                    (f'"{target}"."{name}"',),
                )


@dataclass(frozen=True, slots=True)
class Template:
    """An installation made once in a test session: its folder, its database, the print room
    its runs wrote (a copy kept apart from `output_place`, which the copies share) and what
    its build returned."""

    folder: Path
    database_url: str
    print_room: Path | None  # None: it never ran
    made: Any


# Per installation, engine and test session, kept by this module: the fixtures that copy them
# are defined outside a conftest.py, so a session-scoped one would be made once per module
# importing it.
_TEMPLATES: dict[tuple[str, str, Path], Template] = {}


def output_place(request: pytest.FixtureRequest) -> Path:
    """The one real print room of this test session's installations that ran."""
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    return factory.getbasetemp() / "print-room"


def _print_room_moved(folder: Path, place: Path) -> None:
    """``folder``'s print room a symlink to ``place``, emptied."""
    shutil.rmtree(place, ignore_errors=True)
    place.mkdir(parents=True)
    link = folder / PRINT_ROOM
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        link.rmdir()  # `reminders init` may have made it: empty then
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(place, target_is_directory=True)


def template(
    request: pytest.FixtureRequest, name: str, build: Build, engine: str, *, runs: bool
) -> Template:
    """The installation ``name`` (made by ``build``) of this test session on ``engine``, made
    on first use. ``runs``: ``build`` writes to the print room, which is then `output_place`."""
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    key = (name, engine, factory.getbasetemp())
    if key in _TEMPLATES:
        return _TEMPLATES[key]
    home = factory.mktemp(f"installed-{name}-{engine}")
    folder = home / "folder"
    folder.mkdir()
    config = example_config(folder)
    if runs:
        _print_room_moved(folder, output_place(request))
    # The template's database lives as long as the session: on PostgreSQL a schema of the
    # session's database (dropped with it), on SQLite a file beside the template's folder.
    database = _session_database(request, engine, home)
    made = build(config, database)
    print_room = None
    if runs:
        print_room = home / "print-room"
        shutil.copytree(output_place(request), print_room, symlinks=True)
    _TEMPLATES[key] = Template(folder, database, print_room, made)
    return _TEMPLATES[key]


def _session_database(request: pytest.FixtureRequest, engine: str, home: Path) -> str:
    """An empty database as lasting as the session: on SQLite a file in ``home``, on
    PostgreSQL a schema of the session's database (dropped with it)."""
    if engine == "sqlite":
        return f"sqlite:///{home / 'registry.sqlite3'}"
    return new_pg_schema(request.getfixturevalue("pg_database"), "installed")


def new_pg_schema(database: str, prefix: str) -> str:
    """A new schema in the session's PostgreSQL database (dropped with it): its URL."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(database), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database}?options={quote(f'-csearch_path={schema}')}"


def install(
    request: pytest.FixtureRequest,
    name: str,
    build: Build,
    config: Path,
    database_url: str,
    *,
    runs: bool,
) -> Any:
    """Make ``config``'s folder (holding the example config.toml only) and ``database_url``
    (empty) a copy of the installation ``name`` that ``build`` makes; returns a copy of what
    ``build`` returned."""
    engine = make_url(database_url).get_backend_name()
    made = template(request, name, build, engine, runs=runs)
    folder = config.parent
    shutil.copytree(made.folder, folder, symlinks=True, dirs_exist_ok=True)
    if made.print_room is not None:  # the symlink came with the folder: refill its target
        place = output_place(request)
        shutil.rmtree(place)
        shutil.copytree(made.print_room, place, symlinks=True)
    copy_database(made.database_url, database_url)
    return copy.deepcopy(made.made)
