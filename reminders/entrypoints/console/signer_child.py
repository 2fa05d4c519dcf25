"""The console's way to the dispatch log's private key: it never reads the key itself. What
signs (a reveal sealed into the log, a release, a delivery, a cancellation, a reprint) is done
by `reminders console-signer` in a child process, as runs are (run_launcher.py); the console
waits for it (in its thread pool: other requests go on) and shows its answer or its error."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from reminders.entrypoints.console.run_launcher import told_reason
from reminders.entrypoints.options import REASONS_VARIABLE
from reminders.errors import MunicipalityBusyError, RemindersError, UsageError

log = logging.getLogger(__name__)

SIGNER_TIMEOUT_SECONDS = 600.0  # a release re-cuts and copies a volume: minutes at most


class SignerFailedError(Exception):
    """The child ended without its answer or one of our errors: a bug, shown as a 500 page
    without details (they go to the server's log)."""


class SignerChild:
    """Starts `reminders console-signer` on the console's configuration and database."""

    def __init__(self, config_path: Path, database_url: str) -> None:
        self._command = [sys.executable, "-m", "reminders", "console-signer",
                         "--config", str(config_path.resolve())]  # fmt: skip
        # The child works on the console's own database, whatever the environment says.
        self._environment = {**os.environ, "REMINDERS_DATABASE_URL": database_url,
                             REASONS_VARIABLE: "stderr"}  # fmt: skip

    def ask(self, action: str, nis: str, now: datetime, **request: Any) -> dict[str, Any]:
        """Do ``action`` in the child; its JSON answer, or its error raised here as ours."""
        message = json.dumps({"action": action, "nis": nis, "now": now.isoformat(), **request})
        done = subprocess.run(  # noqa: S603 - our own command, no shell
            self._command,
            input=message.encode("utf-8"),
            capture_output=True,
            env=self._environment,
            timeout=SIGNER_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode == 0:
            answer: dict[str, Any] = json.loads(done.stdout.decode("utf-8"))
            return answer
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        if not lines or not lines[-1].startswith("Error: "):  # a failure, not an answer:
            log.error("console-signer %s failed (exit %s): %s", action, done.returncode,
                      "\n".join(lines[-20:]))  # fmt: skip
            raise SignerFailedError(f"the console's signer process failed ({action})")
        said = lines[-1].removeprefix("Error: ")[:500]
        reason = told_reason(lines)
        if done.returncode == UsageError.exit_code:
            raise UsageError(said, reason=reason)
        if done.returncode == MunicipalityBusyError.exit_code:
            raise MunicipalityBusyError(said, reason=reason)
        raise RemindersError(said, reason=reason)
