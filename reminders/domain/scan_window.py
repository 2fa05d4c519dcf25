"""Which expiry dates a night must look at: the date windows the scan's SQL narrows by.

A night's cost must follow what is due, not the registry's size. After a run that decided
every day up to P under the same policy, every stage due by P has a decision, so the only
documents whose decision can change by day D are those with a stage due in (P, D], and those
an import changed since (the scan finds those by import). A final grace ending in (P, D] needs
no window of its own: its stage was due by P and so is decided, or only skipped for
`no_address`, which comes before `too_late` and stays open until an import brings an address.
Month offsets clamp and cannot be inverted (domain.md §7.3), but ``expires_on + offset`` never
decreases as ``expires_on`` grows, so each window is found exactly by stepping from an estimate.

>>> from reminders.domain.policy import parse_offset, ReminderPolicy, Stage
>>> from reminders.domain.model import DocumentKind
>>> policy = ReminderPolicy(DocumentKind.EID, (Stage("first", parse_offset("-3 months")),))
>>> expiry_windows(policy, decided_through=date(2027, 2, 27), as_of=date(2027, 2, 28))
(ExpiryWindow(first=datetime.date(2027, 5, 28), last=datetime.date(2027, 5, 31)),)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from reminders.domain.policy import ReminderPolicy, Stage

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ExpiryWindow:
    """Documents expiring from ``first`` to ``last``, both included; ``first`` None: no bound."""

    first: date | None
    last: date

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return (self.first is None or self.first <= day) and day <= self.last


@dataclass(frozen=True, slots=True)
class ScanWatermark:
    """How far a municipality's documents of one kind were decided, and under which policy."""

    policy_digest: str
    decided_through: date
    import_id: int  # the newest registry import that run had read


def expiry_windows(
    policy: ReminderPolicy, *, decided_through: date | None, as_of: date
) -> tuple[ExpiryWindow, ...]:
    """The expiry dates a run on ``as_of`` must scan, given that every day up to
    ``decided_through`` was decided under this same policy (None: never, so scan every
    document whose stages are under way on ``as_of``)."""
    if decided_through is None:
        return _under_way(policy, as_of)
    if decided_through >= as_of:
        return ()
    windows = (_expiring_between(_due(stage), decided_through, as_of) for stage in policy.stages)
    return _merged(window for window in windows if window is not None)


def _under_way(policy: ReminderPolicy, as_of: date) -> tuple[ExpiryWindow, ...]:
    """Documents whose first stage is due by ``as_of`` and whose final grace has not ended;
    with no grace on the final stage, it stays current for ever: no lower bound."""
    last = _last_expiry_with(_due(policy.stages[0]), as_of)
    final = policy.stages[-1]
    if final.final_grace is None:
        return (ExpiryWindow(None, last),)
    first = _last_expiry_with(_grace_end(final), as_of - _DAY) + _DAY
    return (ExpiryWindow(first, last),) if first <= last else ()


# A "moment" maps an expiry date to the day something happens: a stage is due, a grace ends.
_Moment = Callable[[date], date]


def _due(stage: Stage) -> _Moment:
    return stage.offset.applied_to


def _grace_end(stage: Stage) -> _Moment:
    grace = stage.final_grace
    assert grace is not None  # noqa: S101 - only called for a stage with a grace
    return lambda expires_on: grace.applied_to(stage.offset.applied_to(expires_on))


def _expiring_between(moment: _Moment, after: date, until: date) -> ExpiryWindow | None:
    """The expiry dates whose moment falls in (after, until], or None when there are none."""
    first = _last_expiry_with(moment, after) + _DAY
    last = _last_expiry_with(moment, until)
    return ExpiryWindow(first, last) if first <= last else None


def _last_expiry_with(moment: _Moment, day: date) -> date:
    """The latest expiry date whose moment is on or before ``day``. ``moment`` never decreases,
    and the estimate (the offsets undone) is off by at most a few days of month clamping."""
    expires_on = _estimate(moment, day)
    while moment(expires_on) > day:
        expires_on -= _DAY
    while moment(expires_on + _DAY) <= day:
        expires_on += _DAY
    return expires_on


def _estimate(moment: _Moment, day: date) -> date:
    return day - (moment(day) - day)  # undo how far the moment moves a date near ``day``


def _merged(windows: Iterable[ExpiryWindow]) -> tuple[ExpiryWindow, ...]:
    """Overlapping or touching windows as one, in date order."""
    result: list[ExpiryWindow] = []
    for window in sorted(windows, key=lambda w: (w.first or date.min, w.last)):
        previous = result[-1] if result else None
        if previous is not None and (window.first is None or window.first <= previous.last + _DAY):
            result[-1] = ExpiryWindow(previous.first, max(previous.last, window.last))
        else:
            result.append(window)
    return tuple(result)
