"""`reminders recover`'s database side: the runs, volumes, letters and skips that published log
entries record, written back into a database restored from an older backup, and the run ids
moved past every one published. All of it in the caller's transaction, keyed by what the log
names (run id, volume path, letter reference, document and stage), so restoring twice adds
nothing the second time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, text, update

from reminders.adapters.db.after_print_store import AfterPrintStore
from reminders.adapters.db.engine import column_values, insert_rows, marker, new_ids, rows_where_in
from reminders.adapters.db.orm import (
    DecisionRow,
    DocumentRow,
    LetterRow,
    NightlyRunRow,
    PersonRow,
    PrintVolumeRow,
    RunAttemptRow,
)
from reminders.adapters.db.recovered_emails import RecoveredEmails, failed_emails
from reminders.adapters.db.run_ledger import RunLedger, StoredRun
from reminders.domain.log_records import (
    CancelRecord,
    DecisionRecord,
    EmailRecord,
    RecutRecord,
    ReleaseRecord,
    ReprintRecord,
    ReturnRecord,
    RunRecord,
    VolumeRecord,
    recut_places,
)
from reminders.domain.release import VolumeState
from reminders.domain.returned_mail import address_key

_run = cast(Table, NightlyRunRow.__table__)
_attempt = cast(Table, RunAttemptRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_document = cast(Table, DocumentRow.__table__)
_letter = cast(Table, LetterRow.__table__)
_volume = cast(Table, PrintVolumeRow.__table__)
_person = cast(Table, PersonRow.__table__)

# The tables a recovery fills by the hundred thousand, whose foreign keys PostgreSQL checks
# row by row: a lookup and a row lock on the row referred to, per key (four a letter). Measured
# on a restored 1,000,740-entry log (2-core Xeon, load 5): inserting its 999,920 decisions took
# 6.5 s without their two keys and 34.6 s with them, its 799,940 letters 7.7 s and 27.8 s;
# adding the four keys to the filled tables (ALTER TABLE ... ADD CONSTRAINT, one set-based
# check of every row) took 3.6 s. Checking at once scans every row the table holds, so it is
# chosen only where the rows to restore are at least a tenth of those held (break-even is
# about a thirteenth: 12 µs a row restored and key, against 0.9 µs a row held and key).
_CHECKED_AT_ONCE = ("decision", "letter")
AT_ONCE_SHARE = 10


class RecoveryConflictError(LookupError):
    """A published entry names something the database does not hold after the entries
    before it were restored: the log and the database do not share their history."""


@dataclass(frozen=True, slots=True)
class RunState:
    """A run the database already holds: what it says of it."""

    as_of: date
    step: str
    outcome: str
    failure: str | None


@dataclass(slots=True)
class DecisionsRestored:
    """What one batch of letters and skips did to the database."""

    letters: int = 0
    skips: int = 0
    emails: int = 0  # accepted by the relay (`emailed` entries)
    emails_failed: int = 0  # refused or bounced, then printed (`email_failed` entries)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (kind, number) not held
    conflicts: list[str] = field(default_factory=list)  # decisions of another run


class RecoveryStore:
    """Restores what published log entries record, on the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _ledger(self) -> RunLedger:
        return RunLedger(self.connection)

    def waits_on_server(self) -> bool:
        """Whether the database is a server whose work recover can overlap (PostgreSQL), not
        a library working on the caller's own CPU (SQLite)."""
        return self.connection.dialect.name == "postgresql"

    def _after_print(self) -> AfterPrintStore:
        return AfterPrintStore(self.connection)

    @contextmanager
    def restoring(self, entries: int) -> Iterator[None]:
        """Around the restoring of ``entries`` log entries in the caller's transaction: on
        PostgreSQL, where they are many, the foreign keys of the decisions and letters are
        dropped, then added again once the block ends, which checks every row at once (the
        same definitions, read from the catalogue). The block then holds those tables, and the
        ones they refer to, for itself until the transaction ends. If the block raises, the
        keys are not added again: the caller's transaction rolls back, and the drop with it."""
        if self.connection.dialect.name != "postgresql" or not checked_at_once(
            entries, self._rows_held("decision")
        ):
            yield
            return
        keys = self.connection.exec_driver_sql(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'f' "
            "AND k.conrelid = ANY(%s::regclass[]) ORDER BY c.relname, k.conname",
            (list(_CHECKED_AT_ONCE),),
        ).all()
        quote = self.connection.dialect.identifier_preparer.quote
        for table, name, _ in keys:
            self.connection.exec_driver_sql(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}"
            )
        yield
        for table, name, definition in keys:
            self.connection.exec_driver_sql(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
            )

    def _rows_held(self, table: str) -> int:
        """The planner's estimate of a table's rows (-1 before its first analysis: taken as
        none)."""
        estimate = self.connection.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,)
        ).scalar_one()
        return max(int(estimate), 0)

    # -- runs ----------------------------------------------------------------------------------

    def stored_run(self, run_id: int) -> RunState | None:
        row = self.connection.execute(
            select(_run.c.as_of, _run.c.step, _run.c.outcome, _run.c.failure).where(
                _run.c.id == run_id
            )
        ).first()
        return None if row is None else RunState(*row)

    def add_run(self, record: RunRecord, *, failure: str) -> None:
        """Insert a run the database never had, under its own id, as sealed and waiting to
        be published again, with the attempts its log entry lists."""
        self.connection.execute(
            insert(_run).values(
                id=record.run_id,
                as_of=record.as_of,
                municipalities=",".join(record.municipalities),
                started_by=record.started_by[:40],
                config_sha256=record.config_sha256,
                code_version=record.code_version[:40],
                started_at=record.started_at,
                outcome="failed",
                step="sealed",
                failure=failure,
                letters=0,
                skips=0,
                missed_nights=json.dumps(record.missed_nights, sort_keys=True),
                tally=json.dumps({"newest_import": record.newest_import}, sort_keys=True),
            )
        )
        for attempt in record.attempts:
            # The attempt that sealed was running when its entry was written: how it ended is
            # not in the log (recover's own attempt finishes the run).
            running = attempt["outcome"] == "running"
            self.connection.execute(
                insert(_attempt).values(
                    run_id=record.run_id,
                    attempt=int(attempt["attempt"]),
                    started_by=str(attempt["started_by"])[:40],
                    worker=str(attempt["worker"])[:200],
                    started_at=datetime.fromisoformat(attempt["started_at"]),
                    outcome="failed" if running else str(attempt["outcome"]),
                    step=str(attempt["step"]),
                    failure=failure[:500] if running else attempt.get("failure"),
                )
            )

    def reopen_run(self, run_id: int, *, failure: str) -> None:
        """A run the restored database had left unfinished, sealed since (its entries are
        published): waiting to be published again, like the runs it never had."""
        self.connection.execute(
            update(_run)
            .where(_run.c.id == run_id)
            .values(step="sealed", outcome="failed", failure=failure)
        )
        self.connection.execute(
            update(_attempt)
            .where(_attempt.c.run_id == run_id, _attempt.c.outcome == "running")
            .values(outcome="failed", failure=failure[:500])
        )

    def add_missed_nights(self, run_id: int, missed: Mapping[str, list[str]]) -> None:
        """Another municipality's nights a run caught up on (its own `run` entry says)."""
        if not missed:
            return
        current = self.connection.scalar(select(_run.c.missed_nights).where(_run.c.id == run_id))
        merged = {**(json.loads(current) if current else {}), **missed}
        self.connection.execute(
            update(_run)
            .where(_run.c.id == run_id)
            .values(missed_nights=json.dumps(merged, sort_keys=True))
        )

    def runs_to_publish_again(self, failure: str, started_by: str) -> list[StoredRun]:
        """The sealed runs not finished since they were restored (recorded as failed with
        ``failure``, or left by an attempt of ``started_by`` that was stopped), oldest first."""
        by_them = select(_attempt.c.run_id).where(_attempt.c.started_by == started_by)
        ids = self.connection.scalars(
            select(_run.c.id)
            .where(
                _run.c.step == "sealed",
                _run.c.outcome != "succeeded",
                (_run.c.failure == failure) | _run.c.id.in_(by_them),
            )
            .order_by(_run.c.id)
        )
        ledger = self._ledger()
        return [ledger.run(run_id) for run_id in ids]

    def move_run_ids_past(self, highest: int, *, reserved_as: str, at: datetime) -> int:
        """Make the next run id larger than ``highest``; returns the largest id now taken."""
        taken = int(self.connection.scalar(select(_run.c.id).order_by(_run.c.id.desc())) or 0)
        if self.connection.dialect.name == "postgresql":
            # The id's sequence, set past both and never back (setval is not rolled back with
            # the transaction: moving a sequence on is always safe).
            sequence = self.connection.scalar(
                text("SELECT pg_get_serial_sequence('nightly_run', 'id')")
            )
            last = int(self.connection.scalar(text(f"SELECT last_value FROM {sequence}")) or 0)
            self.connection.execute(
                text("SELECT setval(:sequence, :value)"),
                {"sequence": sequence, "value": max(highest, taken, last)},
            )
            return max(highest, taken, last)
        if taken >= highest:
            return taken
        # SQLite gives max(id) + 1: a row past `highest` keeps the ids up to it free for the
        # runs of logs not recovered yet (each keeps its own id when restored).
        self.connection.execute(
            insert(_run).values(
                id=highest + 1,
                as_of=at.date(),
                municipalities="",
                started_by="recover",
                config_sha256="",
                code_version="",
                started_at=at,
                finished_at=at,
                outcome="failed",
                step="started",
                failure=reserved_as,
                letters=0,
                skips=0,
            )
        )
        return highest + 1

    # -- volumes, letters, skips ---------------------------------------------------------------

    def volume_id(self, record: VolumeRecord) -> int:
        """The volume at ``record.path`` (a run's volume paths are unique), recorded now if
        the database does not hold it."""
        found = self.connection.scalar(select(_volume.c.id).where(_volume.c.path == record.path))
        if found is not None:
            return int(found)
        return self._new_volume(record, kind="run")

    def _new_volume(
        self,
        record: VolumeRecord,
        *,
        kind: str,
        replaces_id: int | None = None,
        requested_by: str | None = None,
    ) -> int:
        """A volume the published log names, recorded. One that went out with its run (or
        at once, for a reprint) counts as delivered: a restored installation hands the print
        shop nothing a second time."""
        state = VolumeState.HELD if record.held else VolumeState.AUTO
        volume_id = self._after_print().record_volume(
            run_id=record.run_id,
            municipality_nis=record.municipality_nis,
            language=record.language,
            sequence=record.sequence,
            path=record.path,
            sha256=record.sha256,
            letters=record.letters,
            pages=record.pages,
            written_at=record.written_at,
            state=state,
            kind=kind,
            replaces_id=replaces_id,
            requested_by=requested_by,
        )
        if state is VolumeState.AUTO:
            self._after_print().mark_delivered(volume_id, record.written_at)
        return volume_id

    # -- after the print (issue 21) --------------------------------------------------------------

    def restore_recut(self, record: RecutRecord) -> None:
        """A held volume cut again without its cancelled letters: the re-cut recorded, the
        original's remaining letters moved to it in their order, the original replaced."""
        store = self._after_print()
        if store.volume_at(record.volume.path) is not None:
            return
        original = store.volume_at(record.replaces)
        if original is None:
            raise RecoveryConflictError(f"the re-cut {record.volume.path} replaces "
                                        f"{record.replaces}, which is not restored")  # fmt: skip
        recut_id = self._new_volume(record.volume, kind="recut", replaces_id=original.volume_id)
        kept = sorted(
            (letter for letter in store.volume_letters(original.volume_id) if not letter.cancelled),
            key=lambda letter: letter.first_page,
        )
        pages = {letter.decision_id: letter.page_count for letter in kept}
        places = recut_places(
            [(letter.decision_id, letter.page_count) for letter in kept],
            cover_pages=record.cover_pages,
            duplex=record.duplex,
        )
        store.move_letters(recut_id, [(d, page, pages[d]) for d, page in places])
        store.set_state(original.volume_id, VolumeState.REPLACED)

    def restore_release(self, record: ReleaseRecord) -> None:
        """A volume released (and so, for this installation, delivered)."""
        store = self._after_print()
        volume = store.volume_at(record.volume)
        if volume is None:
            raise RecoveryConflictError(f"the released volume {record.volume} is not restored")
        if volume.state is not VolumeState.RELEASED:
            store.set_state(
                volume.volume_id, VolumeState.RELEASED, released_by=record.by,
                released_at=record.at,
            )  # fmt: skip
        if volume.delivered_at is None:
            store.mark_delivered(volume.volume_id, record.at)

    def restore_cancel(self, record: CancelRecord) -> None:
        """A letter cancelled (its decision a `cancelled` skip), or a held reprint stopped; a
        volume none of whose letters is left is cancelled."""
        store = self._after_print()
        if record.reprint:
            reprint = store.reprint(record.reference)
            if reprint is not None and reprint.volume.state is not VolumeState.CANCELLED:
                store.set_state(reprint.volume.volume_id, VolumeState.CANCELLED)
            return
        letter = store.letter(record.reference)
        if letter is None:
            raise RecoveryConflictError(f"the cancelled letter {record.reference} is not restored")
        if not letter.letter.cancelled:
            store.cancel(
                letter, redecide=record.decide_again, by=record.by, note=record.note,
                at=record.at,
            )  # fmt: skip
        volume = store.volume_at(record.volume)
        if volume is not None and all(x.cancelled for x in store.volume_letters(volume.volume_id)):
            store.set_state(volume.volume_id, VolumeState.CANCELLED)

    def restore_reprint(self, record: ReprintRecord) -> None:
        """A letter printed again: its reprint volume and its reprint row (so the next
        reprint of that letter takes the next number)."""
        store = self._after_print()
        if store.reprint(record.reference) is not None:
            return
        letter = store.letter(record.original)
        if letter is None:
            raise RecoveryConflictError(f"the reprinted letter {record.original} is not restored")
        volume_id = self._new_volume(record.volume, kind="reprint", requested_by=record.by)
        store.record_reprint(
            reference=record.reference,
            original=record.original,
            number=record.number,
            decision_id=letter.letter.decision_id,
            volume_id=volume_id,
            first_page=record.first_page,
            page_count=record.page_count,
            template_sha256=record.template_sha256,
            address_sha256=record.address_sha256,
            requested_by=record.by,
            note=record.note,
            at=record.volume.written_at,
        )

    def restore_return(self, record: ReturnRecord, imports: dict[int, int]) -> None:
        """A letter bpost brought back. The address it came back from is not in the log (a
        hash of the registry's): when the registry then still held it, the holder's address
        now stands for it. ``imports`` maps the logged lists to this database's."""
        store = self._after_print()
        if store.returned_on(record.reference) is not None:
            return
        letter = store.letter(record.original)
        if letter is None:
            raise RecoveryConflictError(f"the returned letter {record.original} is not restored")
        if record.import_id not in imports:
            imports[record.import_id] = store.start_returns_import(
                record.municipality_nis,
                f"restored from the dispatch log (list {record.import_id})",
                "",
                record.by,
                record.at,
            )
        key = None
        if record.still_at_address:
            row = self.connection.execute(
                select(_person.c.street, _person.c.house_number, _person.c.box,
                       _person.c.postal_code, _person.c.locality, _person.c.country)
                .where(_person.c.id == letter.person_id)
            ).one()  # fmt: skip
            key = address_key(*row) if row.street else None
        store.record_returned(
            reference=record.reference,
            original=record.original,
            municipality_nis=record.municipality_nis,
            decision_id=letter.letter.decision_id,
            person_id=letter.person_id,
            returned_on=record.returned_on,
            reason=record.reason,
            address_key=key,
            import_id=imports[record.import_id],
            at=record.at,
        )

    def add_decisions(
        self, records: Sequence[DecisionRecord], volume_ids: Mapping[str, int]
    ) -> DecisionsRestored:
        """Record letters and skips as decided by their runs, each letter with its row; those
        already held are left as they are (a decision the same run recorded but had not
        printed takes the outcome the log gives it)."""
        done = DecisionsRestored()
        documents = self._document_ids({(r.document_kind, r.document_number) for r in records})
        held = self._decisions(_stages_of(records, documents))
        new: list[tuple[Any, ...]] = []
        inserted: list[tuple[int, str] | None] = []  # (document, stage) of each new letter
        stamp = _once_each(column_values(self.connection, _decision.c.recorded_at))
        decision_ids: dict[tuple[int, str], int] = {}  # of the letters, by (document, stage)
        on_paper: dict[tuple[int, str], tuple[int, int, DecisionRecord]] = {}  # failed e-mails
        stopped: list[tuple[DecisionRecord, list[tuple[int, int, bool]]]] = []  # their letters'
        for record in records:
            document_id = documents.get((record.document_kind, record.document_number))
            if document_id is None:
                done.missing.append((record.document_kind, record.document_number))
                continue
            if record.letter is None:
                done.skips += 1
            else:
                done.letters += 1
            stages = held.setdefault((document_id, record.stage), [])
            if record.stops_letter_of is not None:
                stopped.append((record, stages))
                continue
            mine = other = None
            for decision in stages:  # (id, run, final): rarely more than one
                if decision[1] == record.run_id:
                    mine = decision
                if decision[2] == record.final:
                    other = decision
            if mine is not None:  # the restored database's own unfinished run decided it
                self.connection.execute(
                    update(_decision)
                    .where(_decision.c.id == mine[0])
                    .values(reason=record.reason, final=record.final, language=record.language)
                )
                decision_ids[(document_id, record.stage)] = mine[0]
            elif other is None:
                new.append(_decision_row(record, document_id, stamp))
                inserted.append(None if record.letter is None else (document_id, record.stage))
                stages.append((0, record.run_id, record.final))
            elif record.letter is not None and other[0]:
                # An e-mail of the run that decided it failed: this run printed it (issue 25)
                on_paper[(document_id, record.stage)] = (other[0], other[1], record)
            elif record.final:
                done.conflicts.append(_conflict(record, other[1]))
            # else: the same open no_address skip, recorded already
        fresh = {
            key: decision_id
            for key, decision_id in zip(inserted, self._insert_decisions(new), strict=True)
            if key is not None
        }
        decision_ids.update(fresh)
        printed_by = failed_emails(self.connection, [d for d, _, _ in on_paper.values()])
        for key, (decision_id, held_run, record) in on_paper.items():
            if printed_by.get(decision_id) == record.run_id:
                decision_ids[key] = decision_id
            else:
                done.conflicts.append(_conflict(record, held_run))
        self._letters(records, documents, decision_ids, volume_ids, set(fresh.values()))
        self._stop_letters(stopped, done)
        return done

    def _stop_letters(
        self,
        stopped: Sequence[tuple[DecisionRecord, list[tuple[int, int, bool]]]],
        done: DecisionsRestored,
    ) -> None:
        """Skips that stop an earlier run's letter whose e-mail failed (issue 25): that
        letter's decision becomes the skip, as the re-check of the run taking it over for
        paper made it; a letter that is not such a failed e-mail of that run is a conflict."""
        found = [
            (record, stages, _decided_by(stages, record.stops_letter_of or 0))
            for record, stages in stopped
        ]
        taken_over = failed_emails(self.connection, [d[0] for _, _, d in found if d])
        for record, stages, letter in found:
            if letter is None or taken_over.get(letter[0]) != record.run_id:
                done.conflicts.append(_conflict(record, record.stops_letter_of or 0))
                continue
            self.connection.execute(
                update(_decision)
                .where(_decision.c.id == letter[0])
                .values(reason=record.reason, final=record.final, language=None)
            )
            stages[stages.index(letter)] = (letter[0], letter[1], record.final)

    def add_emails(self, records: Sequence[EmailRecord]) -> DecisionsRestored:
        """Record e-mailed letters (issue 25): each letter's decision as its deciding run
        took it (unless held), and its e-mail as the log leaves it (accepted, or failed and
        printed on paper by the entry's run)."""
        done = DecisionsRestored()
        documents = self._document_ids({(r.document_kind, r.document_number) for r in records})
        held = self._decisions(_stages_of(records, documents))
        stamp = _once_each(column_values(self.connection, _decision.c.recorded_at))
        new: list[tuple[Any, ...]] = []
        inserted: list[tuple[int, str]] = []
        found: list[tuple[EmailRecord, tuple[int, str], int]] = []  # 0: inserted now
        for record in records:
            document_id = documents.get((record.document_kind, record.document_number))
            if document_id is None:
                done.missing.append((record.document_kind, record.document_number))
                continue
            key = (document_id, record.stage)
            stages = held.setdefault(key, [])
            mine = _decided_by(stages, record.decided_in)
            other = next((d for d in stages if d[1] != record.decided_in and d[2]), None)
            if other is not None and mine is None:
                done.conflicts.append(_conflict(record.decision, other[1]))
                continue
            if mine is None:
                new.append(_decision_row(record.decision, document_id, stamp))
                inserted.append(key)
                mine = (0, record.decided_in, True)
                stages.append(mine)
            found.append((record, key, mine[0]))
            if record.paper_in is None:
                done.emails += 1
            else:
                done.emails_failed += 1
        fresh = dict(zip(inserted, self._insert_decisions(new), strict=True))
        emails = [(record, held_id or fresh[key]) for record, key, held_id in found]
        RecoveredEmails(self.connection).restore(emails, done.conflicts)
        return done

    def _insert_decisions(self, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        """Insert decisions (in _DECISION_COLUMNS' order) under ids taken for them: their
        ids, in order, without reading them back by document (a lookup per batch)."""
        ids = new_ids(self.connection, "decision", len(rows))
        insert_rows(
            self.connection, "decision", ("id", *_DECISION_COLUMNS),
            [(decision_id, *row) for decision_id, row in zip(ids, rows, strict=True)],
        )  # fmt: skip
        return ids

    def _letters(
        self,
        records: Sequence[DecisionRecord],
        documents: Mapping[tuple[str, str], int],
        decision_ids: Mapping[tuple[int, str], int],
        volume_ids: Mapping[str, int],
        fresh: set[int],
    ) -> None:
        """A letter row for each letter among ``records`` the database has none of (those of
        ``fresh`` decisions, recorded just now, have none)."""
        letters = [
            (record, letter)
            for record in records
            if (letter := record.letter) is not None
            and (record.document_kind, record.document_number) in documents
        ]
        if not letters:
            return
        references = [
            letter.reference
            for record, letter in letters
            if decision_ids.get((documents[(record.document_kind, record.document_number)],
                                 record.stage)) not in fresh
        ]  # fmt: skip
        printed = {
            reference
            for (reference,) in rows_where_in(
                self.connection, "SELECT reference FROM letter WHERE reference", references
            )
        }
        rows: list[tuple[Any, ...]] = []
        for record, letter in letters:
            document_id = documents[(record.document_kind, record.document_number)]
            decision_id = decision_ids.get((document_id, record.stage))
            if letter.reference in printed or decision_id is None:  # None: a conflict
                continue
            rows.append(
                (
                    decision_id, letter.reference, volume_ids[letter.volume_path],
                    letter.first_page, letter.page_count, letter.templates,
                    letter.template_sha256, letter.address_sha256,
                )
            )  # fmt: skip
        insert_rows(self.connection, "letter", _LETTER_COLUMNS, rows)

    def _document_ids(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The documents by kind and number (by kind: the unique index's first column)."""
        found: dict[tuple[str, str], int] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, number in keys:
            by_kind.setdefault(kind, []).append(number)
        for kind, numbers in by_kind.items():
            if self.connection.dialect.name == "postgresql":
                rows = self.connection.exec_driver_sql(
                    "SELECT k.number, d.id FROM unnest(%s::text[]) AS k(number) CROSS JOIN "
                    "LATERAL (SELECT id FROM document WHERE kind = %s AND number = k.number "
                    "LIMIT 1) AS d",
                    (numbers, kind),
                ).all()
            else:
                rows = rows_where_in(
                    self.connection,
                    f"SELECT number, id FROM document WHERE kind = {marker(self.connection)} "
                    "AND number",
                    numbers,
                    kind,
                )
            found.update({(kind, number): document_id for number, document_id in rows})
        return found

    def _decisions(
        self, keys: set[tuple[int, str]]
    ) -> dict[tuple[int, str], list[tuple[int, int, bool]]]:
        """(document, stage) → (decision id, run id, final) of what the database holds, for
        ``keys`` (and on SQLite for the other stages of their documents too)."""
        held: dict[tuple[int, str], list[tuple[int, int, bool]]] = {}
        if self.connection.dialect.name == "postgresql":
            rows = self.connection.exec_driver_sql(_HELD_PG, _unzipped(sorted(keys))).all()
        else:
            rows = rows_where_in(
                self.connection,
                "SELECT id, document_id, stage, final, run_id FROM decision WHERE document_id",
                sorted({document_id for document_id, _ in keys}),
            )
        for decision_id, document_id, stage, final, run_id in rows:
            held.setdefault((document_id, stage), []).append((decision_id, run_id, bool(final)))
        return held


# PostgreSQL: one probe of the unique key (document, stage, final) per key, whatever the
# planner knows of the table. `document_id IN (...)` of a batch's 900 ids was planned as a
# sequential scan of `decision` (no statistics for the rows recover itself inserted, and even
# with them), whose cost grew with every batch: 40 ms a lookup at 200,000 decisions. The
# lateral subquery with OFFSET 0 is not pulled up into a join, so it stays an index probe.
# Ordered by id, as a scan of the table in its insert order gave them.
_HELD_PG = (
    "SELECT d.id, d.document_id, d.stage, d.final, d.run_id "
    "FROM unnest(%s::integer[], %s::text[]) AS k(document_id, stage) CROSS JOIN LATERAL "
    "(SELECT id, document_id, stage, final, run_id FROM decision "
    "WHERE document_id = k.document_id AND stage = k.stage OFFSET 0) AS d ORDER BY d.id"
)


def checked_at_once(entries: int, held: int) -> bool:
    """Whether restoring ``entries`` into tables holding ``held`` rows checks their foreign
    keys at less cost once at the end than row by row."""
    return entries * AT_ONCE_SHARE >= held


def _decided_by(
    stages: Sequence[tuple[int, int, bool]], run_id: int
) -> tuple[int, int, bool] | None:
    """Of a document stage's decisions (id, run, final), the one ``run_id`` took: its letter,
    or the skip that a later run's re-check made of it when it took the letter's failed e-mail
    over for paper (a database backed up since holds the skip)."""
    return next((d for d in stages if d[1] == run_id and d[2]), None) or next(
        (d for d in stages if d[1] == run_id), None
    )


def _unzipped(keys: Sequence[tuple[int, str]]) -> tuple[list[int], list[str]]:
    return [document_id for document_id, _ in keys], [stage for _, stage in keys]


_DECISION_COLUMNS = (
    "run_id", "municipality_nis", "document_id", "document_kind", "stage", "reason", "final",
    "language", "recorded_at",
)  # fmt: skip
_LETTER_COLUMNS = (
    "decision_id", "reference", "volume_id", "first_page", "page_count", "templates",
    "template_sha256", "address_sha256",
)  # fmt: skip


def _stages_of(
    records: Sequence[DecisionRecord] | Sequence[EmailRecord],
    documents: Mapping[tuple[str, str], int],
) -> set[tuple[int, str]]:
    """The (document, stage) of each record whose document the database holds: the only
    decisions add_decisions and add_emails look at."""
    return {
        (document_id, record.stage)
        for record in records
        if (document_id := documents.get((record.document_kind, record.document_number)))
        is not None
    }


def _conflict(record: DecisionRecord, held_run: int) -> str:
    return (
        f"{record.document_kind} {record.document_number} {record.stage}: run "
        f"{record.run_id} in the published log, run {held_run} in the database"
    )


def _once_each(stamp: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``stamp`` computed once per distinct time: a run's entries share its seal's time."""
    return functools.cache(stamp)


def _decision_row(
    record: DecisionRecord, document_id: int, stamp: Callable[[Any], Any]
) -> tuple[Any, ...]:
    """A decision's values in _DECISION_COLUMNS' order; ``stamp`` stores the time as the
    dialect does (SQLite: text)."""
    return (
        record.run_id, record.municipality_nis, document_id, record.document_kind,
        record.stage, record.reason, record.final, record.language,
        stamp(record.recorded_at),
    )  # fmt: skip
