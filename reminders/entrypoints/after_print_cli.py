"""After the print (issue 21): `reminders release`, `cancel`, `reprint`, `returns import` and
`letter`.

Release, cancel and reprint act in the name of a console user, given with ``--by NAME``: the
user's console password is asked (``--password-stdin`` for scripts) and their role in the
municipality checked (approver to release and cancel, staff or approver to reprint). They
are logged as ``cli:NAME``, and four eyes hold as in the console: the user who started a run
cannot release it. A list of returns is read by whoever runs the command, logged as
``cli:<account>`` like `console-user` changes.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime
from pathlib import Path

import click

from reminders.bootstrap import utc_now
from reminders.bootstrap.after_print import (
    AfterPrintSession,
    after_print_session,
    authenticated_actor,
    life_of_letter,
    note_done,
    reference_municipality,
    returns_from_file,
    run_volume_ids,
    volume_municipality,
)
from reminders.config import Settings, load_settings
from reminders.domain.console_access import Role
from reminders.domain.release import VolumeState
from reminders.entrypoints.options import (
    ReportingGroup,
    checked_record_number,
    config_option,
    seconds_up_to,
)
from reminders.errors import UsageError
from reminders.services.after_print import Actor
from reminders.services.release_volumes import (
    cancel_letter,
    cancel_volume,
    deliver_pending,
    release_volume,
)
from reminders.services.reprint_letter import reprint_letter

MAX_WAIT_SECONDS = 86_400  # as `run --wait`: at most a day

_by = click.option(
    "--by",
    "username",
    metavar="NAME",
    help="The console user acting (their password is asked); logged as cli:NAME.",
)
_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the --by user's password from standard input."
)
_wait = click.option(
    "--wait",
    "wait_seconds",
    type=str,  # checked and converted by the callback: click's float lets "nan" through
    default="0",
    show_default=True,
    callback=seconds_up_to(MAX_WAIT_SECONDS),
    help="Seconds to wait while a run holds the municipality; then exit 3.",
)


def _record_numbers(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[int, ...]:
    """Volume numbers: each as a run's number is checked (ASCII digits, in range)."""
    return tuple(checked_record_number(ctx, param, value) or 0 for value in values)


def _password(username: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt(f"Console password of {username}", hide_input=True))


def _actor(
    session: AfterPrintSession,
    settings: Settings,
    username: str | None,
    from_stdin: bool,
    *,
    roles: tuple[Role, ...],
    nis: str,
    action: str,
) -> Actor:
    if not username:
        wanted = " or ".join(role.value for role in roles)
        raise UsageError(f"--by NAME: say which console user ({wanted} in {nis}) acts")
    return authenticated_actor(
        session,
        settings,
        username,
        _password(username, from_stdin),
        roles=roles,
        municipality_nis=nis,
        action=action,
    )


@click.command()
@config_option
@click.option("--municipality", "nis_code", default=None, help="List its held volumes (NIS).")
@click.option(
    "--volume",
    "volume_ids",
    multiple=True,
    metavar="ID",
    callback=_record_numbers,
    help="Release this volume (its number, as `release --municipality` lists it).",
)
@click.option(
    "--run",
    "run_id",
    default=None,
    metavar="ID",
    callback=checked_record_number,
    help="Release every held volume of a run.",
)
@_by
@_password_stdin
@_wait
def release(
    config_path: Path,
    nis_code: str | None,
    volume_ids: tuple[int, ...],
    run_id: int | None,
    username: str | None,
    password_stdin: bool,
    wait_seconds: float,
) -> None:
    """Release held print volumes to the print shop's pick-up folder (municipalities with
    release = "approval"); letters cancelled in them are cut out first. Without --volume or
    --run: list the municipality's held volumes (and finish deliveries a stop left)."""
    settings = load_settings(config_path)
    if run_id is not None:
        if nis_code is None:
            raise UsageError("--run: give --municipality NIS too")
        volume_ids = (*volume_ids, *run_volume_ids(settings, run_id, nis_code))
        if not volume_ids:
            click.echo(f"Run {run_id} has no held volume in {nis_code}.")
            return
    if not volume_ids:
        if nis_code is None:
            raise UsageError("give --volume ID, --run ID with --municipality, or --municipality")
        _list_held(settings, nis_code, wait_seconds)
        return
    nis = volume_municipality(settings, volume_ids[0])
    if any(volume_municipality(settings, other) != nis for other in volume_ids[1:]):
        raise UsageError("--volume: release the volumes of one municipality at a time")
    if nis_code is not None and nis_code != nis:
        raise UsageError(f"--volume {volume_ids[0]} is a volume of {nis}, not of {nis_code}")
    with after_print_session(settings, nis, wait_seconds=wait_seconds) as session:
        actor = _actor(session, settings, username, password_stdin, roles=(Role.APPROVER,),
                       nis=nis, action="volume_released")  # fmt: skip
        for volume_id in volume_ids:
            released = release_volume(
                volume_id, actor, session.after, session.uow, now=utc_now,
                control=session.control,
            )  # fmt: skip
            volume = released.volume
            if released.already:
                click.echo(f"Volume {volume.volume_id} ({volume.file_name}) was released already.")
                continue
            note_done(session, actor, nis, "volume_released", volume=volume.file_name,
                      run_id=volume.run_id, sha256=volume.sha256)  # fmt: skip
            if released.recut_from is not None:
                click.echo(
                    f"Volume {released.recut_from.volume_id} ({released.recut_from.file_name}) "
                    f"re-cut without its cancelled letters as volume {volume.volume_id} "
                    f"({volume.file_name}, {volume.letters} letters, SHA-256 {volume.sha256})."
                )
            shop = session.after.printing.shop
            click.echo(
                f"Released volume {volume.volume_id} ({volume.letters} letters) to the print "
                f"shop: {shop.delivered(volume.path)}"
            )


def _list_held(settings: Settings, nis: str, wait_seconds: float) -> None:
    with after_print_session(settings, nis, wait_seconds=wait_seconds) as session:
        delivered = deliver_pending(
            session.after, session.uow, municipality_nis=nis, now=utc_now,
            control=session.control,
        )  # fmt: skip
        with session.uow as uow:
            held = uow.after_print.volumes(nis, [VolumeState.HELD])
    for volume in delivered:
        click.echo(f"Delivered volume {volume.volume_id} ({volume.file_name}), released earlier.")
    if not held:
        click.echo(f"No volume of {nis} waits for release.")
        return
    click.echo(f"Held volumes of {nis} (release with --volume ID --by NAME):")
    for volume in held:
        what = "reprint" if volume.kind == "reprint" else f"run {volume.run_id}"
        click.echo(
            f"  {volume.volume_id}: {volume.file_name} ({what}, night of {volume.run_as_of}, "
            f"{volume.letters} letters, started by {volume.requested_by or volume.run_started_by})"
        )


@click.command()
@config_option
@click.option("--letter", "reference", default=None, help="The letter's reference.")
@click.option(
    "--volume",
    "volume_id",
    default=None,
    metavar="ID",
    callback=checked_record_number,
    help="Every letter of a volume.",
)
@click.option("--reason", "note", required=True, help="Why (kept in the log: no personal data).")
@click.option(
    "--decide-again",
    is_flag=True,
    help="Let the next run decide the letter's stage again (default: the stage is closed).",
)
@_by
@_password_stdin
@_wait
def cancel(
    config_path: Path,
    reference: str | None,
    volume_id: int | None,
    note: str,
    decide_again: bool,
    username: str | None,
    password_stdin: bool,
    wait_seconds: float,
) -> None:
    """Stop a letter (or every letter of a volume) before its volume goes to the print shop.
    Its stage is recorded as skipped `cancelled`; the volume is re-cut without it when it is
    released."""
    if (reference is None) == (volume_id is None):
        raise UsageError("give either --letter REFERENCE or --volume ID")
    settings = load_settings(config_path)
    nis = (
        reference_municipality(reference)
        if reference is not None
        else volume_municipality(settings, volume_id or 0)
    )
    with after_print_session(settings, nis, wait_seconds=wait_seconds) as session:
        actor = _actor(session, settings, username, password_stdin, roles=(Role.APPROVER,),
                       nis=nis, action="letter_cancelled")  # fmt: skip
        if reference is not None:
            done = cancel_letter(
                reference, actor, note, session.after, session.uow,
                decide_again=decide_again, now=utc_now, control=session.control,
            )  # fmt: skip
        else:
            done = cancel_volume(
                volume_id or 0, actor, note, session.after, session.uow,
                decide_again=decide_again, now=utc_now, control=session.control,
            )  # fmt: skip
        note_done(session, actor, nis, "letter_cancelled", letters=list(done.references),
                  volume=done.volume.file_name, decide_again=decide_again)  # fmt: skip
    stage = "decided again by the next run" if decide_again else "closed"
    click.echo(
        f"Cancelled {len(done.references)} letter(s) of {done.volume.file_name} "
        f"(run {done.volume.run_id}): {', '.join(done.references)}; the stage is {stage}."
    )
    if done.volume_cancelled:
        click.echo(f"No letter of {done.volume.file_name} is left: it will not go out.")


@click.command()
@config_option
@click.option("--letter", "reference", required=True, help="The letter's reference.")
@click.option("--reason", "note", required=True, help="Why (kept in the log: no personal data).")
@_by
@_password_stdin
@_wait
def reprint(
    config_path: Path,
    reference: str,
    note: str,
    username: str | None,
    password_stdin: bool,
    wait_seconds: float,
) -> None:
    """Print a letter again, with its texts and original date, into a reprint volume of its
    own; its reference gets a suffix (-R1, -R2, ...)."""
    settings = load_settings(config_path)
    nis = reference_municipality(reference)
    with after_print_session(settings, nis, wait_seconds=wait_seconds) as session:
        actor = _actor(session, settings, username, password_stdin,
                       roles=(Role.STAFF, Role.APPROVER), nis=nis,
                       action="letter_reprinted")  # fmt: skip
        done = reprint_letter(
            reference, actor, note, session.after, session.uow, now=utc_now,
            control=session.control,
        )  # fmt: skip
        note_done(session, actor, nis, "letter_reprinted", letter=done.original,
                  reprint=done.reference)  # fmt: skip
        where = session.after.printing.shop.delivered(done.volume.path)
    if done.volume.state is VolumeState.HELD:
        click.echo(
            f"Reprinted {done.original} as {done.reference} in volume {done.volume.volume_id} "
            f"({done.volume.file_name}), held: another approver releases it (reminders release "
            f"--volume {done.volume.volume_id})."
        )
    else:
        click.echo(f"Reprinted {done.original} as {done.reference}: {where}")
    if done.address_changed:
        click.echo("Note: printed to the holder's new address (it changed since).", err=True)


@click.group(cls=ReportingGroup)
def returns() -> None:
    """Letters bpost brought back."""


@returns.command(name="import")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--municipality", "nis_code", required=True, help="Whose letters (NIS code).")
@_wait
def import_returns_command(
    config_path: Path, file: Path, nis_code: str, wait_seconds: float
) -> None:
    """Read a CSV of returned letters (columns reference, returned_on, reason: moved,
    unknown, address_incomplete, refused or deceased, or bpost's words in nl/fr/de). Each is
    logged; no further letter goes to that address for that person until an import changes
    it. Lines that cannot be taken are listed with why, and kept."""
    settings = load_settings(config_path)
    nis = settings.municipality(nis_code).nis_code
    by = f"cli:{getpass.getuser()}"[:40]
    with after_print_session(settings, nis, wait_seconds=wait_seconds) as session:
        report = returns_from_file(file, municipality_nis=nis, by=by, session=session)
    click.echo(
        f"{report.file_name}: {report.lines_read} lines read; {len(report.accepted)} returned "
        f"letters recorded ({report.still_at_address} still at the address they came back "
        f"from: no letter goes there until an import changes it); "
        f"{len(report.problems)} not taken."
    )
    for problem in report.problems:
        click.echo(f"  {report.file_name}:{problem.line}: {problem.problem}")


@click.command()
@config_option
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print it as one JSON object.")
def letter(config_path: Path, reference: str, as_json: bool) -> None:
    """A letter's life from the dispatch log: decided, printed, held, released, cancelled,
    reprinted, returned; with when and by whom."""
    settings = load_settings(config_path)
    life = life_of_letter(settings, reference)
    if life is None:
        raise UsageError(f"no letter with reference {reference.strip().upper()} is in the log")
    if as_json:
        click.echo(json.dumps(life.as_json(), ensure_ascii=False))
        return
    click.echo(
        f"Letter {life.reference} ({life.document_kind} {life.document_number}, stage "
        f"{life.stage}; municipality {life.municipality_nis}):"
    )
    zone = settings.timezone
    for event in life.events:
        at = datetime.fromisoformat(event.at.replace("Z", "+00:00")).astimezone(zone)
        by = f" by {event.by}" if event.by else ""
        click.echo(f"  {at:%Y-%m-%d %H:%M}  {event.state:<9} {event.what}{by}")
