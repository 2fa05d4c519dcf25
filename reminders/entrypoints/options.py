"""What every `reminders` command shares: error reporting, ``--config``, today's date, and
the types of options that take dates, record numbers, durations, hosts and output files, each
bounded so that a value out of range is bad usage (exit 2), never a traceback."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from reminders.config import Settings
from reminders.domain.bounds import parsed_day, parsed_record_number
from reminders.errors import RemindersError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


# Set by the web console for the commands it starts (runs, its signer): an error with a
# reason writes it as one JSON line before its message, which the console words in the
# user's language. People at a terminal never see it.
REASONS_VARIABLE = "REMINDERS_REASONS"
REASON_PREFIX = "Reason: "


def reported(error: RemindersError) -> click.ClickException:
    """click's exception with our message and exit status."""
    if error.reason is not None and os.environ.get(REASONS_VARIABLE) == "stderr":
        click.echo(REASON_PREFIX + json.dumps(error.reason.as_json()), err=True)
    exception = click.ClickException(error.message)
    exception.exit_code = error.exit_code  # type: ignore[misc]  # click reads it per instance
    return exception


class ReportingGroup(click.Group):
    """Turns our errors into click's, with our exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RemindersError as err:
            raise reported(err) from err


def config_option(command: F) -> F:
    """``--config PATH``, taken by every command (interfaces.md §4)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("config.toml"),
        show_default=True,
        help="The installation's configuration file.",
    )(command)


def date_option(help_text: str) -> Callable[[F], F]:
    """``--date YYYY-MM-DD`` (as ``as_of``), with what the date means for the command."""
    return click.option(
        "--date",
        "as_of",
        default=None,
        metavar="YYYY-MM-DD",
        callback=checked_day,
        help=help_text,
    )


def today_in(settings: Settings) -> date:
    """Today in the installation's time zone (not the machine's)."""
    return datetime.now(settings.timezone).date()


def day_or_today(as_of: date | None, settings: Settings) -> date:
    """The ``--date`` given, or today in the installation's time zone."""
    return as_of or today_in(settings)


# Option values checked by callbacks rather than ParamType subclasses: those are generic only
# from click 8.4, and we support 8.1 on.


def checked_day(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """``YYYY-MM-DD``, within the dates the engine supports (domain/bounds.py)."""
    if value is None:
        return None
    try:
        return parsed_day(value)
    except ValueError as err:
        raise click.BadParameter(str(err), param=param) from err


def checked_record_number(
    _ctx: click.Context, param: click.Parameter, value: str | None
) -> int | None:
    """A run's number: ASCII digits, within the database's integers (domain/bounds.py)."""
    if value is None:
        return None
    try:
        return parsed_record_number(value)
    except ValueError as err:
        raise click.BadParameter(str(err), param=param) from err


def seconds_up_to(longest: float) -> Callable[[click.Context, click.Parameter, Any], float]:
    """A number of seconds from 0 to ``longest``: click's FloatRange lets "nan" through."""

    def checked(_ctx: click.Context, param: click.Parameter, value: Any) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not 0 <= seconds <= longest:  # false for nan too
            raise click.BadParameter(
                f"expected seconds from 0 to {longest:g}, got {value!r}", param=param
            )
        return seconds

    return checked


_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]{0,252}")


def checked_host(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An address to listen on: a host name, an IPv4 or an IPv6 address."""
    if value is not None and not _HOST.fullmatch(value):
        raise click.BadParameter(
            f"expected a host name or an IP address, got {value!r}", param=param
        )
    return value


@contextmanager
def writing(path: Path, option: str = "--out") -> Iterator[None]:
    """Around writing ``path``: a folder that does not exist, a file that may not be written
    and the like are bad usage naming the option, not a traceback."""
    try:
        yield
    except OSError as err:
        raise UsageError(f"{option}: cannot write {path}: {err.strerror or err}") from err
