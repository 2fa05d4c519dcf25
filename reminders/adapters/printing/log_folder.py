"""The dispatch logs as published in the output folder: one tiled log per municipality
(reminders/domain/tiles.py) under ``<output_dir>/<NIS>/log/``, beside the run folders of its
volumes (``<output_dir>/<NIS>/<date>-run-<id>/``, each with its ``checkpoint-<size>.txt``).

Files are written aside (``log/.incoming/``) and moved into place together by `commit`: the
file system is synced before the renames and after them, so a reader (or a publish killed
half-way, or a power cut) finds each file whole or not at all. One sync of the file system
(Linux ``syncfs``) instead of an fsync per file: a night adds hundreds of tiles, and an fsync
costs milliseconds each. A file already holding the same bytes is left alone, so publishing
again is harmless. Full tiles never change; a wider partial tile is a new file (``<N>.p/<W>``)
and the narrower ones stay until the full tile exists, as tlog-tiles asks (they are what a
client holding an older checkpoint reads).

The seal prepares a night's tiles in ``log/.staged/`` while it appends the entries (it has
them at hand); the publish step moves them into place if they are for the checkpoint it
publishes, and otherwise builds them from the database.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reminders.adapters.private_files import OWNER_ONLY, FileModes
from reminders.domain.tiles import CHECKPOINT_PATH

log = logging.getLogger(__name__)

LOG_FOLDER = "log"  # <output_dir>/<NIS>/log/: the municipality's published log
INCOMING = ".incoming"  # files written, waiting for `commit` to move them into place
STAGED = ".staged"  # tiles the seal prepared, for the publish step
_RUN_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}-run-(\d+)$")
_RUN_CHECKPOINT = re.compile(r"^checkpoint-(\d+)\.txt$")


def _syncfs_function() -> Callable[[int], int] | None:
    """glibc's syncfs(2), when there is one (Linux): flushes one file system at once."""
    try:
        function = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    syncfs: Callable[[int], int] = function
    return syncfs


_SYNCFS = _syncfs_function()


def sync_files(files: list[Path], folders: set[Path]) -> None:
    """Make ``files`` and the entries of ``folders`` durable: one syncfs of their file
    system, or (without syncfs) an fsync of each."""
    anchor = next(iter(folders), None) or (files[0].parent if files else None)
    if anchor is None:
        return
    if _SYNCFS is not None:
        descriptor = os.open(anchor, os.O_RDONLY)
        try:
            if _SYNCFS(descriptor) == 0:
                return
        finally:
            os.close(descriptor)
    for path in [*files, *sorted(folders)]:
        if path.exists():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


class LogFolder:
    """One published log: its checkpoint, hash tiles and entry bundles under ``root``; with
    ``direct``, files are written in place and never synced (a scratch area: `STAGED`)."""

    def __init__(self, root: Path, *, direct: bool = False, modes: FileModes = OWNER_ONLY) -> None:
        self.root, self.direct, self.modes = root, direct, modes
        self._pending: list[str] = []  # written under INCOMING, to move into place
        self._touched: set[Path] = set()  # folders whose entries changed since the last sync

    @property
    def location(self) -> str:
        return str(self.root)

    def read(self, path: str) -> bytes | None:
        """A file's bytes (one written and not committed yet, too), or None."""
        for where in (self.root / INCOMING / path, self.root / path):
            try:
                return where.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                continue
        return None

    def write(self, path: str, data: bytes) -> None:
        """Write a file, to be moved into place by `commit`; a file already holding these
        bytes is left as it is."""
        final = self.root / path
        try:
            if final.read_bytes() == data:
                return
            if path != CHECKPOINT_PATH and ".p/" not in path and not self.direct:
                log.warning("%s: a full tile differed from the database's log; rewritten", final)
        except (FileNotFoundError, NotADirectoryError):
            pass
        target = final if self.direct else self.root / INCOMING / path
        self.modes.make_folders(target.parent)
        self.modes.write_bytes(target, data)
        if not self.direct:
            self._pending.append(path)

    def commit(self) -> None:
        """Move what was written into place, durably: synced before the renames (the bytes)
        and after them (the names)."""
        if not self._pending:
            return
        incoming = self.root / INCOMING
        sync_files([incoming / path for path in self._pending], {incoming})
        for path in self._pending:
            final = self.root / path
            self.modes.make_folders(final.parent)
            os.replace(incoming / path, final)
            self._touched.add(final.parent)
        self._pending = []
        shutil.rmtree(incoming, ignore_errors=True)
        self.sync()

    def discard(self) -> None:
        """Forget what an earlier, stopped attempt wrote and never committed."""
        self._pending = []
        shutil.rmtree(self.root / INCOMING, ignore_errors=True)

    def remove_partials(self, path: str) -> None:
        """Delete the partial versions of the full tile at ``path`` (its ``.p`` folder)."""
        partials = self.root / f"{path}.p"
        if partials.is_dir():
            shutil.rmtree(partials)
            self._touched.add(partials.parent)

    def sync(self) -> None:
        """Make the renames and deletions so far survive a power cut."""
        if self._touched:
            sync_files([], self._touched)
        self._touched.clear()

    def staged(self) -> LogFolder:
        """The scratch area beside the log where the seal prepares the next tiles."""
        return LogFolder(self.root / STAGED, direct=True, modes=self.modes)

    def adopt_staged(self) -> None:
        """Move the staged tiles and bundles into place, durably (their checkpoint and notes
        stay behind); the scratch area is then removed."""
        staged = self.staged()
        tiles = staged.root / "tile"
        files = [path for path in tiles.rglob("*") if path.is_file()] if tiles.is_dir() else []
        sync_files(files, {staged.root})
        for path in files:
            final = self.root / path.relative_to(staged.root)
            self.modes.make_folders(final.parent)
            os.replace(path, final)
            self._touched.add(final.parent)
        self.sync()
        staged.clear()

    def clear(self) -> None:
        """Remove this folder and everything in it (a scratch area)."""
        shutil.rmtree(self.root, ignore_errors=True)


class LogFolders:
    """The published logs of every municipality under the output folder."""

    def __init__(self, output_dir: Path, modes: FileModes = OWNER_ONLY) -> None:
        self.output_dir = output_dir.resolve()
        self.modes = modes  # owner-only, or readable by the print operator's group

    def log(self, municipality_nis: str) -> LogFolder:
        return LogFolder(self.output_dir / municipality_nis / LOG_FOLDER, modes=self.modes)

    def run_checkpoints(self, municipality_nis: str) -> list[tuple[str, str]]:
        """The checkpoint files written beside a municipality's volumes, run by run: (path,
        text), oldest run first."""
        found = []
        for folder in self._run_folders(self.output_dir / municipality_nis):
            for file in sorted(folder.iterdir()):
                if _RUN_CHECKPOINT.match(file.name) and file.is_file():
                    found.append((str(file), file.read_text(encoding="utf-8", errors="replace")))
        return found

    def highest_run_id(self) -> int:
        """The highest run id any run folder under the output folder carries (0: none)."""
        highest = 0
        if self.output_dir.is_dir():
            for municipality in self.output_dir.iterdir():
                for folder in self._run_folders(municipality):
                    match = _RUN_FOLDER.match(folder.name)
                    if match:
                        highest = max(highest, int(match.group(1)))
        return highest

    def published(self) -> list[str]:
        """The municipalities that have a published log (a checkpoint at its root)."""
        if not self.output_dir.is_dir():
            return []
        return sorted(
            folder.name
            for folder in self.output_dir.iterdir()
            if (folder / LOG_FOLDER / CHECKPOINT_PATH).is_file()
        )

    @staticmethod
    def _run_folders(municipality: Path) -> list[Path]:
        if not municipality.is_dir():
            return []
        folders = [f for f in municipality.iterdir() if _RUN_FOLDER.match(f.name) and f.is_dir()]
        return sorted(folders, key=lambda f: int(f.name.rsplit("-", 1)[1]))


@dataclass(frozen=True, slots=True)
class FoundLog:
    """A published log found in a folder, with the checkpoint files beside its volumes."""

    municipality_nis: str | None  # None: as its checkpoint's origin says
    log: LogFolder
    run_checkpoints: list[tuple[str, str]]


def published_logs_in(folder: Path) -> list[FoundLog]:
    """The published logs in ``folder``: the log whose root it is, or one per municipality
    when it is an output folder (``<NIS>/log``)."""
    folder = folder.resolve()
    if (folder / CHECKPOINT_PATH).is_file():
        beside: list[tuple[str, str]] = []
        if folder.name == LOG_FOLDER:  # <output>/<NIS>/log: the run folders are its siblings
            beside = LogFolders(folder.parent.parent).run_checkpoints(folder.parent.name)
        return [FoundLog(None, LogFolder(folder), beside)]
    folders = LogFolders(folder)
    return [
        FoundLog(nis, folders.log(nis), folders.run_checkpoints(nis)) for nis in folders.published()
    ]
