"""The dispatch logs as published in the output folder: one tiled log per municipality
(reminders/domain/tiles.py) under ``<output_dir>/<NIS>/log/``, beside the run folders of its
volumes (``<output_dir>/<NIS>/<date>-run-<id>/``, each with its ``checkpoint-<size>.txt``).

Every file is written under a temporary name, synced and renamed, so a reader (or a run killed
half-way) sees a whole file or none; a file already there with the same bytes is left alone,
so publishing again is harmless. Full tiles never change; a wider partial tile is a new file
(``<N>.p/<W>``) and the narrower ones stay until the full tile exists, as tlog-tiles asks
(they are what a client holding an older checkpoint reads).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from reminders.domain.tiles import CHECKPOINT_PATH

log = logging.getLogger(__name__)

LOG_FOLDER = "log"  # <output_dir>/<NIS>/log/: the municipality's published log
_RUN_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}-run-(\d+)$")
_RUN_CHECKPOINT = re.compile(r"^checkpoint-(\d+)\.txt$")


class LogFolder:
    """One published log: its checkpoint, hash tiles and entry bundles under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._touched: set[Path] = set()  # directories whose entries changed, to sync

    @property
    def location(self) -> str:
        return str(self.root)

    def read(self, path: str) -> bytes | None:
        """A file's bytes, or None when it is not there."""
        try:
            return (self.root / path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def write(self, path: str, data: bytes) -> None:
        """Write a file whole (temporary name, fsync, rename); a file already holding these
        bytes is left as it is."""
        final = self.root / path
        try:
            if final.read_bytes() == data:
                return
            if path != CHECKPOINT_PATH and "/" in path and ".p/" not in path:
                log.warning("%s: a full tile differed from the database's log; rewritten", final)
        except FileNotFoundError:
            pass
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
        self._touched.add(final.parent)

    def remove_partials(self, path: str) -> None:
        """Delete the partial versions of the full tile at ``path`` (its ``.p`` folder)."""
        partials = self.root / f"{path}.p"
        if partials.is_dir():
            shutil.rmtree(partials)
            self._touched.add(partials.parent)

    def sync(self) -> None:
        """Make the renames and deletions so far survive a power cut (fsync each folder)."""
        for directory in sorted(self._touched):
            if directory.is_dir():
                descriptor = os.open(directory, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
        self._touched.clear()


class LogFolders:
    """The published logs of every municipality under the output folder."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir.resolve()

    def log(self, municipality_nis: str) -> LogFolder:
        return LogFolder(self.output_dir / municipality_nis / LOG_FOLDER)

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
