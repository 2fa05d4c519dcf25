"""How far the run a process is making has got, from the run's own records: which run its
attempt is, the step it completed, the letters it decided and those already in volumes.
`reminders run` on a terminal polls this for its progress bar (it reads, never writes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, func, select

from reminders.adapters.db.orm import DecisionRow, NightlyRunRow, PrintVolumeRow, RunAttemptRow

_run = cast(Table, NightlyRunRow.__table__)
_attempt = cast(Table, RunAttemptRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_volume = cast(Table, PrintVolumeRow.__table__)


@dataclass(frozen=True, slots=True)
class RunProgress:
    run_id: int
    step: str  # the last step it completed
    letters: int  # decided (0 until the decide step commits)
    printed: int  # in volumes so far
    volumes: int
    planned_volumes: int | None = None  # all municipalities', once the letters are decided

    @property
    def volume_printing(self) -> int | None:
        """The volume being printed now (3 in "volume 3 of 7"), while the run prints."""
        if self.step != "decided" or not self.planned_volumes:
            return None
        return min(self.volumes + 1, self.planned_volumes)


def progress_of(connection: Connection, worker: str) -> RunProgress | None:
    """The run the process ``worker`` (host:pid) is attempting now, if any."""
    run_id = connection.scalar(
        select(_attempt.c.run_id)
        .where(_attempt.c.worker == worker, _attempt.c.outcome == "running")
        .order_by(_attempt.c.run_id.desc())
        .limit(1)
    )
    if run_id is None:
        return None
    step, planned = connection.execute(
        select(_run.c.step, _run.c.planned_volumes).where(_run.c.id == run_id)
    ).one()
    letters = connection.scalar(
        select(func.count()).where(_decision.c.run_id == run_id, _decision.c.reason.is_(None))
    )
    printed, volumes = connection.execute(
        select(func.coalesce(func.sum(_volume.c.letters), 0), func.count()).where(
            _volume.c.run_id == run_id
        )
    ).one()
    plan = json.loads(planned) if planned else None
    return RunProgress(
        int(run_id),
        str(step),
        int(letters or 0),
        int(printed),
        int(volumes),
        sum(plan.values()) if plan else None,
    )
