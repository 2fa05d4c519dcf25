"""Every file and folder the product creates, with the modes it promises whatever the caller's
umask: the database, volumes, manifests, checksums, checkpoints, published log tiles, keys,
backups, exports, reports and proofs hold personal data or secrets, so other local users read
none of them.

Owner-only by default: files 0600, folders 0700. The output folder's content (volumes and their
manifests and checksums, checkpoints, the published log, the pick-up folder) is readable by
the print operator's group when config.toml names one (``[print] group``): files 0640, folders
0750, their group set to it. Modes are set on the open file (``fchmod``), not left to the umask,
and a file written again keeps the promised mode even if it had another.
"""

from __future__ import annotations

import grp
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from reminders.errors import ConfigError, RemindersError

_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


@dataclass(frozen=True, slots=True)
class FileModes:
    """How files and folders are created: owner-only, or shared with a group (read only)."""

    group: str | None = None
    gid: int | None = None

    @classmethod
    def shared_with(cls, group: str | None, config_path: Path) -> FileModes:
        """Readable by ``group`` (None: owner-only); a group this machine does not know is a
        configuration error naming the key, found before anything is written."""
        if group is None:
            return cls()
        try:
            return cls(group, grp.getgrnam(group).gr_gid)
        except KeyError:
            raise ConfigError(
                config_path, f"[print] group: no group {group!r} on this machine"
            ) from None

    @property
    def file_mode(self) -> int:
        return 0o600 if self.gid is None else 0o640

    @property
    def folder_mode(self) -> int:
        return 0o700 if self.gid is None else 0o750

    def make_folders(self, folder: Path) -> None:
        """``folder`` and its missing parents, each created with the folder mode (folders
        that exist are left as they are)."""
        missing: list[Path] = []
        current = folder
        while not current.exists():
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
        for path in reversed(missing):
            try:
                os.mkdir(path, self.folder_mode)
            except FileExistsError:
                continue
            self.restrict(path, folder=True)

    def restrict(self, path: Path, *, folder: bool = False) -> None:
        """Give a file or folder (written by another library: SQLite) the promised mode."""
        descriptor = os.open(path, os.O_RDONLY)
        try:
            self._own(descriptor, path, folder=folder)
        finally:
            os.close(descriptor)

    def write_bytes(self, path: Path, content: bytes, *, sync: bool = False) -> None:
        """Write ``content`` to ``path`` (replaced). Its folder must exist: a caller that may
        create it calls `make_folders` first (an ``--out`` file's folder is never created)."""
        with self.open_binary(path) as file:
            file.write(content)
            if sync:
                file.flush()
                os.fsync(file.fileno())

    def write_text(self, path: Path, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    def open_binary(self, path: Path, *, exclusive: bool = False) -> IO[bytes]:
        """``path`` opened for writing (replaced; ``exclusive``: created, never replaced)."""
        flags = _WRITE | (os.O_EXCL if exclusive else 0)
        return os.fdopen(self._opened(path, flags), "wb")

    def open_text(self, path: Path) -> IO[str]:
        """``path`` opened for writing UTF-8 text (no newline translation: CSV writes its own)."""
        return os.fdopen(self._opened(path, _WRITE), "w", encoding="utf-8", newline="")

    def _opened(self, path: Path, flags: int) -> int:
        descriptor = os.open(path, flags, self.file_mode)
        try:
            self._own(descriptor, path, folder=False)
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    def _own(self, descriptor: int, path: Path, *, folder: bool) -> None:
        if self.gid is not None:
            try:
                os.fchown(descriptor, -1, self.gid)
            except PermissionError as err:
                raise RemindersError(
                    f"{path}: cannot give it to group {self.group!r} ([print] group): this "
                    "user must be a member of that group"
                ) from err
        os.fchmod(descriptor, self.folder_mode if folder else self.file_mode)


OWNER_ONLY = FileModes()
