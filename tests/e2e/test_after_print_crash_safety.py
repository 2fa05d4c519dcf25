"""Release, cancel and reprint stopped at every step and run again (issue 21), on SQLite and
PostgreSQL: at each of their points (services/run_control.py) the step raises, as a process
killed there would leave things (the transaction open at the point is rolled back, files
written stay); running the command again finishes the job, with every letter once in the
volume released, nothing unreleased in the pick-up folder, one entry per change in the log,
and the log verifying. One real SIGKILL per engine shows the pieces fit."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import AuditEntryRow
from reminders.bootstrap import unit_of_work, utc_now
from reminders.bootstrap.after_print import after_print_of
from reminders.config import load_settings
from reminders.services.after_print import Actor
from reminders.services.release_volumes import cancel_letter, deliver_pending, release_volume
from reminders.services.reprint_letter import reprint_letter
from reminders.services.run_control import KILL_AT_VARIABLE, RunControl
from tests.console_support import PASSWORD
from tests.e2e.after_print_support import (
    BRUSSELS,
    GENT,
    checked_volume,
    in_pickup,
    log_verifies,
    picked_up,
    run_night,
    stored_volumes,
    with_approval,
)
from tests.e2e.run_checks import REMINDERS
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture

T = TypeVar("T")


class StoppedError(Exception):
    """Raised at a point, as a kill there would stop the step."""


class StopAt(RunControl):
    """Raises at the n-th time a point is reached."""

    def __init__(self, point: str) -> None:
        super().__init__()
        self.point = point

    def reached(self, point: str) -> None:
        super().reached(point)
        if point == self.point:
            raise StoppedError(point)


def events(database_url: str) -> Counter[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return Counter(connection.scalars(select(AuditEntryRow.event)))
    finally:
        engine.dispose()


def stopped(step: Callable[[RunControl], T], point: str) -> None:
    with pytest.raises(StoppedError):
        step(StopAt(point))


def test_release_cancel_and_reprint_stopped_at_every_point(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """Each stop leaves something a second attempt finishes: the release of a volume with a
    cancelled letter is stopped at each of its six points in turn, a cancellation and a
    reprint at theirs; then everything is as after clean runs."""
    with_approval(registry, database_url)
    run_night(registry, database_url, RUN_DATE)
    settings = load_settings(registry, environ={"REMINDERS_DATABASE_URL": database_url})
    after = after_print_of(settings)
    engine = make_engine(database_url)
    uow = unit_of_work(engine)
    an, bert = Actor("an", "cli"), Actor("bert", "cli")
    try:
        first = stored_volumes(database_url, GENT)[0]
        cancelled = first.references[1]

        def cancel(control: RunControl) -> object:
            return cancel_letter(cancelled, an, "renewed at the counter", after, uow,
                                 decide_again=False, now=utc_now, control=control)  # fmt: skip

        stopped(cancel, "cancel:appended")
        assert events(database_url)["cancelled"] == 0  # nothing of it was kept
        cancel(RunControl())

        def release(control: RunControl) -> object:
            return release_volume(first.volume_id, bert, after, uow, now=utc_now,
                                  control=control)  # fmt: skip

        for point in ("release:recut-staged", "release:recut-appended",
                      "release:recut-committed", "release:appended", "release:committed",
                      "release:delivered"):  # fmt: skip
            stopped(release, point)
            assert all(
                in_pickup(registry, v.path) not in picked_up(registry, GENT)
                for v in stored_volumes(database_url, GENT)
                if v.state == "held"
            )
        release(RunControl())
        volumes = stored_volumes(database_url, GENT)
        (recut,) = [v for v in volumes if v.kind == "recut"]
        assert recut.state == "released"
        assert recut.references == tuple(r for r in first.references if r != cancelled)
        assert picked_up(registry, GENT) == [in_pickup(registry, recut.path)]
        checked_volume(in_pickup(registry, recut.path))
        assert not list(recut.path.parent.glob(".*.part"))

        brussels = stored_volumes(database_url, BRUSSELS)[0].references[0]

        def reprint(control: RunControl) -> object:
            return reprint_letter(brussels, Actor("cleo", "cli"), "lost in the post", after,
                                  uow, now=utc_now, control=control)  # fmt: skip

        for point in ("reprint:staged", "reprint:appended"):
            stopped(reprint, point)
        stopped(reprint, "reprint:committed")  # kept, not yet delivered
        delivered = deliver_pending(after, uow, municipality_nis=BRUSSELS,
                                    now=utc_now, control=RunControl())  # fmt: skip
        assert [v.file_name for v in delivered] == [f"reprint-{brussels}-R1.pdf"]
        checked_volume(in_pickup(registry, Path(delivered[0].path)))
    finally:
        engine.dispose()
    logged = events(database_url)
    assert (logged["cancelled"], logged["recut"], logged["released"], logged["reprinted"]) == (
        1, 1, 1, 1,
    )  # fmt: skip
    log_verifies(registry, database_url)


def test_a_release_killed_after_its_commit_is_delivered_next_time(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """`reminders release` SIGKILLed once the release is committed, before its files reach
    the pick-up folder: the next `release` delivers it, and only it."""
    with_approval(registry, database_url)
    run_night(registry, database_url, RUN_DATE)
    first = stored_volumes(database_url, GENT)[0]
    command = [REMINDERS, "release", "--config", str(registry), "--volume",
               str(first.volume_id), "--by", "bert", "--password-stdin"]  # fmt: skip
    environment = {**os.environ, "REMINDERS_DATABASE_URL": database_url}
    killed = subprocess.run(  # noqa: S603 - our own command
        command, input=f"{PASSWORD}\n", capture_output=True, text=True, timeout=120,
        env={**environment, KILL_AT_VARIABLE: "release:committed"}, check=False,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    assert picked_up(registry, GENT) == []
    assert next(v.state for v in stored_volumes(database_url, GENT)) == "released"
    listed = subprocess.run(  # noqa: S603 - our own command
        [REMINDERS, "release", "--config", str(registry), "--municipality", GENT],
        capture_output=True, text=True, timeout=120, env=environment, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert f"Delivered volume {first.volume_id}" in listed.stdout
    assert picked_up(registry, GENT) == [in_pickup(registry, first.path)]
    checked_volume(in_pickup(registry, first.path))
    log_verifies(registry, database_url)
