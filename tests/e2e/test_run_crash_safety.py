"""`reminders run` killed with SIGKILL and simply run again, on SQLite and PostgreSQL: every
due letter ends up exactly once, in exactly one complete volume on disk, each logged once in a
log that verifies, with no staged or unrecorded file left in the print room; the killed attempt
stays recorded as failed (issue 7, "exactly once under crashes").

Whole processes, on a registry of some 1,250 due letters in nine volumes rendered by two
worker processes: killed at a named point (``REMINDERS_KILL_AT``, "<point>#<n>": the n-th time
it gets there), with its render workers, and killed from outside after a delay, wherever it
then is. Each test compares with a clean, never-killed run on the same registry. Every point of
the run, and a run stopped again while resuming, is tested in the run's own process, a second
or two each: tests/integration/test_run_stopped_and_resumed.py.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.run_checks import (
    Night,
    check_invariants,
    clean_run,
    finish,
    prepared_night,
    running_attempts,
    staged_volumes,
    start_run,
    stop_runs,
)


@pytest.fixture
def night(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Night]:
    night = prepared_night(request, database_url, tmp_path)
    yield night
    stop_runs(night)


def test_a_run_killed_after_a_delay_and_run_again_sends_each_letter_once(night: Night) -> None:
    """SIGKILL from outside while the run prints, wherever it then is: as soon as this test
    sees the files of its second volume staged (polling the print room), not at a point of
    the run's choosing; run again, the same invariants hold. The kill must land before the
    run ends, and after it has recorded its attempt."""
    run = start_run(night)
    staged = staged_volumes(night, run.process, at_least=2)
    run.process.send_signal(signal.SIGKILL)
    ended = finish(run)
    assert ended.returncode == -signal.SIGKILL, (
        f"the run ended (exit {ended.returncode}) before the kill, with {staged} volumes "
        f"staged\n{ended.stderr}"
    )
    # The killed attempt is still marked running until the next run closes it as failed.
    assert running_attempts(night.database_url) == 1
    clean_run(night)
    check_invariants(night, failed_attempts=1)


def _render_workers(pid: int) -> set[int]:
    """The render worker processes (spawned children) of process ``pid``."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return set()
    found = set()
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.add(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_a_run_killed_at_a_named_point_leaves_no_render_worker_and_sends_each_letter_once(
    night: Night,
) -> None:
    """Killed after its 4th volume: its render workers die with it (none outlives a SIGKILL
    of the run's process to write anything, or to hold memory, after the next attempt has
    started); run again, exactly the letters of a clean run, each once, in complete volumes,
    logged once; one failed attempt on record."""
    started = start_run(night, kill_at="print:volume-recorded#4")
    workers: set[int] = set()
    while started.process.poll() is None:
        workers |= _render_workers(started.process.pid)
        time.sleep(0.01)
    assert started.process.returncode == -signal.SIGKILL
    assert len(workers) == 2, f"expected the run's two render workers, saw {sorted(workers)}"
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]
    clean_run(night)
    check_invariants(night, failed_attempts=1)
