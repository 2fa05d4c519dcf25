"""Wiring of the commands after the print (issue 21): release, cancel, reprint, returns,
a letter's life. Each works on the configured database under the run lock of the
municipality it changes (so never beside a run of it: exit 3 while one goes), with the
installation's templates, renderers, output and pick-up folders and the log's key."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from reminders.adapters.crypto.passwords import Argon2Passwords
from reminders.adapters.db.run_lock import RunLocks
from reminders.adapters.registry.registry_files import RegistryFile
from reminders.bootstrap import (
    console_transaction,
    login_transaction,
    open_engine,
    printing,
    unit_of_work,
    utc_now,
)
from reminders.config import Settings
from reminders.domain.console_access import Role
from reminders.domain.letter_life import LetterLife, letter_life
from reminders.domain.letter_reference import parsed_reference
from reminders.domain.release import VolumeState
from reminders.errors import Reason, ReasonCode
from reminders.services.after_print import Actor, AfterPrint, AfterPrintRefusedError
from reminders.services.console_accounts import authenticated_user, note_action
from reminders.services.nightly_run import MunicipalityLocks
from reminders.services.ports import UnitOfWork
from reminders.services.publish_log import refuse_if_behind
from reminders.services.returned_mail import RETURNS_COLUMNS, ReturnsReport, import_returns
from reminders.services.run_control import RunControl


@dataclass(frozen=True, slots=True)
class AfterPrintSession:
    """What one command after the print works with, its municipality locked."""

    after: AfterPrint
    uow: UnitOfWork
    control: RunControl
    engine: Engine


def municipality_locks(engine: Engine) -> MunicipalityLocks:
    """The run locks on ``engine`` (for the console's pages after the print)."""
    return RunLocks(engine)


def after_print_of(settings: Settings) -> AfterPrint:
    """How the installation prints and seals (checked templates, signing key, folders)."""
    return AfterPrint(printing(settings), settings.policies, settings.campaigns)


@contextmanager
def after_print_session(
    settings: Settings, municipality_nis: str, *, wait_seconds: float = 0.0
) -> Iterator[AfterPrintSession]:
    """The installation opened for a change after the print in one municipality, under its
    run lock. ``REMINDERS_KILL_AT`` (crash tests) is read here, as for runs."""
    settings.municipality(municipality_nis)  # configured, or a clear error
    control = RunControl.from_environment(os.environ)
    after = after_print_of(settings)
    engine = open_engine(settings.database_url)
    try:
        with RunLocks(engine, wait_seconds=wait_seconds)([municipality_nis]):
            uow = unit_of_work(engine)
            with uow:  # a restored database is recovered first (issue 20)
                refuse_if_behind(
                    [municipality_nis], uow.dispatch_log, after.printing.logs,
                    after.printing.keys,
                )  # fmt: skip
            yield AfterPrintSession(after, uow, control, engine)
    finally:
        engine.dispose()


def volume_municipality(settings: Settings, volume_id: int) -> str:
    """The municipality a print volume belongs to (to lock it before changing anything)."""
    engine = open_engine(settings.database_url)
    try:
        with unit_of_work(engine) as uow:
            volume = uow.after_print.volume(volume_id)
    finally:
        engine.dispose()
    if volume is None:
        raise AfterPrintRefusedError(
            f"there is no print volume {volume_id}",
            reason=Reason(ReasonCode.NO_SUCH_VOLUME, {"volume": volume_id}),
        )
    return volume.municipality_nis


def reference_municipality(reference: str) -> str:
    """The municipality a letter's reference names (its first five digits)."""
    parsed = parsed_reference(reference)
    if parsed is None:
        raise AfterPrintRefusedError(
            f"--letter: {reference!r} is not a letter's reference (like 44021-000012-000003)"
        )
    return parsed.municipality_nis


def run_volume_ids(settings: Settings, run_id: int, municipality_nis: str) -> list[int]:
    """The held volumes of a run in a municipality."""
    engine = open_engine(settings.database_url)
    try:
        with unit_of_work(engine) as uow:
            held = uow.after_print.volumes(municipality_nis, [VolumeState.HELD])
    finally:
        engine.dispose()
    return [volume.volume_id for volume in held if volume.run_id == run_id]


def returns_from_file(
    path: Path,
    *,
    municipality_nis: str,
    by: str,
    session: AfterPrintSession,
) -> ReturnsReport:
    """Read a list of returned references (CSV: reference, returned_on, reason) into the
    municipality's log; file-level problems exit 2 and change nothing."""
    with RegistryFile(path, RETURNS_COLUMNS, RETURNS_COLUMNS) as source:
        return import_returns(
            source.rows(),
            file_name=path.name,
            file_sha256=lambda: source.sha256,
            municipality_nis=municipality_nis,
            by=by,
            after=session.after,
            uow=session.uow,
            now=utc_now,
        )


def life_of_letter(settings: Settings, reference: str) -> LetterLife | None:
    """A letter's life, from the dispatch log."""
    parsed = parsed_reference(reference)
    if parsed is None:
        raise AfterPrintRefusedError(
            f"{reference!r} is not a letter's reference (like 44021-000012-000003)"
        )
    engine = open_engine(settings.database_url)
    try:
        with unit_of_work(engine) as uow:
            entries = uow.dispatch_log.letter_history(parsed.original)
    finally:
        engine.dispose()
    return letter_life(parsed.original, entries)


def authenticated_actor(
    session: AfterPrintSession,
    settings: Settings,
    username: str,
    password: str,
    *,
    roles: Collection[Role],
    municipality_nis: str,
    action: str,
) -> Actor:
    """The console user a command acts for (``--by NAME``), their password checked and
    their role in the municipality; acting on the command line (``cli:NAME``)."""
    user = authenticated_user(
        login_transaction(session.engine),
        console_transaction(session.engine),
        Argon2Passwords(),
        username,
        password,
        roles=roles,
        municipality_nis=municipality_nis,
        action=action,
        now=utc_now(),
        max_failures=settings.console.max_failed_logins,
    )
    return Actor(user.username, "cli")


def note_done(
    session: AfterPrintSession, actor: Actor, municipality_nis: str, action: str, **details: Any
) -> None:
    """Write what a command did in a console user's name to the console's activity log."""
    note_action(
        console_transaction(session.engine),
        actor.label,
        municipality_nis,
        action,
        "ok",
        now=utc_now(),
        **details,
    )
