"""`reminders bounces import` (issue 25): e-mails that came back go on paper next run."""

from __future__ import annotations

from pathlib import Path

import click

from reminders.bootstrap.emailing import bounces_from_file
from reminders.config import load_settings
from reminders.entrypoints.options import ReportingGroup, config_option


@click.group(cls=ReportingGroup)
def bounces() -> None:
    """E-mailed letters that bounced."""


@bounces.command(name="import")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
def import_bounces_command(config_path: Path, file: Path) -> None:
    """Read a CSV of bounced e-mails (a column reference or message_id, optionally reason).
    Each such letter goes on paper at its municipality's next run, which logs why."""
    settings = load_settings(config_path)
    report = bounces_from_file(settings, file)
    click.echo(
        f"{file.name}: {report.read} lines read; {report.bounced} e-mails bounced (paper at "
        f"the next run); {report.again} known already; {len(report.not_taken)} not taken."
    )
    for line, why in report.not_taken:
        click.echo(f"  {file.name}:{line}: {why}")
