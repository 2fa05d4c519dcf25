"""What the use cases need from the outside world, as Protocols: fakes need no base class."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from reminders.domain.campaign import Campaign, CampaignCandidate, CampaignCounts
from reminders.domain.checkpoint import Checkpoint, SignedCheckpoint
from reminders.domain.console_access import ConsoleAction, Grant, Role
from reminders.domain.dispatch_log import LogEntry, LogQuery, LogSubject, NewEntry
from reminders.domain.due import Decision, DocumentFacts, Recorded, SkipReason
from reminders.domain.letters import (
    LetterFacts,
    LetterMunicipality,
    LetterSpec,
    LetterText,
    PrintedLetter,
    WrittenVolume,
)
from reminders.domain.model import DocumentKind, Language, RegistryKind
from reminders.domain.print_records import (
    ReturnedListing,
    StoredLetter,
    StoredReprint,
    StoredVolume,
    VolumeLetter,
)
from reminders.domain.registry_rows import MergeCounts, Rejection
from reminders.domain.release import VolumeState
from reminders.domain.scan_window import ExpiryWindow, ScanWatermark
from reminders.domain.volume_job import RenderedVolume, VolumeJob


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
    """Bulk loading of one import, inside one transaction (see adapters/db/registry_store.py)."""

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


class DecisionStore(Protocol):
    """The nightly run's reads and writes, in one transaction (adapters/db/decision_store.py)."""

    def latest_import_id(self) -> int: ...
    def watermarks(
        self, kind: DocumentKind, nis_codes: Collection[str]
    ) -> dict[str, ScanWatermark]: ...
    def candidates(
        self,
        kind: DocumentKind,
        nis_codes: Collection[str],
        windows: Sequence[ExpiryWindow],
        *,
        changed_after_import: int | None,
    ) -> Iterator[list[tuple[DocumentFacts, tuple[Recorded, ...]]]]: ...
    def start_run(
        self,
        *,
        as_of: date,
        municipalities: Sequence[str],
        started_by: str,
        worker: str,
        config_sha256: str,
        code_version: str,
        started_at: datetime,
    ) -> int: ...
    def mark_decided(self, run_id: int, *, tally: dict[str, Any], missed_nights: str) -> None: ...
    def record(
        self,
        run_id: int,
        municipality_nis: str,
        kind: DocumentKind,
        decisions: Sequence[Decision],
        recorded_at: datetime,
    ) -> None: ...
    def save_watermark(
        self, municipality_nis: str, kind: DocumentKind, watermark: ScanWatermark, run_id: int
    ) -> None: ...
    def finish_run(
        self,
        run_id: int,
        *,
        outcome: str,
        finished_at: datetime,
        letters: int = 0,
        skips: int = 0,
        failure: str | None = None,
    ) -> None: ...
    def letter_store(self) -> LetterStore: ...
    def dispatch_log(self) -> DispatchLogStore: ...
    def run_ledger(self) -> RunLedger: ...
    def campaign_store(self) -> CampaignStore: ...
    def after_print(self) -> AfterPrintStore: ...


class AfterPrintStore(Protocol):
    """Volumes, cancellations, reprints and returns after the print, in the caller's
    transaction (adapters/db/after_print_store.py)."""

    def volume(self, volume_id: int) -> StoredVolume | None: ...
    def volume_at(self, path: str) -> StoredVolume | None: ...
    def successor(self, volume_id: int) -> StoredVolume | None: ...
    def volumes(
        self, municipality_nis: str, states: Sequence[VolumeState], *, limit: int = 500
    ) -> list[StoredVolume]: ...
    def undelivered(self, municipality_nis: str | None = None) -> list[StoredVolume]: ...
    def volume_letters(self, volume_id: int) -> list[VolumeLetter]: ...
    def set_state(
        self,
        volume_id: int,
        state: VolumeState,
        *,
        released_by: str | None = None,
        released_at: datetime | None = None,
    ) -> None: ...
    def mark_delivered(self, volume_id: int, at: datetime) -> None: ...
    def record_volume(
        self,
        *,
        run_id: int,
        municipality_nis: str,
        language: str | None,
        sequence: int,
        path: str,
        sha256: str,
        letters: int,
        pages: int,
        written_at: datetime,
        state: VolumeState,
        kind: str,
        replaces_id: int | None = None,
        requested_by: str | None = None,
    ) -> int: ...
    def move_letters(self, volume_id: int, placements: Sequence[tuple[int, int, int]]) -> None: ...
    def letter(self, reference: str) -> StoredLetter | None: ...
    def cancel(
        self, letter: StoredLetter, *, redecide: bool, by: str, note: str, at: datetime
    ) -> None: ...
    def reprint(self, reference: str) -> StoredReprint | None: ...
    def next_reprint_number(self, original: str) -> int: ...
    def record_reprint(
        self,
        *,
        reference: str,
        original: str,
        number: int,
        decision_id: int,
        volume_id: int,
        first_page: int,
        page_count: int,
        template_sha256: str,
        address_sha256: str,
        requested_by: str,
        note: str,
        at: datetime,
    ) -> None: ...
    def start_returns_import(
        self, municipality_nis: str, file_name: str, file_sha256: str, by: str, at: datetime
    ) -> int: ...
    def finish_returns_import(
        self, import_id: int, *, lines_read: int, accepted: int, rejected: int, file_sha256: str
    ) -> None: ...
    def reject_return(
        self, import_id: int, line: int, reference: str, problem: str, raw: str
    ) -> None: ...
    def returned_on(self, reference: str) -> date | None: ...
    def record_returned(
        self,
        *,
        reference: str,
        original: str,
        municipality_nis: str,
        decision_id: int,
        person_id: int,
        returned_on: date,
        reason: str,
        address_key: str | None,
        import_id: int,
        at: datetime,
    ) -> None: ...
    def returned_letters(self, municipality_nis: str, *, limit: int) -> list[ReturnedListing]: ...


class CampaignStore(Protocol):
    """A night's campaign reads, in the run's transaction (adapters/db/campaign_store.py)."""

    def candidates(
        self, campaign: Campaign, municipality_nis: str
    ) -> Iterator[list[CampaignCandidate]]: ...
    def letters_for_night(self, campaign_id: str, municipality_nis: str, as_of: date) -> int: ...
    def later_night_decided(self, municipality_nis: str, as_of: date) -> bool: ...
    def counts(
        self, campaign: Campaign, nis_codes: Collection[str]
    ) -> dict[str, CampaignCounts]: ...


class LetterStore(Protocol):
    """The printing step's reads and writes, in the run's transaction (adapters/letter_store)."""

    def letter_languages(self, run_id: int, municipality_nis: str) -> list[str]: ...
    def letter_order(
        self, run_id: int, municipality_nis: str, *, language: str | None = None
    ) -> list[int]: ...
    def letter_facts(self, decision_ids: Sequence[int]) -> list[LetterFacts]: ...
    def printed_count(self, run_id: int, municipality_nis: str) -> int: ...
    def volume_count(self, run_id: int, municipality_nis: str, language: str | None) -> int: ...
    def volume_paths(self, run_id: int, municipality_nis: str) -> list[str]: ...
    def letter_for_document(self, kind: DocumentKind, number: str) -> LetterFacts | None: ...
    def replace_with_skip(self, decision_id: int, reason: SkipReason) -> None: ...
    def record_volume(
        self,
        *,
        run_id: int,
        municipality_nis: str,
        language: str | None,
        sequence: int,
        path: str,
        sha256: str,
        letters: int,
        pages: int,
        written_at: datetime,
        state: VolumeState = VolumeState.AUTO,
    ) -> int: ...
    def record_letters(self, volume_id: int, letters: Sequence[PrintedLetter]) -> None: ...


class LetterTexts(Protocol):
    """Letter texts from templates (adapters/text.LetterTemplates)."""

    def text(
        self, spec: LetterSpec, language: Language, municipality: LetterMunicipality
    ) -> LetterText: ...
    def name(self, kind: DocumentKind, stage: str, language: Language) -> str: ...
    def source_sha256(
        self, kind: DocumentKind, stage: str, language: Language, nis_code: str
    ) -> str: ...
    def country_name(self, code: str, language: Language) -> str: ...


class PendingVolume(Protocol):
    """A volume being rendered (a concurrent.futures.Future fits)."""

    def result(self, timeout: float | None = None) -> RenderedVolume: ...


class RenderPool(Protocol):
    """Renders volumes, here or in workers (adapters/render_pool, adapters/render_queue)."""

    @property
    def volumes_ahead(self) -> int:
        """How many volumes to keep submitted beyond the one being recorded."""
        ...

    def submit(self, job: VolumeJob) -> PendingVolume: ...


class Rendering(Protocol):
    """Opens the render pool of one printing step, sized for the volumes it will render."""

    def open(self, volumes: int) -> AbstractContextManager[RenderPool]: ...


class PrintShop(Protocol):
    """Where volumes are written: staged until the run is sealed, then published."""

    def stage(self, job: VolumeJob, rendered: RenderedVolume) -> WrittenVolume: ...
    def forget_unrecorded(
        self, municipality_nis: str, run_id: int, as_of: date, recorded: Collection[str]
    ) -> int: ...
    def publish_volume(self, path: str) -> None: ...
    def deliver(self, path: str) -> None:
        """Put a published volume's files in the print shop's pick-up folder (idempotent;
        nothing to do when the print shop reads the output folder itself)."""
        ...

    def delivered(self, path: str) -> Path:
        """Where the print shop finds a volume once delivered."""
        ...

    def write_checkpoint(
        self, municipality_nis: str, run_id: int, as_of: date, tree_size: int, note: str
    ) -> Path: ...


# Opens a transaction and yields the printing step's store on it; commits on success.
LetterTransaction = Callable[[], AbstractContextManager[LetterStore]]

# Opens a transaction and yields the decision store on it; commits on success.
DecisionTransaction = Callable[[], AbstractContextManager[DecisionStore]]


class StoredHead(Protocol):
    """Where a municipality's log ends, and its newest checkpoint (adapters/dispatch_log_store)."""

    @property
    def size(self) -> int: ...
    @property
    def last_hash(self) -> str | None: ...
    @property
    def checkpoint_size(self) -> int | None: ...
    @property
    def frontier(self) -> str | None: ...
    @property
    def checkpoint_note(self) -> str | None: ...


class StoredCheckpoint(Protocol):
    @property
    def municipality_nis(self) -> str: ...
    @property
    def tree_size(self) -> int: ...
    @property
    def run_id(self) -> int | None: ...
    @property
    def note(self) -> str: ...


class DispatchLogStore(Protocol):
    """The dispatch log's reads and writes (adapters/db/dispatch_log_store.py)."""

    def head(self, municipality_nis: str) -> StoredHead: ...
    def append(self, entries: Sequence[tuple[LogEntry, LogSubject | None]]) -> None: ...
    def save_checkpoint(
        self, municipality_nis: str, tree_size: int, run_id: int | None, note: str, frontier: str
    ) -> None: ...
    def municipalities(self) -> list[str]: ...
    def entries(
        self, municipality_nis: str, *, run_id: int | None = None
    ) -> Iterator[tuple[LogEntry, LogSubject | None]]: ...
    def search(
        self, municipality_nis: str, query: LogQuery, *, limit: int, before_seq: int | None
    ) -> list[tuple[LogEntry, LogSubject | None]]: ...
    def checkpoints(self, municipality_nis: str) -> Sequence[StoredCheckpoint]: ...
    def letter_entry(self, reference: str) -> LogEntry | None: ...
    def letter_history(self, reference: str) -> list[LogEntry]: ...
    def leaf_entries(self, municipality_nis: str, size: int) -> Iterator[LogEntry]: ...
    def entry_range(self, municipality_nis: str, first: int, end: int) -> list[LogEntry]: ...
    def run_municipalities(self, run_id: int) -> list[str]: ...
    def sealed_runs(self) -> dict[str, int]: ...
    def run_entries(
        self, run_id: int, municipality_nis: str, recorded_at: str
    ) -> Iterator[list[NewEntry]]: ...
    def record_verification(
        self,
        municipality_nis: str,
        *,
        verified_at: datetime,
        verified_by: str,
        tree_size: int,
        root_hash: str | None,
        intact: bool,
        problem: str | None,
    ) -> None: ...


class StoredRun(Protocol):
    """A run as recorded (adapters/run_ledger.StoredRun)."""

    @property
    def run_id(self) -> int: ...
    @property
    def as_of(self) -> date: ...
    @property
    def municipalities(self) -> tuple[str, ...]: ...
    @property
    def step(self) -> str: ...
    @property
    def outcome(self) -> str: ...


class RunCounts(Protocol):
    @property
    def letters(self) -> dict[str, Counter[tuple[DocumentKind, str, str]]]: ...
    @property
    def skipped(self) -> dict[str, Counter[str]]: ...
    @property
    def tally(self) -> dict[str, Any]: ...


class RunCheckpoint(Protocol):
    @property
    def municipality_nis(self) -> str: ...
    @property
    def first_seq(self) -> int: ...
    @property
    def note(self) -> str: ...


class RunLedger(Protocol):
    """Runs and their attempts (adapters/db/run_ledger.py)."""

    def start_attempt(self, run_id: int, *, started_by: str, worker: str, at: datetime) -> int: ...
    def set_step(self, run_id: int, step: str) -> None: ...
    def finish(
        self,
        run_id: int,
        *,
        outcome: str,
        finished_at: datetime,
        letters: int = 0,
        skips: int = 0,
        failure: str | None = None,
    ) -> None: ...
    def unfinished(self, nis_codes: Collection[str]) -> Sequence[StoredRun]: ...
    def close_abandoned(self, run_id: int, *, at: datetime) -> None: ...
    def succeeded_for(self, as_of: date, nis_codes: Collection[str]) -> int | None: ...
    def run(self, run_id: int) -> StoredRun: ...
    def counts(self, run_id: int) -> RunCounts: ...
    def attempt_count(self, run_id: int) -> int: ...
    def volume_paths(self, run_id: int) -> list[str]: ...
    def checkpoints(self, run_id: int) -> Sequence[RunCheckpoint]: ...


class PublishedLog(Protocol):
    """One municipality's log as published in the output folder (adapters/printing/
    log_folder.py): files by their tlog-tiles path, each whole or absent. Files written go
    into place at `commit`; the seal prepares tiles in a scratch area (`staged`) that the
    publish step moves into place (`adopt_staged`)."""

    @property
    def location(self) -> str: ...
    def read(self, path: str) -> bytes | None: ...
    def write(self, path: str, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def discard(self) -> None: ...
    def remove_partials(self, path: str) -> None: ...
    def sync(self) -> None: ...
    def staged(self) -> PublishedLog: ...
    def adopt_staged(self) -> None: ...
    def clear(self) -> None: ...


class PublishedLogs(Protocol):
    """Every municipality's published log, and the run folders beside them."""

    def log(self, municipality_nis: str) -> PublishedLog: ...
    def run_checkpoints(self, municipality_nis: str) -> list[tuple[str, str]]: ...
    def highest_run_id(self) -> int: ...
    def published(self) -> list[str]: ...


class CheckpointSigner(Protocol):
    """Signs checkpoints with the installation's key (adapters/signing_key.SigningKey)."""

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint: ...


class LedgerStore(Protocol):
    """Runs and the dispatch log in one transaction: what publishing a run needs (the
    nightly run's store, and `reminders recover`'s)."""

    def dispatch_log(self) -> DispatchLogStore: ...
    def run_ledger(self) -> RunLedger: ...
    def after_print(self) -> AfterPrintStore: ...


# Opens a transaction and yields a store with the runs and the log on it; commits on success.
LedgerTransaction = Callable[[], AbstractContextManager[LedgerStore]]

# Opens a transaction and yields the dispatch log's store on it; commits on success.
LogTransaction = Callable[[], AbstractContextManager[DispatchLogStore]]


# -- the web console --------------------------------------------------------------------------


class Passwords(Protocol):
    """Hashes and checks console passwords (adapters/crypto/passwords.py)."""

    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


class StoredUser(Protocol):
    @property
    def user_id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def password_hash(self) -> str: ...
    @property
    def disabled(self) -> bool: ...


class StoredSession(Protocol):
    @property
    def user_id(self) -> int: ...
    @property
    def csrf_token(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_seen_at(self) -> datetime: ...


class ConsoleStore(Protocol):
    """Console users, grants, sessions and activity (adapters/db/console_store.py)."""

    def user(self, username: str) -> StoredUser | None: ...
    def user_by_id(self, user_id: int) -> StoredUser | None: ...
    def add_user(self, username: str, password_hash: str, at: datetime) -> int: ...
    def set_password(self, user_id: int, password_hash: str) -> None: ...
    def set_disabled(self, user_id: int, at: datetime | None) -> None: ...
    def grants(self, user_id: int) -> tuple[Grant, ...]: ...
    def set_grant(self, user_id: int, grant: Grant) -> None: ...
    def revoke(self, user_id: int, municipality_nis: str, role: Role) -> bool: ...
    def users(self) -> Sequence[tuple[StoredUser, tuple[Grant, ...]]]: ...
    def start_session(
        self, token_sha256: str, user_id: int, csrf_token: str, at: datetime
    ) -> None: ...
    def session(self, token_sha256: str) -> StoredSession | None: ...
    def touch_session(self, token_sha256: str, at: datetime) -> None: ...
    def end_session(self, token_sha256: str) -> None: ...
    def end_sessions_of(self, user_id: int) -> int: ...
    def end_sessions_before(self, last_seen_before: datetime, created_before: datetime) -> None: ...
    def record(self, action: ConsoleAction) -> None: ...
    def lock_logins_of(self, username: str) -> None: ...
    def failed_logins(self, username: str, since: datetime) -> int: ...
    def add_login_attempt(self, username: str, at: datetime) -> int: ...
    def settle_login_attempt(self, attempt_id: int, *, succeeded: bool) -> None: ...
    def forget_login_attempts(self, username: str, before: datetime) -> None: ...


# Opens a transaction and yields the console's store on it; commits on success.
ConsoleTransaction = Callable[[], AbstractContextManager[ConsoleStore]]
# The same, for counting login attempts: two such transactions (at least for the same user
# name, on every engine) never run at once, so a count read is still true when it is written.
LoginTransaction = Callable[[], AbstractContextManager[ConsoleStore]]
