"""What the use cases need from the outside world, as Protocols: fakes need no base class."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from reminders.domain.model import RegistryKind
from reminders.domain.registry_rows import MergeCounts, Rejection


class RawRegistryRow(Protocol):
    """One record of a registry file, split into the contract's columns."""

    @property
    def line(self) -> int: ...
    @property
    def fields(self) -> tuple[str, ...]: ...
    @property
    def text(self) -> str: ...
    @property
    def problem(self) -> str | None: ...


class RegistrySource(Protocol):
    """An open registry extract whose header has been checked."""

    path: Path
    size: int
    bytes_read: int
    unknown_columns: tuple[str, ...]

    @property
    def sha256(self) -> str: ...
    def rows(self) -> Iterator[RawRegistryRow]: ...


class RegistryStore(Protocol):
    """Bulk loading of one import, inside one transaction (see adapters/registry_store.py)."""

    def start_import(self, kind: RegistryKind, file_name: str, started_at: datetime) -> int: ...
    def create_staging(self, kind: RegistryKind) -> None: ...
    def stage(self, kind: RegistryKind, rows: Sequence[tuple[Any, ...]]) -> None: ...
    def reject(self, import_id: int, rejections: Sequence[Rejection]) -> None: ...
    def reject_repeated_keys(self, kind: RegistryKind, import_id: int) -> int: ...
    def reject_unknown_holders(self, import_id: int, reason_for: Callable[[str], str]) -> int: ...
    def merge(self, kind: RegistryKind, import_id: int) -> MergeCounts: ...
    def drop_staging(self, kind: RegistryKind) -> None: ...
    def finish_import(
        self,
        import_id: int,
        *,
        file_sha256: str,
        finished_at: datetime,
        rows_read: int,
        counts: MergeCounts,
    ) -> int: ...
    def rejections(self, import_id: int) -> Iterator[tuple[int, str | None, str, str]]: ...


# Opens a transaction and yields the store on it; commits on success, rolls back on error.
StoreTransaction = Callable[[], AbstractContextManager[RegistryStore]]
