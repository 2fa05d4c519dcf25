"""A scheduled job as data: which service runs, for which municipalities, and when.

One JobSpec per file in ``jobs/`` (adapters/scheduling/job_files.py reads them). The schedule
is a local wall-clock time in the installation's time zone; the trigger
(adapters/scheduling/nightly_trigger.py) makes it fire at most once per local calendar night,
DST nights included.

>>> from datetime import time
>>> job = JobSpec("nightly", JobService.NIGHTLY_RUN, None, time(1, 30))
>>> job.covers("44021"), str(job.misfire_grace)
(True, '1:00:00')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from enum import StrEnum

# Late beats never, but only by so much: a fire delayed past this is left to the start-up
# catch-up, which asks the data (has tonight's run succeeded?) rather than the clock.
DEFAULT_MISFIRE_GRACE = timedelta(hours=1)


class JobService(StrEnum):
    """What a job runs."""

    NIGHTLY_RUN = "nightly_run"  # decide, print, seal and publish the night's letters
    AUDIT_VERIFY = "audit_verify"  # verify each municipality's dispatch log, record the verdict


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One scheduled job."""

    id: str  # the job's name in the scheduler's job store and in the logs
    service: JobService
    municipalities: tuple[str, ...] | None  # NIS codes; None: every configured municipality
    at: time  # local wall-clock time in the installation's time zone
    day_of_week: str = "*"  # a cron day-of-week field: "*", "sun", "mon-fri", ...
    misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE
    description: str = ""

    def covers(self, nis_code: str) -> bool:
        """Whether the job runs for the municipality with that NIS code."""
        return self.municipalities is None or nis_code in self.municipalities
