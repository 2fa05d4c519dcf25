"""The scheduler's trigger: a local wall-clock time that fires at most once per local night.

APScheduler 3.11's CronTrigger follows the wall clock literally. On the night the clocks fall
back (Europe/Brussels, last Sunday of October) a time between 02:00 and 03:00 happens twice,
and so does the fire: ``CronTrigger(hour=2, minute=30)`` fires at 2027-10-31 02:30+02:00 and
again at 02:30+01:00, an hour later (domain.md §7.1; agronholm/apscheduler #606, #1021). In the
spring gap (02:30 on 2027-03-28 does not exist) it fires once at 01:30 UTC, which is 03:30
local: that one we keep. NightlyTrigger wraps CronTrigger and keeps only the first fire of each
local calendar date, so the rule holds whatever ``previous_fire_time`` APScheduler remembers,
even after a restart between the two 02:30s.

The run itself does not rely on this: a second fire for a night finds the night's run already
succeeded (``skip_if_done``) and does nothing. The trigger only keeps the logs honest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from reminders.domain.nightly_job import JobSpec

# Further back than any day_of_week pattern can leave between two fires (a weekly job: 7 days).
_LOOK_BACK = timedelta(days=8)
_STATE_VERSION = 1


class NightlyTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3.x is untyped
    """Fires at ``at`` local time on the days ``day_of_week`` allows, once per local date.

    Pickled into the job store (SQLAlchemyJobStore) by its own small state, not CronTrigger's
    internals, so a stored job survives an APScheduler upgrade within 3.x.
    """

    __slots__ = ("_cron", "at", "day_of_week", "timezone")

    def __init__(self, at: time, timezone: ZoneInfo, day_of_week: str = "*") -> None:
        self.at, self.timezone, self.day_of_week = at, timezone, day_of_week
        self._cron = _cron(at, timezone, day_of_week)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The next fire time after ``previous_fire_time`` (or from ``now``), in local time.

        A cron fire time that is not the first of its local date (the repeated hour's second
        02:30) is skipped. The result is normalised through UTC, so a fire in the spring gap
        reads 03:30+02:00 rather than the wall time 02:30+01:00 that never happens.
        """
        candidate = self._cron.get_next_fire_time(previous_fire_time, now)
        while candidate is not None and not self._is_first_of_its_night(candidate):
            candidate = self._cron.get_next_fire_time(candidate, _utc(candidate))
        return None if candidate is None else _utc(candidate).astimezone(self.timezone)

    def _is_first_of_its_night(self, fire_time: datetime) -> bool:
        night = night_of(fire_time, self.timezone)
        midnight = datetime.combine(night, time(0), tzinfo=self.timezone)
        first = self._cron.get_next_fire_time(None, midnight)
        # Compare instants in UTC: Python compares two datetimes with the same tzinfo by their
        # wall time alone, so 02:30+02:00 and 02:30+01:00 (fold=1) would be "equal".
        return first is not None and _utc(first) == _utc(fire_time)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": _STATE_VERSION,
            "at": self.at,
            "timezone": self.timezone.key,
            "day_of_week": self.day_of_week,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"cannot restore a NightlyTrigger of state version {state!r}")
        self.at, self.day_of_week = state["at"], state["day_of_week"]
        self.timezone = ZoneInfo(state["timezone"])
        self._cron = _cron(self.at, self.timezone, self.day_of_week)

    def __str__(self) -> str:
        return (
            f"nightly[at='{self.at:%H:%M}', day_of_week='{self.day_of_week}', "
            f"timezone='{self.timezone.key}']"
        )

    def __repr__(self) -> str:
        return (
            f"<NightlyTrigger (at='{self.at:%H:%M}', day_of_week='{self.day_of_week}', "
            f"timezone='{self.timezone.key}')>"
        )


def trigger_for(job: JobSpec, timezone: ZoneInfo) -> NightlyTrigger:
    """The trigger of a job file's schedule in the installation's time zone."""
    return NightlyTrigger(job.at, timezone, job.day_of_week)


def _cron(at: time, timezone: ZoneInfo, day_of_week: str) -> Any:
    # A CronTrigger made without a timezone uses the machine's, not the installation's.
    return CronTrigger(hour=at.hour, minute=at.minute, day_of_week=day_of_week, timezone=timezone)


def night_of(fire_time: datetime, tz: ZoneInfo) -> date:
    """The night a fire time belongs to: its local date, which is the run's ``as_of``.

    Through UTC, because ``astimezone`` to the datetime's own tzinfo changes nothing, not even
    a wall time that does not exist.
    """
    return _utc(fire_time).astimezone(tz).date()


def previous_fire_time(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The latest fire time at or before ``now``: the night a start-up catch-up is for."""
    latest: datetime | None = None
    fire_time: datetime | None = trigger.get_next_fire_time(None, now - _LOOK_BACK)
    while fire_time is not None and _utc(fire_time) <= _utc(now):
        latest = fire_time
        fire_time = trigger.get_next_fire_time(fire_time, now)
    return latest


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
