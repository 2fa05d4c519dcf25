"""What every `reminders` command shares: error reporting, ``--config``, today's date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from reminders.config import Settings
from reminders.errors import RemindersError

F = TypeVar("F", bound=Callable[..., Any])


def reported(error: RemindersError) -> click.ClickException:
    """click's exception with our message and exit status."""
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
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help=help_text,
    )


def today_in(settings: Settings) -> date:
    """Today in the installation's time zone (not the machine's)."""
    return datetime.now(settings.timezone).date()


def day_or_today(as_of: datetime | None, settings: Settings) -> date:
    """The ``--date`` given, or today in the installation's time zone."""
    return as_of.date() if as_of else today_in(settings)
