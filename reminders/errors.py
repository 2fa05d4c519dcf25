"""The errors `reminders` reports to its users; every message says where (file, line, key)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class ReasonCode(StrEnum):
    """Why a service refused or failed, as a code the web console words in the user's language
    (entrypoints/console/reasons.py has a text for each; a test fails when one is missing).
    The command line keeps the English message the error carries."""

    LOGIN_REFUSED = "login_refused"
    LOGIN_THROTTLED = "login_throttled"  # minutes
    MUNICIPALITY_BUSY = "municipality_busy"  # municipality
    LOG_BEHIND = "log_behind"  # municipality
    RUN_STOPPED = "run_stopped"  # point
    RUN_FAILED = "run_failed"  # error (the exception's class)
    RUN_KILLED = "run_killed"  # step (the last it completed)
    NO_SUCH_VOLUME = "no_such_volume"  # volume
    VOLUME_NOT_FINISHED = "volume_not_finished"  # volume, run
    VOLUME_CANCELLED = "volume_cancelled"  # file
    VOLUME_GONE_TO_PRINT = "volume_gone_to_print"  # file, run
    RUN_NOT_FINISHED = "run_not_finished"  # run
    FOUR_EYES_RUN = "four_eyes_run"  # user, file, run
    FOUR_EYES_REPRINT = "four_eyes_reprint"  # user, file, run
    NOT_A_REFERENCE = "not_a_reference"  # reference
    NO_SUCH_LETTER = "no_such_letter"  # reference
    NO_SUCH_REPRINT = "no_such_reprint"  # reference
    LETTER_ALREADY_CANCELLED = "letter_already_cancelled"  # reference
    LETTER_CANCELLED_NOT_SENT = "letter_cancelled_not_sent"  # reference
    LETTER_NOT_RELEASED = "letter_not_released"  # reference, file
    NO_REPRINT_NOW = "no_reprint_now"  # reference, problem (a skip reason's code)
    LETTERS_NEED_DECISION = "letters_need_decision"  # file, letters
    NOTE_TOO_SHORT = "note_too_short"
    NOTE_TOO_LONG = "note_too_long"  # longest
    NOTE_PERSONAL_DATA = "note_personal_data"
    MUNICIPALITY_NOT_CONFIGURED = "municipality_not_configured"  # municipality
    NO_SUCH_DOCUMENT = "no_such_document"  # document (kind:number)
    NO_POLICY = "no_policy"  # kind
    UNKNOWN_STAGE = "unknown_stage"  # stage, kind, stages
    NO_EXPIRY = "no_expiry"  # document
    NO_ADDRESS = "no_address"  # document


@dataclass(frozen=True, slots=True)
class Reason:
    """Why, as a code and its values (numbers, file names, references: never words, which
    would stay English), for what shows it in the user's language."""

    code: ReasonCode
    values: Mapping[str, str | int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code.value, "values": dict(self.values)}

    @classmethod
    def from_json(cls, data: object) -> Reason | None:
        """A reason sent by another process (None when it is not one we know)."""
        if not isinstance(data, dict):
            return None
        try:
            code = ReasonCode(str(data.get("code")))
        except ValueError:
            return None
        values = data.get("values")
        if not isinstance(values, dict):
            return None
        kept = {
            str(name): value
            for name, value in values.items()
            if isinstance(value, str | int) and not isinstance(value, bool)
        }
        return cls(code, kept)


class RemindersError(Exception):
    """Base of every error the command line turns into ``Error: <message>`` and an exit status.
    ``reason``, when there is one, is the same refusal as a code and values (the console
    words it in the user's language)."""

    exit_code = 1

    def __init__(self, message: str, *, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class UsageError(RemindersError):
    """Bad input, arguments or configuration: the user must change something (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """config.toml is missing, unreadable or inconsistent."""

    def __init__(
        self,
        path: Path,
        problem: str,
        *,
        key: str | None = None,
        line: int | None = None,
        value: object = None,
    ) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")
        self.path, self.key, self.problem, self.line = path, key, problem, line
        self.value = value  # the offending value as TOML read it, to find its line


class InputFileError(UsageError):
    """A registry file as a whole cannot be imported; nothing of it was imported."""

    def __init__(
        self, path: Path, problem: str, *, line: int | None = None, column: str | None = None
    ) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        if column is not None:
            where += f": column {column!r}"
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.column, self.problem = path, line, column, problem


class DatabaseNotReadyError(UsageError):
    """The database has no schema, or an older one: `reminders init` must run first."""


class MunicipalityBusyError(RemindersError):
    """Another run holds a municipality; nothing was done (exit 3)."""

    exit_code = 3
