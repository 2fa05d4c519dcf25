"""``[installation]`` and ``[schedule]``: the database, the output folder, the time zone and
the nightly time."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from reminders.config.table import Table
from reminders.errors import ConfigError

DATABASE_URL_VARIABLE = "REMINDERS_DATABASE_URL"


DEFAULT_DATABASE = "sqlite:///var/reminders.sqlite3"

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def checked_url(path: Path, key: str, value: str, base: Path) -> str:
    """The database URL, with a relative SQLite file resolved against ``base``."""
    try:
        url: URL = make_url(value)
    except ArgumentError as err:
        raise ConfigError(path, f"not a database URL: {value!r}", key=key, value=value) from err
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not Path(database).is_absolute():
            url = url.set(database=str(base / database))
        return url.render_as_string(hide_password=False)
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
        return url.render_as_string(hide_password=False)
    raise ConfigError(
        path, f"expected a sqlite:/// or postgresql:// URL, got {backend!r}", key=key, value=value
    )


def timezone_of(table: Table) -> ZoneInfo:
    name = table.text("timezone", required=False) or "Europe/Brussels"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise table.error("timezone", f"unknown time zone {name!r}") from err


def clock(table: Table, name: str) -> time | None:
    value = table.text(name, required=False)
    if value is None:
        return None
    match = _CLOCK.match(value)
    if match is None:
        raise table.error(name, f'expected a time like "01:30", got {value!r}')
    return time(int(match[1]), int(match[2]))
