"""A list of bounced e-mails (issue 25): a CSV with a `reference` or a `message_id` column
(the reference is in each e-mail's subject and X-Reminders-Reference header, the Message-ID
in the bounce), and optionally `reason`. As a relay's bounce mailbox exports it, or as a
person writes it from the bounces they read."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from reminders.errors import InputFileError


class BounceLine(NamedTuple):
    line: int
    key: str  # a reference or a Message-ID
    reason: str


def bounce_lines(path: Path) -> Iterator[BounceLine]:
    """The file's lines; InputFileError (exit 2) for a file that is not such a list."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise InputFileError(path, "no such file") from err
    except UnicodeDecodeError as err:
        raise InputFileError(path, "is not UTF-8 text; save it as CSV UTF-8") from err
    except OSError as err:
        raise InputFileError(path, f"cannot be read: {err.strerror}") from err
    lines = text.splitlines()
    if not lines:
        raise InputFileError(path, "is empty: expected a header with reference or message_id")
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    key = next((name for name in ("reference", "message_id") if name in header), None)
    if key is None:
        raise InputFileError(path, "expected a column reference or message_id", line=1)
    at, why = header.index(key), header.index("reason") if "reason" in header else None
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) <= at or not cells[at].strip():
            raise InputFileError(path, f"no {key}", line=number, column=key)
        reason = cells[why].strip() if why is not None and len(cells) > why else ""
        yield BounceLine(number, cells[at].strip(), reason or "bounced")
