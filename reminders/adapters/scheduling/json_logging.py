"""The scheduler's log: one JSON object per line on stderr, for the journal and log shippers.

Each line has ``ts`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, then the record's
extra fields (``job``, ``night``, ``run_id``, ...). Records carry ids, counts and NIS codes of
municipalities only, never personal data: whoever logs must keep it so (house-style.md §5).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _LineFormatter(JsonFormatter):
    """JsonFormatter with our field names, and the time first so lines sort and read well."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["ts"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat()
        super().add_fields(log_data, record, message_dict)


class _TextFormatter(logging.Formatter):
    """The plain format, with the record's extra fields appended as ``key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in RESERVED_ATTRS and not key.startswith("_")
        )
        line = super().format(record)
        return f"{line} [{extra}]" if extra else line


def configure_logging(json_lines: bool, level: int | str = logging.INFO) -> None:
    """Send every record at ``level`` or above to stderr, as JSON lines or as plain text.

    Replaces the root logger's handlers, so calling it twice does not double the lines.
    """
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(
            _LineFormatter(
                ["levelname", "name", "message"],
                rename_fields={"levelname": "level", "name": "logger"},
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(_TextFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler's own INFO lines repeat ours ("Running job", "Job executed"); its warnings
    # (a missed fire time, a job store that cannot be read) are worth a line.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # Alembic announces its SQLite/PostgreSQL mode each time the schema version is checked.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
