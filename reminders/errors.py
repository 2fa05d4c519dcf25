"""The errors `reminders` reports to its users; every message says where (file, line, key)."""

from __future__ import annotations

from pathlib import Path


class RemindersError(Exception):
    """Base of every error the command line turns into ``Error: <message>`` and an exit status."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
