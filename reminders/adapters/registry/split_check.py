"""A large registry extract checked by two processes: its first part here, the rest in a child.

Checking a record (reading it, then domain/registry_rows.py) costs some 6 to 12 µs of Python,
most of an import's time, and a service centre's server has cores to spare during an import.
So a file of at least ``MIN_SPLIT_BYTES`` is cut at a line break ``CHILD_SHARE`` of the way
into its records; a forked child (it inherits the reader and the check, and never touches the
database connection) checks the records from there to the end and spools its results, pickled
a run of ``RUN_ROWS`` records at a time, to an anonymous temporary file, so its memory stays
flat; this process checks and stages its own part meanwhile, then reads the spool back and
stages that. Staging stays in this process and in file order, so the import's transaction
and everything after it are those of one process.

The outcome is that of one process:
- a record that runs across the cut (a quoted line break): this process reads on to the end of
  the file itself (``RegistryFile.records`` tells) and the child's work is dropped;
- a file-level problem in the child's part, or a child that fails for any reason: this process
  reads the child's part itself, and raises what a one-process read raises, at the same line;
- the file's SHA-256: this process hashes the child's part too (hashlib, no Python per row).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from types import TracebackType
from typing import IO, Generic, TypeVar

R = TypeVar("R")
T = TypeVar("T")

MIN_SPLIT_BYTES = 8 << 20  # about 50,000 persons: below that, the fork costs more than it saves
# The child's share of the records: this process also stages the child's rows (unpickling and
# the driver's insert: 2 to 5 µs a row), so it checks fewer of them itself.
CHILD_SHARE = 0.65
RUN_ROWS = 2_000  # records per run handed to the check (and pickled by the child)
_BLOCK = 1 << 20


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def splits(size: int) -> bool:
    """Whether a file of ``size`` bytes is worth a second process here."""
    return size >= MIN_SPLIT_BYTES and usable_cores() > 1


def runs(rows: Iterator[R], check: Callable[[Sequence[R]], T]) -> Iterator[T]:
    """``check`` of each run of ``RUN_ROWS`` consecutive rows."""
    while run := list(islice(rows, RUN_ROWS)):
        yield check(run)


def cut_point(file: IO[bytes], start: int, size: int) -> tuple[int, int] | None:
    """(offset, physical line) of the first line break at or past ``CHILD_SHARE`` of the way
    from ``start`` to the end: where the child starts. None when there is no line break."""
    file.seek(start + int((size - start) * (1 - CHILD_SHARE)))
    file.readline()
    offset = file.tell()
    if offset >= size:
        return None
    file.seek(0)
    breaks, left = 0, offset
    while left > 0:
        block = file.read(min(_BLOCK, left))
        breaks, left = breaks + block.count(b"\n"), left - len(block)
    return offset, breaks + 1


def sha256_update(digest: object, file: IO[bytes], start: int) -> None:
    """Feed the bytes of ``file`` from ``start`` to its end into ``digest`` (a hashlib object)."""
    file.seek(start)
    update = digest.update  # type: ignore[attr-defined]
    while block := file.read(_BLOCK):
        update(block)


class ChildRuns(Generic[T]):
    """A forked child running ``work(spool)``, which pickles (bytes read, result) pairs into
    ``spool``; ``results()`` reads them back once the child is done."""

    def __init__(self, work: Callable[[IO[bytes]], None]) -> None:
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__
        # fork, not spawn: the child needs none of the start-up a new interpreter pays (and
        # the check is a closure over the reader, which spawn would have to pickle).
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_child, args=(work, self._spool), daemon=True)

    def __enter__(self) -> ChildRuns[T]:
        self._process.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._spool.close()

    def results(self) -> Iterator[tuple[int, T]] | None:
        """The child's (bytes read, result) pairs in order; None if it did not finish."""
        self._process.join()
        if self._process.exitcode != 0:
            return None
        self._spool.seek(0)
        return self._read()

    def _read(self) -> Iterator[tuple[int, T]]:
        while (pair := pickle.load(self._spool)) is not None:  # noqa: S301 - our own child's
            yield pair


def _child(work: Callable[[IO[bytes]], None], spool: IO[bytes]) -> None:
    try:
        work(spool)
        pickle.dump(None, spool)  # the end: the parent reads up to here
        spool.flush()
    except BaseException:
        # No traceback: it could quote a registry row. Exit status 1 tells the parent.
        sys.exit(1)
