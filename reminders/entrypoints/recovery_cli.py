"""`reminders backup` and `reminders recover`: a copy of the database to restore one day, and
bringing a restored database up to what its published output says happened since."""

from __future__ import annotations

from pathlib import Path

import click

from reminders.bootstrap import backup_job, recover_job
from reminders.config import load_settings
from reminders.entrypoints.heap import set_up_objects_frozen
from reminders.entrypoints.options import config_option
from reminders.entrypoints.run_watch import recovering
from reminders.services.recover_log import RecoveredLog, Recovery


@click.command()
@config_option
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="The backup file to write (replaced whole once the copy is complete).",
)
def backup(config_path: Path, target: Path) -> None:
    """Copy the SQLite database, consistently even while a run goes, and write beside it
    (FILE.txt) which keys, configuration and output folder belong with it."""
    settings = load_settings(config_path)
    note = backup_job(settings, target)
    click.echo(f"Wrote {target} and {target}.txt:")
    click.echo(note, nl=False)


@click.command()
@config_option
@click.option("--municipality", "nis_code", default=None, help="Only this NIS code's log.")
def recover(config_path: Path, nis_code: str | None) -> None:
    """After restoring the database from a backup: append what the logs published in the
    output folder hold beyond it, restore the runs, letters, skips, e-mails and volumes they
    record, and move run ids past every one published. Safe to run again; exit 2 when a
    published log does not verify."""
    settings = load_settings(config_path)
    nis_codes = [settings.municipality(nis_code).nis_code] if nis_code else None
    with set_up_objects_frozen(), recovering() as progress:
        result = recover_job(settings, nis_codes=nis_codes, progress=progress)
    names = {m.nis_code: m.name for m in settings.municipalities}
    for recovered in result.logs:
        click.echo(_described(recovered, names.get(recovered.municipality_nis, "")))
    _echo_runs(result)


def _described(recovered: RecoveredLog, name: str) -> str:
    where = f"{recovered.municipality_nis} {name}".strip()
    if recovered.nothing_because:
        return f"{where}: nothing to recover ({recovered.nothing_because})."
    runs = ", ".join(str(run) for run in recovered.runs) or "none"
    emails = (
        f"{recovered.emails:,} e-mails, {recovered.emails_failed:,} failed e-mails on paper, "
        if recovered.emails or recovered.emails_failed
        else ""
    )
    return (
        f"{where}: entries {recovered.before:,}-{recovered.published - 1:,} restored from the "
        f"published log ({recovered.appended:,} entries; runs {runs}: {recovered.letters:,} "
        f"letters, {recovered.skips:,} skips, {emails}{recovered.volumes:,} volumes, "
        f"{recovered.after_print:,} changes after the print; {recovered.checkpoints:,} signed "
        "checkpoints)."
    )


def _echo_runs(result: Recovery) -> None:
    if result.published_again:
        runs = ", ".join(str(run) for run in result.published_again)
        click.echo(f"Runs published again and recorded as succeeded: {runs}.")
    if result.waiting:
        runs = ", ".join(str(run) for run in result.waiting)
        click.echo(
            f"Runs restored but waiting for the recovery of another municipality they cover: "
            f"{runs} (run `reminders recover` for it)."
        )
    click.echo(f"Run ids continue after {result.highest_run_id}.")
