"""Which night a person may start a run for (the console): tonight, or a past night that no
run has covered yet; never a night to come (a run for it would send its letters early, and
catch up every night in between), and not a night already run. A run that stopped before it
finished is resumed first: starting another night would resume it anyway, unannounced.

>>> from datetime import date
>>> runs = [KnownRun(7, date(2026, 12, 1), "succeeded", "published", alive=None)]
>>> night_choice(date(2026, 12, 3), date(2026, 12, 3), runs).verdict
'open'
>>> night_choice(date(2027, 3, 1), date(2026, 12, 3), runs).verdict
'future'
>>> night_choice(date(2026, 12, 1), date(2026, 12, 3), runs).verdict
'done'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal


@dataclass(frozen=True, slots=True)
class KnownRun:
    """A run of the municipality as its records say."""

    run_id: int
    as_of: date
    outcome: str  # running, succeeded, failed
    step: str  # the last step it completed
    alive: bool | None  # for a run marked running: is its process still there?

    @property
    def state(self) -> str:
        """succeeded, going, stopped (its process is gone: waiting to resume), failed (kept
        its decisions: resumed by the next run) or failed_clean (kept nothing)."""
        if self.outcome == "succeeded":
            return "succeeded"
        if self.outcome == "running":
            return "stopped" if self.alive is False else "going"
        return "failed" if self.step != "started" else "failed_clean"

    @property
    def unfinished(self) -> bool:
        """Waiting to be resumed (by the next run of its municipality); a run stopped before
        it decided kept nothing, and is only closed."""
        return self.state == "failed" or (self.state == "stopped" and self.step != "started")


Verdict = Literal["open", "future", "done", "resume_first", "going"]


@dataclass(frozen=True, slots=True)
class NightChoice:
    verdict: Verdict
    run: KnownRun | None = None  # the run that did it, is going, or is to be resumed


def night_choice(night: date, today: date, runs: Sequence[KnownRun]) -> NightChoice:
    """Whether a run for ``night`` may start now, given the municipality's runs."""
    going = next((run for run in runs if run.state == "going"), None)
    if going is not None:
        return NightChoice("going", going)
    unfinished = next((run for run in runs if run.unfinished), None)
    if unfinished is not None:
        return NightChoice("resume_first", unfinished)
    if night > today:
        return NightChoice("future")
    succeeded = [run for run in runs if run.state == "succeeded"]
    same = next((run for run in succeeded if run.as_of == night), None)
    if same is not None:
        return NightChoice("done", same)
    # A later run caught up this night already (the missed nights before its own).
    later = min((r for r in succeeded if r.as_of > night), key=lambda r: r.as_of, default=None)
    if later is not None:
        return NightChoice("done", later)
    return NightChoice("open")
