"""The scheduler's trigger fires once per local night across the DST nights of 2027 in
Europe/Brussels (28 March: 02:00-03:00 does not exist; 31 October: it happens twice), for
nightly times before, inside and after that hour; it pickles, and it finds the night to
catch up."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from reminders.adapters.scheduling.nightly_trigger import (
    NightlyTrigger,
    night_of,
    previous_fire_time,
    trigger_for,
)
from reminders.domain.nightly_job import JobService, JobSpec

BRUSSELS = ZoneInfo("Europe/Brussels")


def utc(text: str) -> datetime:
    """``"03-28 01:30"`` (2027) as an aware UTC datetime."""
    return datetime.strptime(f"2027-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def fire_times(trigger: NightlyTrigger, start: datetime, end: datetime) -> list[datetime]:
    """The fire times from ``start`` to ``end`` as a running scheduler meets them: each next
    one asked for with the previous one and "now" at the moment it fired."""
    found: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire.astimezone(UTC) < end.astimezone(UTC):
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return found


# From local midnight to local midnight: six local nights.
SPRING = (datetime(2027, 3, 26, tzinfo=BRUSSELS), datetime(2027, 4, 1, tzinfo=BRUSSELS))
AUTUMN = (datetime(2027, 10, 29, tzinfo=BRUSSELS), datetime(2027, 11, 4, tzinfo=BRUSSELS))

# One fire per local night, 26-31 March and 29 October-3 November 2027. Winter time is
# UTC+1, summer time UTC+2; the clocks change at 01:00 UTC on 28 March and 31 October.
EXPECTED = {
    (time(1, 30), SPRING): [
        "03-26 00:30", "03-27 00:30", "03-28 00:30",  # 01:30+01:00, before the change
        "03-28 23:30", "03-29 23:30", "03-30 23:30",  # 01:30+02:00 of 29, 30, 31 March
    ],
    (time(2, 30), SPRING): [
        "03-26 01:30", "03-27 01:30",
        "03-28 01:30",  # 02:30 does not exist on 28 March: once, at 03:30+02:00
        "03-29 00:30", "03-30 00:30", "03-31 00:30",
    ],
    (time(3, 0), SPRING): [
        "03-26 02:00", "03-27 02:00",
        "03-28 01:00",  # 03:00+02:00, the first minute of summer time
        "03-29 01:00", "03-30 01:00", "03-31 01:00",
    ],
    (time(1, 30), AUTUMN): [
        "10-28 23:30", "10-29 23:30", "10-30 23:30",  # 01:30+02:00 of 29, 30, 31 October
        "11-01 00:30", "11-02 00:30", "11-03 00:30",
    ],
    (time(2, 30), AUTUMN): [
        "10-29 00:30", "10-30 00:30",
        "10-31 00:30",  # 02:30+02:00; not again at 02:30+01:00 (01:30 UTC)
        "11-01 01:30", "11-02 01:30", "11-03 01:30",
    ],
    (time(3, 0), AUTUMN): [
        "10-29 01:00", "10-30 01:00",
        "10-31 02:00",  # 03:00 comes once, in winter time: the clocks went back at 03:00+02:00
        "11-01 02:00", "11-02 02:00", "11-03 02:00",
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("at", "window", "expected"),
    [(at, window, expected) for (at, window), expected in EXPECTED.items()],
    ids=[f"{at:%H%M}-{'march' if w is SPRING else 'october'}" for at, w in EXPECTED],
)
def test_one_fire_per_local_night_across_dst(
    at: time, window: tuple[datetime, datetime], expected: list[str]
) -> None:
    """The fire times are exactly the expected UTC instants: six nights, six fires."""
    fires = fire_times(NightlyTrigger(at, BRUSSELS), *window)
    assert [fire.astimezone(UTC) for fire in fires] == [utc(text) for text in expected]
    nights = [night_of(fire, BRUSSELS) for fire in fires]
    first = window[0].date()
    assert nights == [first + timedelta(days=n) for n in range(6)]


def test_a_plain_cron_trigger_fires_twice_on_the_fall_back_night() -> None:
    """Why NightlyTrigger exists: APScheduler's CronTrigger at 02:30 fires at 02:30+02:00 and
    again an hour later at 02:30+01:00 on 31 October 2027."""
    cron = CronTrigger(hour=2, minute=30, timezone=BRUSSELS)
    first = cron.get_next_fire_time(None, datetime(2027, 10, 31, tzinfo=BRUSSELS))
    second = cron.get_next_fire_time(first, first)
    assert first.astimezone(UTC) == utc("10-31 00:30")  # 02:30+02:00
    assert second.astimezone(UTC) == utc("10-31 01:30")  # 02:30+01:00, fold=1
    assert first.date() == second.date() == date(2027, 10, 31)


def test_a_restart_between_the_two_half_past_twos_does_not_fire_again() -> None:
    """Started at 02:45+02:00 on 31 October, with no previous fire time remembered, the next
    fire is the next night's, not the repeated 02:30+01:00 a quarter of an hour later."""
    trigger = NightlyTrigger(time(2, 30), BRUSSELS)
    fire = trigger.get_next_fire_time(None, utc("10-31 00:45"))
    assert fire is not None
    assert fire.astimezone(UTC) == utc("11-01 01:30")


def test_fire_times_read_as_real_local_times() -> None:
    """The spring-gap fire reads 03:30+02:00, not the wall time 02:30+01:00 that never was."""
    trigger = NightlyTrigger(time(2, 30), BRUSSELS)
    fire = trigger.get_next_fire_time(None, utc("03-28 00:00"))
    assert fire is not None
    assert fire.isoformat() == "2027-03-28T03:30:00+02:00"


def test_day_of_week_limits_the_nights() -> None:
    """A Sunday job fires on Sundays only, the fall-back Sunday once."""
    trigger = NightlyTrigger(time(2, 30), BRUSSELS, day_of_week="sun")
    fires = fire_times(trigger, utc("10-20 00:00"), utc("11-10 00:00"))
    assert [fire.astimezone(UTC) for fire in fires] == [
        utc("10-24 00:30"),
        utc("10-31 00:30"),
        utc("11-07 01:30"),
    ]


def test_the_trigger_pickles_and_keeps_its_schedule() -> None:
    """SQLAlchemyJobStore pickles triggers: the copy fires at the same instants."""
    trigger = NightlyTrigger(time(2, 30), BRUSSELS, day_of_week="mon-fri")
    copy = pickle.loads(pickle.dumps(trigger))  # noqa: S301 - our own bytes
    assert isinstance(copy, NightlyTrigger)
    assert (copy.at, copy.timezone, copy.day_of_week) == (time(2, 30), BRUSSELS, "mon-fri")
    assert fire_times(copy, *AUTUMN) == fire_times(trigger, *AUTUMN)


def test_it_reads_well_in_logs() -> None:
    """str() and repr() name the time, the days and the time zone."""
    trigger = NightlyTrigger(time(1, 30), BRUSSELS)
    assert str(trigger) == "nightly[at='01:30', day_of_week='*', timezone='Europe/Brussels']"
    assert repr(trigger) == (
        "<NightlyTrigger (at='01:30', day_of_week='*', timezone='Europe/Brussels')>"
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("10-31 00:29", "10-30 00:30"),  # a minute before the night's fire: the night before
        ("10-31 00:30", "10-31 00:30"),  # at the fire time itself
        ("10-31 01:45", "10-31 00:30"),  # after the repeated 02:30, which is no fire time
        ("11-09 12:00", "11-09 01:30"),  # down for days: only the latest night
    ],
)
def test_previous_fire_time_is_the_latest_at_or_before_now(now: str, expected: str) -> None:
    """The start-up catch-up's night: the latest fire time at or before now."""
    fire = previous_fire_time(NightlyTrigger(time(2, 30), BRUSSELS), utc(now))
    assert fire is not None
    assert fire.astimezone(UTC) == utc(expected)


def test_night_of_is_the_local_date() -> None:
    """01:30+01:00 on 1 November is 00:30 UTC on 1 November; 23:30 UTC on 28 March is
    already 29 March in Brussels."""
    assert night_of(utc("11-01 00:30"), BRUSSELS) == date(2027, 11, 1)
    assert night_of(utc("03-28 23:30"), BRUSSELS) == date(2027, 3, 29)


def test_trigger_for_a_job_file() -> None:
    """A job's time and days, in the installation's time zone."""
    job = JobSpec("verify", JobService.AUDIT_VERIFY, None, time(5, 0), day_of_week="sun")
    assert str(trigger_for(job, BRUSSELS)) == (
        "nightly[at='05:00', day_of_week='sun', timezone='Europe/Brussels']"
    )
