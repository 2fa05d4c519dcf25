"""Registry extracts on disk → rows of text, streamed (interfaces.md §1).

Checks what is wrong with a file as a whole (not there, empty, binary, not UTF-8, wrong
delimiter, missing or doubled columns) and raises InputFileError naming the file, line and
column; the meaning of each value is checked by ``reminders.domain.registry_rows``.
"""

from __future__ import annotations

import csv
import hashlib
import pickle
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple, TypeVar

from reminders.adapters.registry import split_check
from reminders.adapters.registry.split_check import ChildRuns, runs
from reminders.errors import InputFileError

_BOM = b"\xef\xbb\xbf"
# Files people pick by mistake instead of a CSV export, recognised by their first bytes.
_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook?); export the sheet as CSV UTF-8",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook; export the sheet as CSV UTF-8",
    b"%PDF": "a PDF document, not a CSV export",
}
DELIMITERS = (";", ",")  # Belgian spreadsheet exports use ";"
T = TypeVar("T")


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
        self.header_end = 0  # the byte offset of the first record
        self.crossed_at: int | None = None  # set by _records when a record runs across stop_at

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
        self.header_end = self._file.tell()
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
        yield from self.records(self._file, first_line=2)

    def checked(self, check: Callable[[Sequence[RawRow]], T]) -> Iterator[T]:
        """``check`` applied to runs of ``rows()``, in file order; on a large file the records
        past a cut are checked meanwhile in a second process (adapters/registry/split_check.py)."""
        assert self._file is not None  # noqa: S101 - entered
        cut = None
        if split_check.splits(self.size):
            with self.path.open("rb") as file:
                cut = split_check.cut_point(file, self.header_end, self.size)
        if cut is None:
            yield from runs(self.records(self._file, first_line=2), check)
            return
        offset, line = cut

        def child_work(spool: IO[bytes]) -> None:
            with self.path.open("rb") as file:
                file.seek(offset)
                started = self.bytes_read
                for result in runs(self.records(file, first_line=line), check):
                    reached = offset + self.bytes_read - started
                    pickle.dump((reached, result), spool, pickle.HIGHEST_PROTOCOL)

        with ChildRuns[T](child_work) as child:
            yield from runs(self.records(self._file, first_line=2, stop_at=offset), check)
            if self.crossed_at is not None:
                return  # read to the end here: the child's records would come twice
            results = child.results()
            if results is None:  # the child failed: its part is read here, errors and all
                with self.path.open("rb") as file:
                    file.seek(offset)
                    yield from runs(self.records(file, first_line=line), check)
                return
            for reached, result in results:
                self.bytes_read = reached
                yield result
            with self.path.open("rb") as file:
                split_check.sha256_update(self._hash, file, offset)
            self.bytes_read = self.size

    def records(
        self, file: IO[bytes], *, first_line: int, stop_at: int | None = None
    ) -> Iterator[RawRow]:
        """The records of ``file`` from its position, whose physical line is ``first_line``.

        With ``stop_at`` (a byte offset just after a newline), the records end there, unless a
        record runs across it (a quoted line break): then they go on to the end of the file and
        ``crossed_at`` says so, so that the records after it are not read twice."""
        assert self._pick is not None  # noqa: S101 - entered
        pick, width, pending = self._pick, self._header_width, list[str]()
        last_line = first_line - 1
        position = file.tell()

        def lines() -> Iterator[str]:
            nonlocal last_line, position
            for chunk in file:
                if stop_at is not None and position >= stop_at and self.crossed_at is None:
                    if not pending:
                        return
                    self.crossed_at = stop_at  # and on to the end of the file
                last_line += 1
                position += len(chunk)
                self._count(chunk)
                text = self._decoded(chunk, last_line)
                pending.append(text)
                yield text

        reader = csv.reader(lines(), self._dialect())
        start = first_line
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
