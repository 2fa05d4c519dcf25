"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests get a database of their own for the session (dropped afterwards) and a schema
of their own per test. They skip with the reason when no server answers, except in CI
(``CI=true``), where a missing PostgreSQL fails the run: a skip would hide a broken path
(``unavailable``, which the tests of other outside services use too).

The suite runs on one worker process per core (pytest-xdist, ``-n auto`` in pyproject.toml):
each worker is a test session of its own, with its own PostgreSQL database and temporary
folders. `pytest_collection_modifyitems` below orders the tests slowest first and keeps on
one worker the tests that share something costly to make (``xdist_group``).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from reminders.adapters.db.engine import make_engine
from tests.schemas import newest_schema

# Tests that share something costly, made once per worker session: run on one worker, it is
# made once. Keyed by the test file, relative to tests/.
XDIST_GROUPS = {
    # one Chromium per session (tests/browser/conftest.py)
    "browser/test_browser_setup.py": "browser",
    "browser/test_console_browser.py": "browser",
    # the imported registry of `reminders run` in processes, per engine (tests/e2e/run_checks.py)
    "e2e/test_run_crash_safety.py": "night-registry",
    "e2e/test_run_lock.py": "night-registry",
    "e2e/test_scheduler.py": "night-registry",
    "e2e/test_render_queue.py": "night-registry",
    # the small one (runs in the worker's own process, and `reminders status` after a kill)
    "integration/test_run_stopped_and_resumed.py": "small-registry",
    "e2e/test_status.py": "small-registry",
}
# The order the tests are handed out in, slowest first, so that the workers end together: a
# file listed here goes before the files after it; the rest, in pytest's order, after these.
SLOWEST_FIRST = (
    "test_code_quality.py",  # mypy alone takes a minute: started first, on a worker of its own
    "e2e/test_run_crash_safety.py",
    "integration/test_run_stopped_and_resumed.py",
    "e2e/test_input_properties.py",
    "e2e/",
    "browser/",
    "integration/",
    "service/",
)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the tests slowest first and put each of XDIST_GROUPS' files on one worker."""
    tests = Path(__file__).resolve().parent

    def where(item: pytest.Item) -> str:
        return item.path.relative_to(tests).as_posix() if item.path.is_relative_to(tests) else ""

    def rank(item: pytest.Item) -> int:
        path = where(item)
        return next(
            (n for n, prefix in enumerate(SLOWEST_FIRST) if path.startswith(prefix)),
            len(SLOWEST_FIRST),
        )

    for item in items:
        if group := XDIST_GROUPS.get(where(item)):
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=rank)  # stable: pytest's order within each rank


# The suite starts hundreds of Python processes (`reminders` commands, render workers, the
# xdist workers). Where the machine sets PYTHONDONTWRITEBYTECODE, as this project's CI machine
# does, each of them compiles the package's modules from source again (about 0.2 s of CPU a
# process here): they share the compiled modules in __pycache__ instead (ignored by git).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

PG_URL = os.environ.get(
    "REMINDERS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REPO = Path(__file__).resolve().parent.parent


def unavailable(reason: str, detail: str = "") -> NoReturn:
    """Skip the test: something it needs from outside is not there (a server, a package).

    Except in CI (``CI`` set), where it fails with the reason and the detail (the tail of a
    command's output, say): a skip there would hide a broken path.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)" + (f"\n{detail}" if detail else ""), pytrace=False)
    pytest.skip(reason)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"reminders_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = psycopg.connect(_libpq(PG_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:
        unavailable(f"PostgreSQL not reachable at {PG_URL}: {err}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def empty_database(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """An empty database on ``request.param``'s engine: a SQLite file in ``folder``, or a
    PostgreSQL schema of its own (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{folder / 'registry.sqlite3'}"
        return
    database = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(database), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{database}?options={quote(f'-csearch_path={schema}')}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each engine: a SQLite file, or a PostgreSQL schema of its own."""
    with empty_database(request, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database with the newest schema (tests/schemas.py: migrated once per
    test process and engine, then copied)."""
    newest_schema(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The example config.toml, copied next to the test's files (the letter templates are
    the ones shipped in the package)."""
    return example_config(tmp_path)


def example_config(folder: Path) -> Path:
    """The example config.toml, copied into ``folder``."""
    path = folder / "config.toml"
    path.write_text((REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return path
