"""`reminders recover`: a database restored from an older backup learns again, from the logs
published in the output folder, everything it lost, so that the nights go on exactly once.

Per municipality whose published log is ahead of its database log:

1. the published log is verified with the public key alone (every bundle and tile, the signed
   checkpoint, the checkpoint files beside the volumes, and that it extends the database's own
   log): one that does not verify is refused (exit 2) and nothing is written;
2. in one transaction, the entries the database lacks are appended byte for byte (their hashes
   follow, so the database's roots become the published ones), with the checkpoints published
   beside the volumes; what they record is restored: the runs under their own ids, the volumes,
   each letter and skip as a decision the reminder rule reads (a document the registry does
   not hold stops it: exit 1, import the registry first), each e-mail (issue 25) as accepted
   or as failed and printed on paper by the run that logged it, so the next run neither
   sends it again nor prints it twice; and run ids are moved past the
   highest published, so no run id, letter reference (``<NIS>-<run>-<n>``) or volume (under
   ``<date>-run-<id>/``) is ever handed out twice;
3. each restored run is published again as the publish step does it (idempotent: volumes
   already in place are left, one killed before its renames gets them now) and recorded as
   succeeded.

Stopped anywhere, it is simply run again: a municipality's transaction is all or nothing, and a
restored run still to publish is found again by its recorded reason (or resumed by the next
run). Holders' national numbers stay lost: the published log carries only their commitments
(exports show them empty, as for holders erased under retention).
"""

from __future__ import annotations

import functools
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from reminders.domain.checkpoint import CheckpointFormatError, KeyRing, parsed_checkpoint
from reminders.domain.dispatch_log import LogEntry, LogSubject, genesis_hash
from reminders.domain.log_records import (
    CancelRecord,
    DecisionRecord,
    EmailRecord,
    EntryFormatError,
    Record,
    RecutRecord,
    ReleaseRecord,
    ReprintRecord,
    ReturnRecord,
    RunRecord,
    VolumeRecord,
    entry_from_bytes,
    record_of,
)
from reminders.domain.tiles import CHECKPOINT_PATH
from reminders.errors import RemindersError
from reminders.services.complete_run import published_run
from reminders.services.ports import (
    DecisionsRestored,
    PrintShop,
    PublishedLogs,
    RecoveryStore,
    UnitOfWork,
)
from reminders.services.publish_log import (
    PublishedLogError,
    published_checkpoint,
    published_state,
)
from reminders.services.run_control import RunControl
from reminders.services.verify_published import KeptCheckpoint, verify_published

log = logging.getLogger(__name__)

APPEND_BATCH = 2_000  # entries inserted at a time
RESTORE_BATCH = 1_000  # letters and skips restored at a time
LISTED = 5  # examples a message lists
SWITCH_INTERVAL = 0.0005  # seconds, while the writer works (Python's default: 0.005)
AHEAD = 16  # bundles decoded ahead of the database work (256 entries each)
STARTED_BY = "recover"  # how recover's attempts at the runs it restored are recorded
RESTORED = (
    "restored from the published dispatch log by `reminders recover`; published again by "
    "recover or by the next run"
)
RESERVED = (
    "not a run: keeps the run ids of runs published before the database was restored "
    "(`reminders recover`)"
)


class RecoverRefusedError(RemindersError):
    """The published log does not verify, or does not extend the database's log: nothing
    can be recovered from it (exit 2)."""

    exit_code = 2


class RecoverIncompleteError(RemindersError):
    """The published log names documents the registry does not hold: nothing of that log
    was recovered (exit 1)."""


# Told after each bundle of a published log is checked: (NIS code, entries checked, entries
# published); `reminders recover` draws its progress bar from it.
RecoverProgress = Callable[[str, int, int], None]


@dataclass(slots=True)
class RecoveredLog:
    """What recovering did for one municipality's log."""

    municipality_nis: str
    published: int = 0  # entries in the published log
    before: int = 0  # entries the database held before
    runs: list[int] = field(default_factory=list)  # runs whose entries were appended
    letters: int = 0
    skips: int = 0
    emails: int = 0  # e-mails the relay accepted, restored (issue 25)
    emails_failed: int = 0  # e-mails refused or bounced, then printed on paper, restored
    volumes: int = 0
    after_print: int = 0  # releases, re-cuts, cancellations, reprints and returns restored
    checkpoints: int = 0  # checkpoints stored again (beside the volumes, and the log's)
    nothing_because: str | None = None  # why nothing was appended, if nothing was

    @property
    def appended(self) -> int:
        return 0 if self.nothing_because else self.published - self.before


@dataclass(frozen=True, slots=True)
class Recovery:
    logs: list[RecoveredLog]
    published_again: list[int]  # restored runs published again and recorded as succeeded
    waiting: list[int]  # restored runs waiting for another municipality's recovery
    highest_run_id: int  # the next run's id comes after this one


def recover(
    nis_codes: Iterable[str],
    uow: UnitOfWork,
    logs: PublishedLogs,
    keys: KeyRing,
    shop: PrintShop,
    *,
    now: Callable[[], datetime],
    control: RunControl,
    worker: str,
    progress: RecoverProgress | None = None,
) -> Recovery:
    """Recover each municipality's log from its published one, then publish again the runs
    restored, then move the run ids past every one published."""
    recovered = [
        _recovered_log(nis, uow, logs, keys, now=now, control=control, progress=progress)
        for nis in sorted(set(nis_codes))
    ]
    again, waiting = _publish_restored(uow, logs, keys, shop, now, control, worker)
    highest = max(
        [logs.highest_run_id(), *_published_run_ids(logs), *(r for x in recovered for r in x.runs)]
    )
    with uow:
        taken = uow.recovery.move_run_ids_past(highest, reserved_as=RESERVED, at=now())
    return Recovery(recovered, again, waiting, taken)


def _recovered_log(
    nis: str,
    uow: UnitOfWork,
    logs: PublishedLogs,
    keys: KeyRing,
    *,
    now: Callable[[], datetime],
    control: RunControl,
    progress: RecoverProgress | None = None,
) -> RecoveredLog:
    published = logs.log(nis)
    done = RecoveredLog(nis)
    try:
        signed = published_checkpoint(nis, published, keys)
    except PublishedLogError as err:
        raise RecoverRefusedError(f"{err}: nothing was recovered for {nis}") from err
    with uow:
        dispatch_log = uow.dispatch_log
        head = dispatch_log.head(nis)
        state = published_state(nis, dispatch_log, published, keys)
    done.before = head.size
    if signed is None:
        done.nothing_because = "nothing published"
        return done
    done.published = signed.checkpoint.tree_size
    sealed = head.checkpoint_size or 0
    if state.problem is not None and state.published_size <= sealed:
        raise RecoverRefusedError(state.problem)
    if state.published_size <= sealed:
        done.nothing_because = f"the database holds the {done.published:,} published entries"
        return done
    files = logs.run_checkpoints(nis)
    kept = [KeptCheckpoint(path, text) for path, text in files]
    if head.checkpoint_note is not None:  # the published log must extend the database's
        kept.append(KeptCheckpoint("the database's newest checkpoint", head.checkpoint_note))
    notes = {
        done.published: _text(published.read(CHECKPOINT_PATH)),
        **{_size(text): text for _, text in files if sealed < _size(text) <= done.published},
    }
    with (
        uow,
        _writer(threaded=uow.recovery.waits_on_server()) as writer,
        uow.recovery.restoring(done.published - head.size),
    ):
        # One pass over the files: each bundle is checked against the tiles, then appended;
        # the transaction commits only once the whole log verified.
        appender = _Appender(nis, uow, sealed, head.size, done, writer, progress)
        frontiers: dict[int, str] = {}
        verdict = verify_published(
            published, keys, municipality_nis=nis, kept=kept, sink=appender.add,
            frontiers=frontiers,
        )  # fmt: skip
        writer.wait()  # what the entries before a refusal said is refused first, as it was
        if not verdict.intact:
            reasons = "; ".join(p.message for p in verdict.problems[:LISTED])
            raise RecoverRefusedError(
                f"the published log of {nis} does not verify, so nothing was recovered from "
                f"it: {reasons}"
            )
        control.reached("recover:verified")
        appender.finish(notes, frontiers)
        control.reached("recover:appended")
        appender.restorer.flush()
        restored = appender.restorer
        if restored.missing:
            examples = ", ".join(f"{kind} {number}" for kind, number in restored.missing[:LISTED])
            raise RecoverIncompleteError(
                f"the published log of {nis} records letters or skips of {len(restored.missing)} "
                f"documents this database does not hold (such as {examples}): import the newest "
                "registry extracts (`reminders import persons ...`, then documents), then run "
                "`reminders recover` again; nothing was recovered for "
                f"{nis}"
            )
        if restored.conflicts:
            raise RecoverRefusedError(
                f"the published log of {nis} and this database decided the same documents in "
                f"different runs ({'; '.join(restored.conflicts[:LISTED])}): they do not "
                "share their history; nothing was recovered"
            )
        uow.recovery.move_run_ids_past(max(done.runs, default=0), reserved_as=RESERVED, at=now())
        control.reached("recover:restored")
    control.reached("recover:committed")
    log.info("recovered the log of %s: entries %d-%d", nis, done.before, done.published - 1)
    return done


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _size(text: str) -> int:
    try:
        return parsed_checkpoint(text).checkpoint.tree_size
    except CheckpointFormatError:
        return 0  # verification refused such a file already


class _Writer:
    """The database work of recover's entries, run in their order on a thread of its own
    while the caller decodes the next bundles (at most AHEAD of them). Recover waited on the
    server for half its time on PostgreSQL (its COPYs and lookups); the driver lets go of
    the GIL while it waits, so the decoding goes on meanwhile. One thread only uses the
    connection at a time: the caller touches it again only after `wait`. The first error
    stops the work; it is raised at the next `submit` or `wait`."""

    def __init__(self, *, threaded: bool) -> None:
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=AHEAD)
        self._error: BaseException | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._work, name="recover-writer", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            if self._error is None and not self._stopping:
                try:
                    task()
                except BaseException as err:  # handed to the caller's thread
                    self._error = err
            self._tasks.task_done()

    def submit(self, task: Callable[[], None]) -> None:
        if self._thread is None:  # SQLite: at once, on the caller's thread
            task()
            return
        self._raise()
        self._tasks.put(task)

    def wait(self) -> None:
        """Once every task submitted is done; raises the first error."""
        if self._thread is None:
            return
        self._tasks.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """The tasks not started are dropped; returns once the thread has ended."""
        if self._thread is None:
            return
        self._stopping = True
        self._tasks.put(None)
        self._thread.join()


@contextmanager
def _writer(*, threaded: bool) -> Iterator[_Writer]:
    """A writer for one transaction, ended before it commits or rolls back. Threaded only
    where the database is a server to wait on: with SQLite, whose work is the process's own
    CPU, the thread cost more than it overlapped (200,100 entries on a loaded machine: 23.2 s
    of CPU inline, 31.5 s with the thread). The thread switch interval is shortened
    meanwhile: the writer, woken by the server's answer, would otherwise wait up to 5 ms for
    the GIL held by the decoding, at each of its round trips."""
    writer = _Writer(threaded=threaded)
    interval = sys.getswitchinterval()
    if threaded:
        sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield writer
    finally:
        sys.setswitchinterval(interval)
        writer.stop()


class _Appender:
    """Appends the published entries the database lacks (checked against the tiles already)
    and hands what each records to the restorer; then the checkpoints of their sizes. The
    entries are decoded and checked on the caller's thread, their database work done by
    the writer."""

    def __init__(
        self,
        nis: str,
        uow: UnitOfWork,
        sealed: int,
        size: int,
        done: RecoveredLog,
        writer: _Writer,
        progress: RecoverProgress | None = None,
    ) -> None:
        self.nis, self.done, self.sealed = nis, done, sealed
        self.writer = writer
        self.progress = progress
        self.log = uow.dispatch_log
        # Entries the database holds beyond its newest checkpoint (appended between runs):
        # kept only if the published log has exactly them there.
        self.unsealed = {e.seq: e for e in self.log.entry_range(nis, sealed, size)}
        self.prev = genesis_hash(nis) if sealed == 0 else self._hash_before(sealed)
        self.pending: list[tuple[LogEntry, LogSubject | None]] = []
        self.restorer = _Restorer(uow.recovery, done)

    def _hash_before(self, seq: int) -> str:
        (entry,) = self.log.entry_range(self.nis, seq - 1, seq)
        return entry.entry_hash

    def add(self, first: int, entries: Sequence[bytes], leaves: Sequence[bytes]) -> None:
        """The next bundle's entries (``first``: the seq of its first) and their leaf
        hashes."""
        try:
            decoded = self._decoded(first, entries, leaves)
        except RecoverRefusedError:
            self.writer.wait()  # a refusal of an earlier entry by the writer comes first
            raise
        if decoded:
            self.writer.submit(functools.partial(self._write, decoded))
        if self.progress is not None:
            self.progress(self.nis, first + len(entries), self.done.published)

    def _decoded(
        self, first: int, entries: Sequence[bytes], leaves: Sequence[bytes]
    ) -> list[tuple[LogEntry, Record | None]]:
        """The bundle's entries the database lacks, checked and decoded, with their records."""
        decoded: list[tuple[LogEntry, Record | None]] = []
        for offset, data in enumerate(entries):
            seq = first + offset
            if seq < self.sealed:
                continue
            held = self.unsealed.get(seq)
            if held is not None:
                if held.canonical() != data:
                    raise RecoverRefusedError(
                        f"entry {seq} of the log of {self.nis} in the database was added after "
                        "its last checkpoint and differs from the published one: the two logs "
                        "forked; nothing was recovered"
                    )
                self.prev = held.entry_hash
                continue
            try:
                entry = entry_from_bytes(data, self.prev, leaves[offset])
                record = record_of(entry)
            except EntryFormatError as err:
                raise RecoverRefusedError(
                    f"entry {seq} of the published log of {self.nis}: {err}; nothing was recovered"
                ) from err
            if entry.seq != seq or entry.municipality_nis != self.nis:
                raise RecoverRefusedError(
                    f"entry {seq} of the published log of {self.nis} holds entry {entry.seq} of "
                    f"the log of {entry.municipality_nis}: moved or replaced; nothing was "
                    "recovered"
                )
            self.prev = entry.entry_hash
            decoded.append((entry, record))
        return decoded

    def _write(self, decoded: Sequence[tuple[LogEntry, Record | None]]) -> None:
        """On the writer's thread: the entries appended, APPEND_BATCH at a time, and what
        they record restored, in the log's order."""
        for entry, record in decoded:
            self.pending.append((entry, None))
            if len(self.pending) >= APPEND_BATCH:
                self._flush()
            if record is not None:
                self.restorer.add(record)

    def _flush(self) -> None:
        self.log.append(self.pending)
        self.pending = []

    def finish(self, notes: Mapping[int, str], frontiers: Mapping[int, str]) -> None:
        """The last entries, and the checkpoints published for sizes the database lacked,
        each with the tree's frontier at its size (the next run appends from the newest)."""
        self.writer.wait()
        self._flush()
        for size, note in sorted(notes.items()):
            run_id = parsed_checkpoint(note).checkpoint.run_id
            self.log.save_checkpoint(self.nis, size, run_id, note, frontiers[size])
            self.done.checkpoints += 1
        self.done.runs = sorted(self.restorer.runs)


class _Restorer:
    """Restores what appended entries record, a batch of letters and skips (or of e-mails) at
    a time, in the log's order: a run's failed e-mails before the paper letters they became."""

    def __init__(self, store: RecoveryStore, done: RecoveredLog) -> None:
        self.store, self.done = store, done
        self.runs: set[int] = set()
        self.volume_ids: dict[str, int] = {}
        self.batch: list[DecisionRecord] = []
        self.emails: list[EmailRecord] = []
        self.held_runs: set[int] = set()  # runs the database held, of e-mailed letters
        self.lost_runs: set[int] = set()  # runs neither held nor restored (a conflict)
        self.missing: list[tuple[str, str]] = []
        self.conflicts: list[str] = []
        self.returns_imports: dict[int, int] = {}  # the logged lists of returns → this database's

    def add(self, record: Record) -> None:
        if isinstance(record, DecisionRecord):
            self._flush_emails()
            self.batch.append(record)
            if len(self.batch) >= RESTORE_BATCH:
                self.flush()
            return
        if isinstance(record, EmailRecord):
            self._flush_decisions()
            self.emails.append(record)
            if len(self.emails) >= RESTORE_BATCH:
                self._flush_emails()
            return
        self.flush()  # what comes next refers to the letters before it
        if isinstance(record, RunRecord):
            self._run(record)
        elif isinstance(record, VolumeRecord):
            self.volume_ids[record.path] = self.store.volume_id(record)
            self.done.volumes += 1
        else:
            try:
                self._after_print(record)
            except LookupError as err:  # RecoveryConflictError
                self.conflicts.append(str(err))

    def _after_print(
        self, record: RecutRecord | ReleaseRecord | CancelRecord | ReprintRecord | ReturnRecord
    ) -> None:
        """What a release, cancellation, reprint or returned letter changed (issue 21)."""
        if isinstance(record, RecutRecord):
            self.store.restore_recut(record)
            self.done.volumes += 1
        elif isinstance(record, ReleaseRecord):
            self.store.restore_release(record)
        elif isinstance(record, CancelRecord):
            self.store.restore_cancel(record)
        elif isinstance(record, ReprintRecord):
            self.store.restore_reprint(record)
            self.done.volumes += 1
        else:
            self.store.restore_return(record, self.returns_imports)
        self.done.after_print += 1

    def _run(self, record: RunRecord) -> None:
        self.flush()
        self.runs.add(record.run_id)
        state = self.store.stored_run(record.run_id)
        if state is None:
            self.store.add_run(record, failure=RESTORED)
            return
        if state.as_of != record.as_of:
            raise RecoverRefusedError(
                f"run {record.run_id} of the published log of {self.done.municipality_nis} is "
                f"for {record.as_of}, this database's run {record.run_id} for {state.as_of}: "
                "run ids were handed out twice; nothing was recovered"
            )
        if state.failure != RESTORED and (state.step, state.outcome) != ("published", "succeeded"):
            self.store.reopen_run(record.run_id, failure=RESTORED)  # left unfinished at backup
        self.store.add_missed_nights(record.run_id, record.missed_nights)

    def flush(self) -> None:
        self._flush_decisions()
        self._flush_emails()

    def _flush_decisions(self) -> None:
        if self.batch:
            self._count(self.store.add_decisions(self.batch, self.volume_ids))
            self.batch = []

    def _flush_emails(self) -> None:
        if not self.emails:
            return
        # A letter decided before the restored runs: the database must hold its run.
        for run_id in sorted({r.decided_in for r in self.emails} - self.runs - self.held_runs):
            if self.store.stored_run(run_id) is not None:
                self.held_runs.add(run_id)
            elif run_id not in self.lost_runs:
                self.lost_runs.add(run_id)
                self.conflicts.append(
                    f"run {run_id}, which decided e-mailed letters, is neither in the "
                    "published log nor in the database"
                )
        kept = [record for record in self.emails if record.decided_in not in self.lost_runs]
        self.emails = []
        self._count(self.store.add_emails(kept))

    def _count(self, restored: DecisionsRestored) -> None:
        self.done.letters += restored.letters
        self.done.skips += restored.skips
        self.done.emails += restored.emails
        self.done.emails_failed += restored.emails_failed
        self.missing.extend(restored.missing)
        self.conflicts.extend(restored.conflicts)


def _publish_restored(
    uow: UnitOfWork,
    logs: PublishedLogs,
    keys: KeyRing,
    shop: PrintShop,
    now: Callable[[], datetime],
    control: RunControl,
    worker: str,
) -> tuple[list[int], list[int]]:
    """Publish again every restored run whose municipalities are all recovered (its volumes
    given their final names, its checkpoint files written), and record it as succeeded."""
    again: list[int] = []
    waiting: list[int] = []
    with uow:
        runs = list(uow.recovery.runs_to_publish_again(RESTORED, STARTED_BY))
    for run in runs:
        with uow:
            behind = [
                nis
                for nis in run.municipalities
                if published_state(nis, uow.dispatch_log, logs.log(nis), keys).problem
            ]
            if not behind:
                ledger = uow.runs
                ledger.close_abandoned(run.run_id, at=now())  # an earlier recover, stopped
                ledger.start_attempt(run.run_id, started_by=STARTED_BY, worker=worker, at=now())
        if behind:
            waiting.append(run.run_id)
            continue
        published_run(run, uow, shop, logs, keys, now=now, control=control)
        again.append(run.run_id)
        control.reached("recover:run-published")
    return again, waiting


def _published_run_ids(logs: PublishedLogs) -> list[int]:
    """The run each published log's checkpoint was signed for."""
    found = []
    for nis in logs.published():
        try:
            checkpoint = parsed_checkpoint(_text(logs.log(nis).read(CHECKPOINT_PATH))).checkpoint
        except CheckpointFormatError:
            continue
        if checkpoint.run_id is not None:
            found.append(checkpoint.run_id)
    return found
