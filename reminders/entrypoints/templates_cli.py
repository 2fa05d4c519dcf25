"""`reminders templates copy DIR`: the shipped letter templates, copied to start editing.

A municipality overrides a template by putting a file of the same name in its own folder
(``[letters] templates``, or ``templates`` in its ``[[municipalities]]`` entry); every other
letter keeps the shipped text, also after an upgrade.
"""

from __future__ import annotations

from pathlib import Path

import click

from reminders.adapters.printing.template_copy import copy_shipped_templates
from reminders.entrypoints.options import writing


@click.group()
def templates() -> None:
    """The letter templates shipped with reminders."""


@templates.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.argument("names", nargs=-1)
def copy(folder: Path, names: tuple[str, ...]) -> None:
    """Copy the shipped templates into FOLDER (all, or the NAMES given: a file such as
    eid/first.nl.txt.j2, a kind such as eid, a shared file such as _base.nl.txt.j2).
    Files already in FOLDER are kept as they are."""
    with writing(folder, "FOLDER"):
        result = copy_shipped_templates(folder, names)
    for path in result.kept:
        click.echo(f"Kept {path} (already there).", err=True)
    click.echo(f"Copied {len(result.copied)} shipped templates into {folder}.")
    click.echo(
        "Edit the ones your municipality words differently and delete the others: a file "
        "left there replaces the shipped one, also when reminders is upgraded. Then set "
        f'[letters] templates = "{folder}" (or templates = ... for one municipality) in '
        "config.toml and run `reminders check`."
    )
