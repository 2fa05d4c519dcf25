"""Where a run may be stopped: on request (SIGTERM to the scheduler), at the next safe point,
or, for the crash tests, killed outright at a named point.

The points are the boundaries between a run's committed steps, and inside them where a kill
is most likely to break something (files written, not yet recorded; recorded, not yet
renamed). ``REMINDERS_KILL_AT="<point>"`` or ``"<point>#<n>"`` makes the process SIGKILL
itself the n-th time it reaches that point: no handler, no cleanup, as a power cut would.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from reminders.errors import RemindersError

KILL_AT_VARIABLE = "REMINDERS_KILL_AT"
KILL_POINTS = (
    "decide:recorded",  # decisions written, the decide transaction not committed
    "decide:committed",
    # Issue 25: an e-mail recorded as being sent (committed) but not handed to the relay yet,
    # and one whose relay answer is committed (#n: the n-th e-mail)
    "email:recorded",
    "email:answered",
    "print:volume-staged",  # a volume's files staged, its rows not committed (#n: n-th volume)
    "print:volume-recorded",  # after a volume's commit
    "seal:appended",  # log entries and checkpoints written, not committed
    "seal:committed",  # nothing published yet
    "publish:log-tiles",  # a log's tiles written, not its checkpoint (#n: n-th municipality)
    "publish:log-checkpoint",  # a log's checkpoint written (#n)
    "publish:renamed",  # one volume's files renamed (#n)
    "publish:delivered",  # one volume copied to the pick-up folder and so recorded (#n)
    "publish:done",  # every file renamed, the success not yet recorded
    # After the print (issue 21): each step of a release, cancellation or reprint.
    "release:recut-staged",  # a re-cut volume's files staged, not recorded
    "release:recut-appended",  # the re-cut recorded and logged, not committed
    "release:recut-committed",  # the re-cut committed, its files not renamed yet
    "release:appended",  # the release recorded and logged, not committed
    "release:committed",  # released, not yet in the pick-up folder
    "release:delivered",  # in the pick-up folder, not yet recorded as delivered
    "cancel:appended",  # the cancellation recorded and logged, not committed
    "reprint:staged",  # the reprint volume's files staged, not recorded
    "reprint:appended",  # the reprint recorded and logged, not committed
    "reprint:committed",  # committed, its files not renamed yet
    # `reminders recover` (services/recover_log.py), per municipality (#n: the n-th)
    "recover:verified",  # the published log checked, its missing entries appended: not committed
    "recover:appended",  # the last of them written and the root checked, not committed
    "recover:restored",  # what they record restored too, not committed
    "recover:committed",  # entries and records committed; the runs not published again yet
    "recover:run-published",  # one restored run published again and recorded (#n)
)


class StopSignal(Protocol):
    """A request to stop (threading.Event fits)."""

    def is_set(self) -> bool: ...


class StopRequestedError(Exception):
    """Raised at a point when a stop was requested; the run records it and ends."""

    def __init__(self, point: str) -> None:
        super().__init__(f"stopped on request at {point}")
        self.point = point


@dataclass(slots=True)
class RunControl:
    """Checked by a run at each of its points: stop when asked, die when told to (tests)."""

    stop: StopSignal | None = None
    kill_at: tuple[str, int] | None = None
    _reached: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str], stop: StopSignal | None = None
    ) -> RunControl:
        value = environ.get(KILL_AT_VARIABLE, "").strip()
        if not value:
            return cls(stop)
        point, _, nth = value.partition("#")
        if point not in KILL_POINTS or (nth and not nth.isdigit()):
            raise RemindersError(
                f"{KILL_AT_VARIABLE}={value!r}: expected one of {', '.join(KILL_POINTS)}, "
                "optionally followed by #<n>"
            )
        return cls(stop, (point, int(nth or 1)))

    def reached(self, point: str) -> None:
        """Called at each point: SIGKILLs the process if told to, and stops the run if a stop
        was requested (every point is a safe place to stop)."""
        self._reached[point] += 1
        if self.kill_at == (point, self._reached[point]):
            os.kill(os.getpid(), signal.SIGKILL)
        if self.stop is not None and self.stop.is_set():
            raise StopRequestedError(point)
