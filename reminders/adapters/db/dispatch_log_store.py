"""The dispatch log's database side: what a run recorded, turned into log entries; the log's
entries, holders and checkpoints written and read back in order.

Reads are chunked by key (keyset pagination), so a run of hundreds of thousands of letters is
logged with flat memory and no cursor stays open while entries are written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import Column, Connection, Row, Select, Table, and_, func, insert, select

from reminders.adapters.db.email_store import taken_over_for_paper
from reminders.adapters.db.engine import insert_rows, stored_utc
from reminders.adapters.db.orm import (
    AuditCheckpointRow,
    AuditEntryRow,
    AuditSubjectRow,
    AuditVerificationRow,
    DecisionRow,
    DocumentRow,
    EmailMessageRow,
    LetterRow,
    NightlyRunRow,
    PersonRow,
    PrintVolumeRow,
    RegistryImportRow,
)
from reminders.adapters.db.run_ledger import RunLedger
from reminders.domain.dispatch_log import (
    LogEntry,
    LogEvent,
    LogQuery,
    LogSubject,
    NewEntry,
    log_timestamp,
)
from reminders.domain.release import ReleaseMode, VolumeState

CHUNK = 2_000

_entry = cast(Table, AuditEntryRow.__table__)
_subject = cast(Table, AuditSubjectRow.__table__)
_checkpoint = cast(Table, AuditCheckpointRow.__table__)
_run = cast(Table, NightlyRunRow.__table__)
_import = cast(Table, RegistryImportRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_document = cast(Table, DocumentRow.__table__)
_person = cast(Table, PersonRow.__table__)
_volume = cast(Table, PrintVolumeRow.__table__)
_letter = cast(Table, LetterRow.__table__)
_email = cast(Table, EmailMessageRow.__table__)
_verification = cast(Table, AuditVerificationRow.__table__)
# A decision with its document and the document's holder.
_DECIDED = _decision.join(_document, _document.c.id == _decision.c.document_id).join(
    _person, _person.c.id == _document.c.person_id
)

_ENTRY_COLUMNS = (
    _entry.c.municipality_nis, _entry.c.seq, _entry.c.run_id, _entry.c.event,
    _entry.c.recorded_at, _entry.c.document_kind, _entry.c.document_number, _entry.c.stage,
    _entry.c.reason, _entry.c.language, _entry.c.reference, _entry.c.details,
    _entry.c.prev_hash, _entry.c.entry_hash,
)  # fmt: skip


_ENTRY_NAMES = tuple(column.name for column in _ENTRY_COLUMNS)
_entry_values = attrgetter(*_ENTRY_NAMES)  # an entry's values in that order, as a tuple


@dataclass(frozen=True, slots=True)
class StoredHead:
    """Where a municipality's log ends, and its newest checkpoint."""

    size: int  # entries stored (the last seq + 1)
    last_hash: str | None  # the last entry's hash; None for an empty log
    checkpoint_size: int | None  # the newest checkpoint's tree size
    frontier: str | None  # its tree frontier
    checkpoint_note: str | None  # and its signed note


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    municipality_nis: str
    tree_size: int
    run_id: int | None
    note: str


class DispatchLogStore:
    """The log's reads and writes on one connection (the run's transaction when sealing)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- appending -------------------------------------------------------------------------

    def head(self, municipality_nis: str) -> StoredHead:
        last = self.connection.execute(
            select(_entry.c.seq, _entry.c.entry_hash)
            .where(_entry.c.municipality_nis == municipality_nis)
            .order_by(_entry.c.seq.desc())
            .limit(1)
        ).first()
        newest = self.connection.execute(
            select(_checkpoint.c.tree_size, _checkpoint.c.frontier, _checkpoint.c.note)
            .where(_checkpoint.c.municipality_nis == municipality_nis)
            .order_by(_checkpoint.c.tree_size.desc())
            .limit(1)
        ).first()
        return StoredHead(
            size=0 if last is None else last.seq + 1,
            last_hash=None if last is None else last.entry_hash,
            checkpoint_size=None if newest is None else newest.tree_size,
            frontier=None if newest is None else newest.frontier,
            checkpoint_note=None if newest is None else newest.note,
        )

    def append(self, entries: Sequence[tuple[LogEntry, LogSubject | None]]) -> None:
        insert_rows(
            self.connection,
            "audit_entry",
            _ENTRY_NAMES,
            [_entry_values(entry) for entry, _ in entries],
        )
        insert_rows(
            self.connection,
            "audit_subject",
            ("municipality_nis", "seq", "national_number", "salt"),
            [
                (entry.municipality_nis, subject.seq, subject.national_number, subject.salt.hex())
                for entry, subject in entries
                if subject is not None
            ],
        )

    def save_checkpoint(
        self, municipality_nis: str, tree_size: int, run_id: int | None, note: str, frontier: str
    ) -> None:
        self.connection.execute(
            insert(_checkpoint).values(
                municipality_nis=municipality_nis,
                tree_size=tree_size,
                run_id=run_id,
                note=note,
                frontier=frontier,
            )
        )

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
    ) -> None:
        """A verification's verdict (not part of the log: a verdict is not evidence)."""
        self.connection.execute(
            insert(_verification).values(
                municipality_nis=municipality_nis,
                verified_at=verified_at,
                verified_by=verified_by[:40],
                tree_size=tree_size,
                root_hash=root_hash,
                intact=intact,
                problem=problem[:500] if problem else None,
            )
        )

    # -- reading the log -------------------------------------------------------------------

    def municipalities(self) -> list[str]:
        """Every municipality that has a log (entries or checkpoints)."""
        logged = select(_entry.c.municipality_nis).union(select(_checkpoint.c.municipality_nis))
        return sorted(self.connection.scalars(logged))

    def entries(
        self, municipality_nis: str, *, run_id: int | None = None
    ) -> Iterator[tuple[LogEntry, LogSubject | None]]:
        """A municipality's entries in log order (or one run's), each with its holder."""
        query = (
            _with_subjects()
            .where(_entry.c.municipality_nis == municipality_nis)
            .order_by(_entry.c.seq)
            .limit(CHUNK)
        )
        if run_id is not None:
            query = query.where(_entry.c.run_id == run_id)
        for rows in _keyset_chunks(self.connection, query, _entry.c.seq):
            for row in rows:
                yield _log_entry(row), _log_subject(row)

    def search(
        self, municipality_nis: str, query: LogQuery, *, limit: int, before_seq: int | None
    ) -> list[tuple[LogEntry, LogSubject | None]]:
        """The newest entries matching ``query``, at most ``limit``, before ``before_seq``
        (the next page) when given."""
        conditions = [_entry.c.municipality_nis == municipality_nis]
        for column, value in (
            (_entry.c.document_number, query.document_number),
            (_entry.c.stage, query.stage),
            (_entry.c.reason, query.reason),
            (_entry.c.event, None if query.event is None else query.event.value),
            (_entry.c.run_id, query.run_id),
        ):
            if value is not None:
                conditions.append(column == value)
        if query.recorded_from is not None:
            conditions.append(_entry.c.recorded_at >= query.recorded_from)
        if query.recorded_before is not None:
            conditions.append(_entry.c.recorded_at < query.recorded_before)
        if before_seq is not None:
            conditions.append(_entry.c.seq < before_seq)
        rows = self.connection.execute(
            _with_subjects().where(and_(*conditions)).order_by(_entry.c.seq.desc()).limit(limit)
        )
        return [(_log_entry(row), _log_subject(row)) for row in rows]

    def checkpoints(self, municipality_nis: str) -> list[StoredCheckpoint]:
        rows = self.connection.execute(
            select(_checkpoint.c.tree_size, _checkpoint.c.run_id, _checkpoint.c.note)
            .where(_checkpoint.c.municipality_nis == municipality_nis)
            .order_by(_checkpoint.c.tree_size)
        )
        return [StoredCheckpoint(municipality_nis, *row) for row in rows]

    def letter_entry(self, reference: str) -> LogEntry | None:
        row = self.connection.execute(
            select(*_ENTRY_COLUMNS).where(
                _entry.c.reference == reference, _entry.c.event == LogEvent.LETTER.value
            )
        ).first()
        return None if row is None else _log_entry(row)

    def letter_history(self, reference: str) -> list[LogEntry]:
        """What the log says of one letter, in log order: its entries and its reprints'
        (by reference: ``REF`` and ``REF-R1``, ``REF-R2``, ...), and its run's entries about
        the run and its volumes (run, volume, recut, released, sealed). Empty when no letter
        has that reference."""
        letter = self.letter_entry(reference)
        if letter is None:
            return []
        nis = letter.municipality_nis
        own = (
            select(*_ENTRY_COLUMNS)
            .where(_entry.c.municipality_nis == nis, _entry.c.reference == reference)
            .union_all(
                # "-R" then a digit: the index's range, on both engines (no LIKE)
                select(*_ENTRY_COLUMNS).where(
                    _entry.c.municipality_nis == nis,
                    _entry.c.reference >= f"{reference}-R0",
                    _entry.c.reference <= f"{reference}-R9999",
                )
            )
        )
        rows = list(self.connection.execute(own))
        if letter.run_id is not None:
            run_events = [
                event.value
                for event in (
                    LogEvent.RUN,
                    LogEvent.VOLUME,
                    LogEvent.RECUT,
                    LogEvent.RELEASED,
                    LogEvent.SEALED,
                )
            ]
            rows += self.connection.execute(
                select(*_ENTRY_COLUMNS).where(
                    _entry.c.run_id == letter.run_id,
                    _entry.c.municipality_nis == nis,
                    _entry.c.event.in_(run_events),
                )
            )
        entries = {row.seq: _log_entry(row) for row in rows}
        return [entries[seq] for seq in sorted(entries)]

    def leaf_entries(self, municipality_nis: str, size: int) -> Iterator[LogEntry]:
        """The first ``size`` entries, for an inclusion proof."""
        for entry, _ in self.entries(municipality_nis):
            if entry.seq >= size:
                return
            yield entry

    def entry_range(self, municipality_nis: str, first: int, end: int) -> list[LogEntry]:
        """Entries ``first`` to ``end - 1`` (no holders): what publishing the log reads."""
        rows = self.connection.execute(
            select(*_ENTRY_COLUMNS)
            .where(
                _entry.c.municipality_nis == municipality_nis,
                _entry.c.seq >= first,
                _entry.c.seq < end,
            )
            .order_by(_entry.c.seq)
        )
        return [_log_entry(row) for row in rows]

    def run_municipalities(self, run_id: int) -> list[str]:
        return sorted(
            self.connection.scalars(
                select(_entry.c.municipality_nis).where(_entry.c.run_id == run_id).distinct()
            )
        )

    def sealed_runs(self) -> dict[str, int]:
        """Per municipality, the newest run that was sealed for it (its entries must be in
        the log): runs are few, so their rows are read and split here."""
        rows = self.connection.execute(
            select(_run.c.id, _run.c.municipalities)
            .where(_run.c.step.in_(("sealed", "published")))
            .order_by(_run.c.id)
        )
        return {nis: run_id for run_id, municipalities in rows for nis in municipalities.split(",")}

    # -- what a run recorded, as new entries -------------------------------------------------

    def run_entries(
        self, run_id: int, municipality_nis: str, recorded_at: str
    ) -> Iterator[list[NewEntry]]:
        """A run's records for one municipality as entries, in log order: the run, its skips,
        each volume followed by its letters, and the seal with the counts."""
        yield [self._run_entry(run_id, municipality_nis, recorded_at)]
        skips = 0
        for chunk in self._skip_rows(run_id, municipality_nis):
            skips += len(chunk)
            yield [_skip_entry(run_id, row, recorded_at) for row in chunk]
        emails = 0
        for emailed in self._email_entries(run_id, municipality_nis, recorded_at):
            emails += sum(1 for entry in emailed if entry.event == LogEvent.EMAILED)
            yield emailed
        # Failed e-mails of earlier runs that this run took over for paper and its re-check
        # stopped: a skip of this run, after the `email_failed` entry it answers, naming the
        # run whose letter it stops (the decision stays that run's, now a skip).
        for chunk in self._skip_rows(run_id, municipality_nis, stopped_fallbacks=True):
            skips += len(chunk)
            yield [_skip_entry(run_id, row, recorded_at, stops=row.run_id) for row in chunk]
        volumes = self.connection.execute(
            select(_volume)
            .where(
                _volume.c.run_id == run_id,
                _volume.c.municipality_nis == municipality_nis,
                _volume.c.kind == "run",
            )
            .order_by(_volume.c.id)
        ).all()
        letters = 0
        for volume in volumes:
            in_volume = _letter_query().where(_letter.c.volume_id == volume.id)
            rows = self.connection.execute(in_volume.order_by(_letter.c.first_page)).all()
            letters += len(rows)
            yield [
                _volume_entry(run_id, volume, recorded_at),
                *(_letter_entry(run_id, volume.path, row, recorded_at) for row in rows),
            ]
        counts = {"letters": letters, "skips": skips, "volumes": len(volumes)}
        if emails:  # only then: a run on paper alone logs what it logged before issue 25
            counts["emails"] = emails
        yield [NewEntry(run_id, LogEvent.SEALED, recorded_at, counts)]

    def _email_entries(
        self, run_id: int, municipality_nis: str, recorded_at: str
    ) -> Iterator[list[NewEntry]]:
        """Issue 25: the failed e-mails of earlier runs this run prints on paper, then the
        e-mails this run handed to the relay, each with its hashes and the relay's queue id;
        never the address."""
        query = select(
            _email.c.reference, _email.c.message_id, _email.c.state, _email.c.templates,
            _email.c.template_sha256, _email.c.message_sha256, _email.c.queue_id,
            _email.c.reply, _email.c.attempts, _email.c.run_id.label("email_run_id"),
            _decision.c.stage, _decision.c.language, _decision.c.run_id.label("decided_in"),
            _document.c.kind, _document.c.number, _person.c.national_number,
        ).select_from(_email.join(_DECIDED, _decision.c.id == _email.c.decision_id))  # fmt: skip
        failed = query.where(
            _email.c.municipality_nis == municipality_nis, _email.c.fallback_run_id == run_id
        )
        sent = query.where(
            _email.c.municipality_nis == municipality_nis,
            _email.c.run_id == run_id,
            _email.c.state.in_(("accepted", "bounced")),
        )
        for event, rows in ((LogEvent.EMAIL_FAILED, failed), (LogEvent.EMAILED, sent)):
            entries = [
                _email_entry(run_id, event, row, recorded_at)
                for row in self.connection.execute(rows.order_by(_email.c.reference))
            ]
            if entries:
                yield entries

    def _run_entry(self, run_id: int, municipality_nis: str, recorded_at: str) -> NewEntry:
        run = self.connection.execute(select(_run).where(_run.c.id == run_id)).one()
        tally = json.loads(run.tally) if run.tally else {}
        read = select(_import.c.kind, func.max(_import.c.id).label("id"))
        if "newest_import" in tally:  # the imports the decisions were taken on, not later ones
            read = read.where(_import.c.id <= tally["newest_import"])
        newest = read.group_by(_import.c.kind).subquery()
        missed = json.loads(run.missed_nights).get(municipality_nis) if run.missed_nights else None
        attempts = RunLedger(self.connection).attempts(run_id)
        imports = self.connection.execute(
            select(_import).join(newest, newest.c.id == _import.c.id).order_by(_import.c.id)
        ).all()
        return NewEntry(
            run_id,
            LogEvent.RUN,
            recorded_at,
            {
                "as_of": run.as_of.isoformat(),
                "started_at": log_timestamp(stored_utc(run.started_at)),
                "started_by": run.started_by,
                "config_sha256": run.config_sha256,
                "code_version": run.code_version,
                "municipalities": run.municipalities.split(","),
                "registry": [
                    {
                        "import_id": row.id,
                        "kind": row.kind,
                        "file_name": row.file_name,
                        "file_sha256": row.file_sha256,
                        "finished_at": log_timestamp(stored_utc(row.finished_at)),
                    }
                    for row in imports
                ],
                "missed_nights": missed,  # [first, last]: downtime this run caught up on
                "attempts": [
                    {
                        "attempt": row["attempt"],
                        "started_by": row["started_by"],
                        "worker": row["worker"],
                        "started_at": log_timestamp(stored_utc(row["started_at"])),
                        "outcome": row["outcome"],
                        "step": row["step"],
                        "failure": row["failure"],
                    }
                    for row in attempts
                ],
            },
        )

    def _skip_rows(
        self, run_id: int, municipality_nis: str, *, stopped_fallbacks: bool = False
    ) -> Iterator[Sequence[Row[Any]]]:
        """The run's skips; with ``stopped_fallbacks``, instead, the letters of earlier runs
        whose failed e-mail this run took over for paper and whose re-check stopped them."""
        decided = (
            taken_over_for_paper(run_id) if stopped_fallbacks else _decision.c.run_id == run_id
        )
        query = (
            select(
                _decision.c.id, _decision.c.run_id, _decision.c.stage, _decision.c.reason,
                _decision.c.final, _document.c.kind, _document.c.number,
                _document.c.expires_on, _document.c.import_id.label("document_import_id"),
                _person.c.national_number, _person.c.import_id.label("person_import_id"),
            )
            .select_from(_DECIDED)
            .where(
                decided,
                _decision.c.municipality_nis == municipality_nis,
                _decision.c.reason.is_not(None),
            )
            .order_by(_decision.c.id)
            .limit(CHUNK)
        )  # fmt: skip
        yield from _keyset_chunks(self.connection, query, _decision.c.id)


def _with_subjects() -> Select[Any]:
    """Entries, each with its holder when it has one (letters and skips)."""
    return select(
        *_ENTRY_COLUMNS, _subject.c.seq, _subject.c.national_number, _subject.c.salt
    ).select_from(
        _entry.outerjoin(
            _subject,
            and_(
                _subject.c.municipality_nis == _entry.c.municipality_nis,
                _subject.c.seq == _entry.c.seq,
            ),
        )
    )


def _keyset_chunks(
    connection: Connection, query: Select[Any], key: Column[Any]
) -> Iterator[Sequence[Row[Any]]]:
    """The rows of ``query`` (ordered by ``key`` and limited to CHUNK) chunk after chunk, each
    read after the last key seen: memory stays flat and no cursor stays open between chunks."""
    after = -1
    while True:
        rows = connection.execute(query.where(key > after)).all()
        if rows:
            yield rows
        if len(rows) < CHUNK:
            return
        after = getattr(rows[-1], key.name)


def _letter_query() -> Any:
    return select(
        _letter.c.reference, _letter.c.first_page, _letter.c.page_count, _letter.c.templates,
        _letter.c.template_sha256, _letter.c.address_sha256, _decision.c.stage,
        _decision.c.language, _document.c.kind, _document.c.number, _document.c.expires_on,
        _document.c.import_id.label("document_import_id"), _person.c.national_number,
        _person.c.language.label("citizen_language"),
        _person.c.import_id.label("person_import_id"),
    ).select_from(_letter.join(_DECIDED, _decision.c.id == _letter.c.decision_id))  # fmt: skip


def _skip_entry(
    run_id: int, row: Row[Any], recorded_at: str, *, stops: int | None = None
) -> NewEntry:
    details: dict[str, Any] = {
        "final": bool(row.final),  # a no_address skip is decided again later
        "expires_on": _day(row.expires_on),
        "document_import_id": row.document_import_id,
        "person_import_id": row.person_import_id,
    }
    if stops is not None:  # the letter of that run, whose e-mail failed, is not printed
        details["decided_in_run"] = stops
    return NewEntry(
        run_id,
        LogEvent.SKIP,
        recorded_at,
        details,
        document_kind=row.kind,
        document_number=row.number,
        stage=row.stage,
        reason=row.reason,
        holder=row.national_number,
    )


def _volume_entry(run_id: int, volume: Row[Any], recorded_at: str) -> NewEntry:
    details = {
        "path": volume.path,
        "sha256": volume.sha256,
        "letters": volume.letters,
        "pages": volume.pages,
        "sequence": volume.sequence,
        "language": volume.language,
    }
    if volume.state == VolumeState.HELD.value:  # waits for an approver (issue 21)
        details["release"] = ReleaseMode.APPROVAL.value
    return NewEntry(run_id, LogEvent.VOLUME, recorded_at, details)


def _letter_entry(run_id: int, volume_path: str, row: Row[Any], recorded_at: str) -> NewEntry:
    return NewEntry(
        run_id,
        LogEvent.LETTER,
        recorded_at,
        {
            "volume": volume_path,
            "page": row.first_page,
            "pages": row.page_count,
            "templates": row.templates,
            "template_sha256": row.template_sha256,
            "address_sha256": row.address_sha256,
            "expires_on": _day(row.expires_on),
            "citizen_language": row.citizen_language,  # with the config's rule: why this one
            "document_import_id": row.document_import_id,
            "person_import_id": row.person_import_id,
        },
        document_kind=row.kind,
        document_number=row.number,
        stage=row.stage,
        language=row.language,
        reference=row.reference,
        holder=row.national_number,
    )


def _email_entry(run_id: int, event: LogEvent, row: Row[Any], recorded_at: str) -> NewEntry:
    details: dict[str, Any] = {
        "channel": "email",
        "message_id": row.message_id,
        "templates": row.templates,
        "template_sha256": row.template_sha256,
        "message_sha256": row.message_sha256,
        "attempts": row.attempts,
        "decided_in_run": row.decided_in,
    }
    if event == LogEvent.EMAILED:
        details["queue_id"] = row.queue_id
    else:  # why it goes on paper now: the relay's refusal or the bounce (addresses masked)
        details.update(state=row.state, reply=row.reply, paper_in_run=run_id)
    return NewEntry(
        run_id,
        event,
        recorded_at,
        details,
        document_kind=row.kind,
        document_number=row.number,
        stage=row.stage,
        language=row.language,
        reference=row.reference,
        holder=row.national_number,
    )


def _log_entry(row: Row[Any]) -> LogEntry:
    return LogEntry(*row[: len(_ENTRY_COLUMNS)])


def _log_subject(row: Row[Any]) -> LogSubject | None:
    seq, number, salt = row[len(_ENTRY_COLUMNS) :]
    if seq is None:
        return None
    try:
        return LogSubject(seq, number, bytes.fromhex(salt))
    except ValueError:  # an altered salt: verification reports the mismatch
        return LogSubject(seq, number, b"")


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
