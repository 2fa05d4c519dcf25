"""Reading a TOML table: typed values, key paths in every error, unknown keys refused.

tomllib keeps no positions, so ``line_of`` finds the line of a bad key in the file's text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from types import UnionType
from typing import Any

from reminders.domain.bounds import parsed_day
from reminders.errors import ConfigError


class Table:
    """A TOML table being read: remembers its key path and rejects keys nobody asked for."""

    def __init__(self, path: Path, key: str, data: object) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, f"expected a table, got {type_name(data)}", key=key or None)
        self.path, self.key, self.data = path, key, data
        self._read: set[str] = set()

    def _child(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.path, problem, key=self._child(name), value=self.data.get(name))

    def _get(self, name: str, expected: type | UnionType, required: bool) -> Any:
        self._read.add(name)
        if name not in self.data:
            if required:
                raise ConfigError(self.path, "missing required key", key=self._child(name))
            return None
        value = self.data[name]
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise self.error(
                name, f"expected {type_name(expected)}, got {type_name(value)} {value!r}"
            )
        return value

    def text(self, name: str, *, required: bool = True) -> str | None:
        value: str | None = self._get(name, str, required)
        if value is not None and not value.strip():
            raise self.error(name, "must not be empty")
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name)
        assert value is not None  # noqa: S101 - required=True raised otherwise
        return value

    def flag(self, name: str) -> bool | None:
        value: bool | None = self._get(name, bool, False)
        return value

    def number(self, name: str, *, minimum: float, maximum: float) -> float | None:
        value = self._get(name, int | float, False)
        if value is not None and not minimum <= value <= maximum:
            expected = f"a number from {minimum:g} to {maximum:g}"
            raise self.error(name, f"expected {expected}, got {value}")
        return None if value is None else float(value)

    def whole_number(self, name: str, *, minimum: int, maximum: int) -> int | None:
        """A count: a number from ``minimum`` to ``maximum`` without a fraction (3 or 3.0)."""
        value = self.number(name, minimum=minimum, maximum=maximum)
        if value is not None and value != int(value):
            raise self.error(name, f"expected a whole number, got {value}")
        return None if value is None else int(value)

    def day(self, name: str, *, required: bool = False) -> date | None:
        """A date, written as a TOML date (2031-01-06) or a string "2031-01-06"."""
        value = self._get(name, str | date, required)
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = value.isoformat()  # checked as text: one message for both ways of writing
        if isinstance(value, str):
            try:
                return parsed_day(value)
            except ValueError as err:
                raise self.error(name, str(err)) from err
        raise self.error(name, f"expected a date like 2031-01-06, got {value!r}")

    def array(self, name: str, *, required: bool = True) -> list[Any] | None:
        value: list[Any] | None = self._get(name, list, required)
        return value

    def table(self, name: str, *, required: bool = True) -> Table | None:
        self._read.add(name)
        if name not in self.data:
            if required:
                raise ConfigError(self.path, "missing required table", key=self._child(name))
            return None
        return Table(self.path, self._child(name), self.data[name])

    def finish(self) -> None:
        """Reject keys that were never read: a typo must not be silently ignored."""
        for name in self.data:
            if name not in self._read:
                raise self.error(name, "unknown key")


def type_name(value: object) -> str:
    if isinstance(value, UnionType):
        return "a date" if date in value.__args__ else "a number"  # str | date, int | float
    kind = value if isinstance(value, type) else type(value)
    names = {str: "a string", int: "an integer", bool: "a boolean", list: "an array"}
    return {**names, dict: "a table", float: "a number"}.get(kind, kind.__name__)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\s\"-]+?)\s*\]\]?")


_SEGMENT = re.compile(r"^([A-Za-z0-9_-]+)(?:\[(\d+)\])?$")


def line_of(lines: Sequence[str], key: str, value: object) -> int | None:
    """The line (1-based) where ``key`` (``municipalities[1].sender.postal_code``) holds
    ``value``, when it can be told for sure; tomllib keeps no positions of its own."""
    segments = [_SEGMENT.match(part) for part in key.split(".")]
    if not all(segments):
        return None
    parts = [(match[1], int(match[2]) if match[2] else None) for match in segments if match]
    headers = [
        (number, match[1] == "[[", re.sub(r"[\s\"]", "", match[2]))
        for number, line in enumerate(lines)
        if (match := _HEADER.match(line)) and not line.lstrip().startswith("#")
    ]
    start, end = 0, headers[0][0] if headers else len(lines)
    table_line: int | None = None  # the header of the table holding the key, if it has one
    for depth in range(len(parts), 0, -1):
        name = ".".join(part for part, _ in parts[:depth])
        index = parts[depth - 1][1]
        found = [number for number, _, header in headers if header == name]
        if found and index is not None and index < len(found):
            start = found[index]
        elif found and index is None and len(found) == 1:
            start = found[0]
        else:
            continue
        end = next((number for number, _, _ in headers if number > start), len(lines))
        if depth == len(parts):
            return start + 1  # the key is the table itself: its header line
        table_line = start + 1
        break
    leaf = re.escape(parts[-1][0])
    pattern = re.compile(rf"(?<![A-Za-z0-9_-]){leaf}\s*=\s*(.*)")
    hits = []
    for number in range(start, end):
        match = pattern.search(lines[number])
        if match and holds(match[1], value):
            hits.append(number + 1)
    if not hits and value is None:
        return table_line  # a missing key: where its table starts (none for the root table)
    return hits[0] if len(hits) == 1 else None


def holds(text: str, value: object) -> bool:
    """Whether the TOML text after ``key =`` starts with ``value`` (strings in either quote)."""
    if isinstance(value, str):
        return text.startswith((f'"{value}"', f"'{value}'"))
    if isinstance(value, bool):
        return text.startswith(str(value).lower())
    if isinstance(value, int | float):
        return text.startswith(str(value))
    return True  # arrays and tables: the key is enough
