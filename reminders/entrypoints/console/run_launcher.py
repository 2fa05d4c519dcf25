"""Runs started from the console: each is `reminders run` in a process of its own, exactly as
cron or an operator would start it, so a long run neither slows the console nor dies with it
unless the console stops it (SIGTERM: it stops at a safe point and the next run resumes it).

Never twice at once: the console refuses a second start for a municipality while its own
run of it is going, and the run itself takes the municipality's lock, so a run started
elsewhere (the scheduler, a terminal, another console) makes it exit 3, reported as refused.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from reminders.entrypoints.options import REASON_PREFIX, REASONS_VARIABLE
from reminders.errors import MunicipalityBusyError, Reason

BUSY_EXIT = MunicipalityBusyError.exit_code


@dataclass(slots=True)
class LaunchedRun:
    municipality_nis: str
    as_of: date
    actor: str  # console:<user>
    process: subprocess.Popen[bytes]
    exit_status: int | None = None
    run_id: int | None = None
    error: str | None = None  # the command's own message (never personal data)
    reason: Reason | None = None  # the same as a code and values, when it has one
    done: threading.Event = field(default_factory=threading.Event)


# Told when a launched run has ended: its exit status, run id and message are set.
RunEnded = Callable[[LaunchedRun], None]


class RunAlreadyGoingError(Exception):
    """The console's own run of this municipality has not ended yet."""


class RunLauncher:
    def __init__(self, config_path: Path, database_url: str, on_ended: RunEnded) -> None:
        self._config = config_path.resolve()
        # The run works on the console's own database, whatever the environment says.
        self._environment = {**os.environ, "REMINDERS_DATABASE_URL": database_url,
                             REASONS_VARIABLE: "stderr"}  # fmt: skip
        self._on_ended = on_ended
        self._runs: dict[str, LaunchedRun] = {}
        self._lock = threading.Lock()

    def going(self, municipality_nis: str) -> LaunchedRun | None:
        with self._lock:
            launched = self._runs.get(municipality_nis)
        return None if launched is None or launched.done.is_set() else launched

    def start(self, municipality_nis: str, as_of: date, actor: str) -> LaunchedRun:
        command = [
            sys.executable,
            "-m",
            "reminders",
            "run",
            "--config",
            str(self._config),
            "--municipality",
            municipality_nis,
            "--date",
            as_of.isoformat(),
            "--started-by",
            actor,
            "--json",
        ]
        with self._lock:
            earlier = self._runs.get(municipality_nis)
            if earlier is not None and not earlier.done.is_set():
                raise RunAlreadyGoingError(municipality_nis)
            process = subprocess.Popen(  # noqa: S603 - our own command, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._environment,
                start_new_session=True,  # a Ctrl-C meant for the console is not the run's
            )
            launched = LaunchedRun(municipality_nis, as_of, actor, process)
            self._runs[municipality_nis] = launched
        threading.Thread(
            target=self._watch, args=(launched,), name=f"run-{municipality_nis}", daemon=True
        ).start()
        return launched

    def _watch(self, launched: LaunchedRun) -> None:
        out, err = launched.process.communicate()
        launched.exit_status = launched.process.returncode
        try:
            launched.run_id = json.loads(out.decode("utf-8")).get("run_id")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            launched.run_id = None
        lines = err.decode("utf-8", "replace").strip().splitlines()
        launched.error = lines[-1][:300] if lines and launched.exit_status else None
        launched.reason = told_reason(lines) if launched.exit_status else None
        try:
            self._on_ended(launched)
        finally:
            launched.done.set()

    def stop_all(self, *, wait_seconds: float = 30.0) -> None:
        """Ask every run still going to stop at its next safe point, and wait for it."""
        with self._lock:
            going = [run for run in self._runs.values() if not run.done.is_set()]
        for launched in going:
            if launched.process.poll() is None:
                launched.process.send_signal(signal.SIGTERM)
        for launched in going:
            launched.done.wait(wait_seconds)


def told_reason(lines: list[str]) -> Reason | None:
    """The reason a command we started wrote before its error (entrypoints/options.py)."""
    for line in reversed(lines[-5:]):
        if line.startswith(REASON_PREFIX):
            try:
                return Reason.from_json(json.loads(line.removeprefix(REASON_PREFIX)))
            except json.JSONDecodeError:
                return None
    return None
