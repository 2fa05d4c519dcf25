"""Registry extracts on disk → rows of text, streamed (interfaces.md §1).

Checks what is wrong with a file as a whole (not there, empty, binary, not UTF-8, wrong
delimiter, missing or doubled columns) and raises InputFileError naming the file, line and
column; the meaning of each value is checked by ``reminders.domain.registry_rows``.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple

from reminders.errors import InputFileError

_BOM = b"\xef\xbb\xbf"
# Files people pick by mistake instead of a CSV export, recognised by their first bytes.
_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook?); export the sheet as CSV UTF-8",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook; export the sheet as CSV UTF-8",
    b"%PDF": "a PDF document, not a CSV export",
}
DELIMITERS = (";", ",")  # Belgian spreadsheet exports use ";"


class RawRow(NamedTuple):
    """One record of a registry file: where it starts, its values, and its text as read."""

    line: int  # physical line where the record starts; the header is line 1
    fields: tuple[str, ...]  # values in the order of the columns asked for; "" when absent
    text: str  # the record as it stood in the file, kept with a rejection
    problem: str | None  # a structural problem (wrong number of fields), else None


class RegistryFile:
    """An open registry extract: the header is checked on entry, rows stream from ``rows()``."""

    def __init__(self, path: Path, columns: Sequence[str], required: Sequence[str]) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.required = tuple(required)
        self.delimiter = ";"
        self.unknown_columns: tuple[str, ...] = ()
        self.size = 0
        self.bytes_read = 0
        self._hash = hashlib.sha256()
        self._file: IO[bytes] | None = None
        self._header_width = 0
        self._pick: Callable[[list[str]], Any] | None = None

    @property
    def sha256(self) -> str:
        """SHA-256 of the bytes read so far: the whole file once ``rows()`` is exhausted."""
        return self._hash.hexdigest()

    def __enter__(self) -> RegistryFile:
        try:
            self._file = self.path.open("rb")
            self.size = self.path.stat().st_size
        except FileNotFoundError as err:
            raise InputFileError(self.path, "no such file") from err
        except IsADirectoryError as err:
            raise InputFileError(self.path, "is a directory, not a CSV file") from err
        except OSError as err:
            raise InputFileError(self.path, f"cannot be read: {err.strerror}") from err
        try:
            self._read_header()
        except BaseException:
            self._file.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()

    def _read_header(self) -> None:
        assert self._file is not None  # noqa: S101 - opened by __enter__
        first = self._file.readline()
        self._count(first)
        for signature, what in _SIGNATURES.items():
            if first.startswith(signature):
                raise InputFileError(self.path, f"is {what}")
        if first.startswith(_BOM):
            first = first[len(_BOM) :]
        if not first.strip():
            raise InputFileError(self.path, "is empty: expected a header row with column names")
        header_text = self._decoded(first, 1)
        self.delimiter = _sniffed_delimiter(self.path, header_text, self.columns)
        names = [name.strip().lower() for name in next(csv.reader([header_text], self._dialect()))]
        for name in names:
            if name and names.count(name) > 1:
                raise InputFileError(self.path, "appears twice in the header", line=1, column=name)
        missing = [column for column in self.required if column not in names]
        if missing:
            found = ", ".join(repr(name) for name in names if name) or "none"
            raise InputFileError(
                self.path,
                f"missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(column) for column in missing)} (found: {found})",
                line=1,
            )
        self.unknown_columns = tuple(name for name in names if name not in self.columns)
        self._header_width = len(names)
        # An optional column absent from the file reads the "" appended to every row.
        indices = [names.index(c) if c in names else len(names) for c in self.columns]
        self._pick = itemgetter(*indices)

    def _dialect(self) -> type[csv.Dialect]:
        class Registry(csv.excel):
            delimiter = self.delimiter
            strict = True  # a stray quote is an error with a line, not a silently merged row

        return Registry

    def _count(self, chunk: bytes) -> None:
        self.bytes_read += len(chunk)
        self._hash.update(chunk)

    def _decoded(self, chunk: bytes, line: int) -> str:
        if b"\0" in chunk:
            raise InputFileError(self.path, "contains binary data (NUL bytes), not CSV", line=line)
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputFileError(
                self.path, "is not UTF-8 text; save it as CSV UTF-8", line=line
            ) from err

    def rows(self) -> Iterator[RawRow]:
        """The records after the header; blank lines are skipped."""
        assert self._file is not None  # noqa: S101 - entered
        assert self._pick is not None  # noqa: S101 - entered
        pick, width, pending = self._pick, self._header_width, list[str]()
        last_line = 1

        def lines() -> Iterator[str]:
            nonlocal last_line
            assert self._file is not None  # noqa: S101 - entered
            for chunk in self._file:
                last_line += 1
                self._count(chunk)
                text = self._decoded(chunk, last_line)
                pending.append(text)
                yield text

        reader = csv.reader(lines(), self._dialect())
        start = 2
        try:
            for values in reader:
                text = "".join(pending).rstrip("\r\n")
                pending.clear()
                line, start = start, last_line + 1
                if not values:
                    continue
                problem = None
                if len(values) != width:
                    extra = values[width:]
                    if len(values) < width or any(value.strip() for value in extra):
                        problem = f"has {len(values)} fields, the header has {width}"
                    values = values[:width]
                values.append("")
                if len(values) < width + 1:
                    values.extend([""] * (width + 1 - len(values)))
                picked = pick(values)
                yield RawRow(
                    line, picked if isinstance(picked, tuple) else (picked,), text, problem
                )
        except csv.Error as err:
            raise InputFileError(self.path, f"is not valid CSV: {err}", line=start) from err


def _sniffed_delimiter(path: Path, header: str, columns: Sequence[str]) -> str:
    """The delimiter under which the header names the most known columns."""
    best, best_known = None, 0
    for delimiter in DELIMITERS:
        names = {name.strip().lower() for name in header.split(delimiter)}
        known = len(names.intersection(columns))
        if known > best_known:
            best, best_known = delimiter, known
    if best is None or best_known < 2:
        seen = next((name for name, char in (("tab", "\t"), ("'|'", "|")) if char in header), None)
        hint = f"; the header looks {seen}-separated" if seen else ""
        raise InputFileError(path, f"expected columns separated by ';' or ','{hint}", line=1)
    return best
