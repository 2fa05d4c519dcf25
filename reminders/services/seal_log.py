"""Sealing a run into the dispatch log: per municipality, the run's records appended as
entries, then a signed checkpoint over the whole log, kept in the database (publishing writes
it beside the volumes). Runs in one transaction of its own, so a run is logged and sealed
entirely or not at all, and the log never holds entries that no checkpoint covers.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reminders.domain.checkpoint import Checkpoint, KeyRing, SignedCheckpoint, parsed_checkpoint
from reminders.domain.dispatch_log import LogAppender, NewEntry, log_timestamp
from reminders.domain.merkle import TreeFrontier
from reminders.errors import RemindersError
from reminders.services.ports import CheckpointSigner, DispatchLogStore, PublishedLogs
from reminders.services.publish_log import TileStager

log = logging.getLogger(__name__)

APPEND_BATCH = 2_000


class LogNotSealedError(RemindersError):
    """A log holds entries its newest checkpoint does not cover: nothing more is appended
    to it until an auditor has looked (exit 1)."""


def new_salt() -> bytes:
    return secrets.token_bytes(16)


@dataclass(frozen=True, slots=True)
class SealedLog:
    """A municipality's log after a run: its new size and the signed checkpoint."""

    municipality_nis: str
    first_seq: int
    checkpoint: SignedCheckpoint
    file: Path | None  # where the checkpoint was written beside the volumes, once published


def seal_run(
    run_id: int,
    municipalities: Sequence[str],
    store: DispatchLogStore,
    signer: CheckpointSigner,
    *,
    now: Callable[[], datetime],
    salt: Callable[[], bytes] = new_salt,
    published: tuple[PublishedLogs, KeyRing] | None = None,
) -> list[SealedLog]:
    """Append the run's entries to each municipality's log and sign a checkpoint for each;
    with ``published`` (the output folder's logs and the key they are checked with), the
    tiles of each log's growth are staged meanwhile for the publish step."""
    sealed = []
    for nis in municipalities:
        recorded_at = log_timestamp(now())
        appender = _appender(store, nis, salt)
        first = appender.size
        stager = None
        if published is not None:
            logs, keys = published
            stager = TileStager.start(nis, store, logs.log(nis), keys)
            appender.observer = stager.add if stager is not None else None
        _append_all(store, appender, store.run_entries(run_id, nis, recorded_at))
        signed = _checkpointed(store, appender, signer, run_id, now())
        if stager is not None:
            stager.finish(signed.note())
        sealed.append(SealedLog(nis, first, signed, None))
        log.info("run %s: log of %s sealed at %d entries", run_id, nis, appender.size)
    return sealed


def append_and_seal(
    municipality_nis: str,
    entries: Iterable[list[NewEntry]],
    store: DispatchLogStore,
    signer: CheckpointSigner,
    *,
    now: Callable[[], datetime],
    salt: Callable[[], bytes] = new_salt,
) -> SealedLog:
    """Append entries that belong to no run (such as a reveal) and sign a checkpoint."""
    appender = _appender(store, municipality_nis, salt)
    first = appender.size
    _append_all(store, appender, entries)
    signed = _checkpointed(store, appender, signer, None, now())
    return SealedLog(municipality_nis, first, signed, None)


def _appender(
    store: DispatchLogStore, municipality_nis: str, salt: Callable[[], bytes]
) -> LogAppender:
    """Continue a log from its newest checkpoint's frontier (no need to read the log), after
    checking that the checkpoint covers the whole log and agrees with its frontier."""
    head = store.head(municipality_nis)
    if head.size == 0 and head.checkpoint_size is None:
        return LogAppender.empty(municipality_nis, salt)
    if (
        head.checkpoint_size != head.size
        or head.frontier is None
        or head.checkpoint_note is None
        or head.last_hash is None
    ):
        raise LogNotSealedError(
            f"the dispatch log of {municipality_nis} has {head.size} entries but its newest "
            f"checkpoint covers {head.checkpoint_size or 0}: nothing is added to it until "
            "`reminders audit verify` has been run and the difference explained"
        )
    frontier = TreeFrontier.decoded(head.size, head.frontier)
    if parsed_checkpoint(head.checkpoint_note).checkpoint.root_hash != frontier.root():
        raise LogNotSealedError(
            f"the dispatch log of {municipality_nis}: the newest checkpoint does not match its "
            "stored tree; run `reminders audit verify`"
        )
    return LogAppender(municipality_nis, head.last_hash, frontier, salt)


def _append_all(
    store: DispatchLogStore, appender: LogAppender, entries: Iterable[list[NewEntry]]
) -> None:
    for chunk in entries:
        for start in range(0, len(chunk), APPEND_BATCH):
            store.append([appender.append(new) for new in chunk[start : start + APPEND_BATCH]])


def _checkpointed(
    store: DispatchLogStore,
    appender: LogAppender,
    signer: CheckpointSigner,
    run_id: int | None,
    signed_at: datetime,
) -> SignedCheckpoint:
    nis = appender.municipality_nis
    root = appender.frontier.root()
    signed = signer.sign(Checkpoint(nis, appender.size, root, signed_at, run_id))
    store.save_checkpoint(nis, appender.size, run_id, signed.note(), appender.frontier.encoded())
    return signed
