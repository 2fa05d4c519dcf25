"""The nightly decision's database side: candidates by expiry window, history, records.

SQL only narrows (by the (kind, expires_on) index, and by import for changed rows); the rule in
domain/due.py decides. Candidates come in chunks with their history, so a first run over a
large registry streams instead of loading everything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    text,
    union,
    update,
)

from reminders.adapters.db.engine import column_values, driver_rows, insert_rows
from reminders.adapters.db.orm import (
    DecisionRow,
    DocumentRow,
    LetterCancellationRow,
    NightlyRunRow,
    PersonRow,
    RegistryImportRow,
    ScanWatermarkRow,
)
from reminders.adapters.db.registry_columns import (
    FACT_COLUMNS,
    MEMO_LIMIT,
    document_fact_columns,
    document_facts,
    renewed_by_later,
)
from reminders.adapters.db.registry_lock import wait_for_imports
from reminders.domain.due import (
    NO_HISTORY,
    Decision,
    DocumentFacts,
    History,
    Recorded,
    SkipReason,
)
from reminders.domain.letter_language import language_label
from reminders.domain.model import DocumentKind
from reminders.domain.scan_window import ExpiryWindow, ScanWatermark

CHUNK = 900  # documents per chunk, and ids per IN (...): below SQLite's old 999-parameter limit
# Windows wider than this (a first run, or weeks of downtime) are streamed, not fetched at once.
_STREAM_BEYOND = timedelta(days=62)

_document = cast(Table, DocumentRow.__table__)
_person = cast(Table, PersonRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_run = cast(Table, NightlyRunRow.__table__)
_watermark = cast(Table, ScanWatermarkRow.__table__)
_import = cast(Table, RegistryImportRow.__table__)
_cancellation = cast(Table, LetterCancellationRow.__table__)

Candidate = tuple[DocumentFacts, History]


def _facts_query(dialect: str) -> Select[tuple[object, ...]]:
    """Documents with their holder's facts, whether a later document renews them, and their
    recorded decisions as ``stage:reason,...`` (one query, no second round trip per chunk);
    an open decision ends in ``~`` (a `no_address` skip, a `cancelled` one to decide again)."""
    renewed = renewed_by_later()
    # Stage names are lower-case words (config/policies.py), so ":" and "," cannot occur in them.
    entry = (
        _decision.c.stage
        + ":"
        + func.coalesce(_decision.c.reason, "")
        + case((_decision.c.final, ""), else_="~")
    )
    aggregate = (
        func.string_agg(entry, ",") if dialect == "postgresql" else func.group_concat(entry, ",")
    )
    history = (
        select(aggregate)
        .where(_decision.c.document_id == _document.c.id)
        .scalar_subquery()
        .label("history")
    )
    return select(*document_fact_columns(renewed, dialect), history).select_from(
        _document.join(_person, _person.c.id == _document.c.person_id)
    )


@dataclass(frozen=True, slots=True)
class _Statements:
    """The night's statements, built once per dialect: building this select costs about a
    millisecond, against a few for running it. Parameters: kind, nis (a list), and first and
    last, ids or import_id."""

    window: Select[tuple[object, ...]]  # expiring from first to last
    until: Select[tuple[object, ...]]  # expiring up to last (a first run without grace)
    by_id: Select[tuple[object, ...]]  # the documents with these ids
    changed: Select[tuple[int]]  # ids of documents an import after import_id changed
    reopened: Select[tuple[int]]  # ids of documents with a cancelled stage to decide again


@cache
def _statements(dialect: str) -> _Statements:
    facts = _facts_query(dialect)
    expires_on = _document.c.expires_on
    in_area = facts.where(
        _document.c.kind == bindparam("kind"),
        expires_on.is_not(None),
        _person.c.municipality_nis.in_(bindparam("nis", expanding=True)),
    )
    until = in_area.where(expires_on <= bindparam("last")).order_by(expires_on, _document.c.id)
    return _Statements(
        window=until.where(expires_on >= bindparam("first")),
        until=until,
        by_id=in_area.where(_document.c.id.in_(bindparam("ids", expanding=True))),
        changed=_changed_query(),
        reopened=_reopened_query(),
    )


def _reopened_query() -> Select[tuple[int]]:
    """Ids of documents of a kind, in the municipalities, with a letter cancelled to be
    decided again (`reminders cancel --decide-again`) whose stage no decision closed since:
    few, from the small cancellation table."""
    closed = (
        select(_decision.c.id)
        .where(
            _decision.c.document_id == _cancellation.c.document_id,
            _decision.c.stage == _cancellation.c.stage,
            _decision.c.final.is_(True),
        )
        .exists()
    )
    return select(_cancellation.c.document_id).where(
        _cancellation.c.document_kind == bindparam("kind", type_=String()),
        _cancellation.c.municipality_nis.in_(bindparam("nis", expanding=True)),
        _cancellation.c.redecide.is_(True),
        ~closed,
    )


def _changed_query() -> Select[tuple[int]]:
    """Ids of documents of a kind whose holder an import after ``import_id`` changed (an
    address added, a death, a move into the municipality), or whose holder's documents of
    this kind it changed: a new one renews the others, a corrected one is decided again."""
    kind = bindparam("kind", type_=String())
    import_id = bindparam("import_id", type_=Integer())
    changed_holders = union(
        select(_document.c.person_id).where(
            _document.c.kind == kind, _document.c.import_id > import_id
        ),
        select(_person.c.id).where(_person.c.import_id > import_id),
    )
    return select(_document.c.id).where(
        _document.c.kind == kind, _document.c.person_id.in_(changed_holders)
    )


_REASONS: dict[str, SkipReason | None] = {reason.value: reason for reason in SkipReason}
_REASONS[""] = None  # a letter

# A night's histories come in a handful of strings (shared like its holders): each is parsed
# once.
_histories: dict[str, History] = {}


def _history(history: str) -> History:
    """``stage:reason,...`` as the recorded decisions (a letter has no reason)."""
    parsed = _histories.get(history)
    if parsed is None:
        if len(_histories) >= MEMO_LIMIT:
            _histories.clear()
        entries = (entry.partition(":") for entry in history.split(","))
        parsed = _histories[history] = History.of(
            Recorded(stage, _REASONS[reason[:-1]], False)
            if reason.endswith("~")
            else Recorded(stage, _REASONS[reason])
            for stage, _, reason in entries
        )
    return parsed


def _candidate(row: Sequence[Any]) -> Candidate:
    """One row of the facts query (SQLAlchemy's or the driver's) as the rule's input: the
    document's facts and its history."""
    history = row[FACT_COLUMNS]
    return document_facts(*row[:FACT_COLUMNS]), _history(history) if history else NO_HISTORY


class DecisionStore:
    """The nightly decision's reads and writes, on the unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._serial = False  # PostgreSQL: parallel workers turned off in this transaction

    # -- reading ---------------------------------------------------------------------------

    def latest_import_id(self) -> int:
        """The newest registry import: rows changed after it are looked at by the next run.
        First waits for a running import to commit and keeps imports out for the rest of the
        transaction (adapters/db/registry_lock.py): the night's watermark never passes an
        import that has not committed."""
        wait_for_imports(self.connection)
        return self.connection.scalar(select(func.coalesce(func.max(_import.c.id), 0))) or 0

    def watermarks(
        self, kind: DocumentKind, nis_codes: Collection[str]
    ) -> dict[str, ScanWatermark]:
        """Per municipality, how far documents of ``kind`` were decided (absent: never)."""
        rows = self.connection.execute(
            select(
                _watermark.c.municipality_nis,
                _watermark.c.policy_digest,
                _watermark.c.decided_through,
                _watermark.c.import_id,
            ).where(
                _watermark.c.document_kind == kind.value,
                _watermark.c.municipality_nis.in_(list(nis_codes)),
            )
        )
        return {
            nis: ScanWatermark(digest, through, import_id)
            for nis, digest, through, import_id in rows
        }

    def candidates(
        self,
        kind: DocumentKind,
        nis_codes: Collection[str],
        windows: Sequence[ExpiryWindow],
        *,
        changed_after_import: int | None,
    ) -> Iterator[list[Candidate]]:
        """Documents of ``kind`` held by residents of ``nis_codes`` that tonight's rule must
        look at, in chunks with their recorded decisions: those expiring in ``windows``, and
        those whose document or holder an import changed after ``changed_after_import``, and
        those with a cancelled letter to decide again. Each document comes once; none without
        an expiry date."""
        dialect = self.connection.dialect.name
        if dialect == "postgresql" and not self._serial:
            # A night reads a few thousand rows by index: starting parallel workers costs more
            # than it saves (measured: a third of the query's time). This transaction only.
            self.connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            self._serial = True
        statements = _statements(dialect)
        area = {"kind": kind.value, "nis": list(nis_codes)}
        for window in windows:
            if window.first is None:
                query, bounds = statements.until, {"last": window.last}
            else:
                query, bounds = statements.window, {"first": window.first, "last": window.last}
            if window.first is None or window.last - window.first > _STREAM_BEYOND:
                # A first run: stream (a server-side cursor on PostgreSQL). On the statement,
                # not the connection: Connection.execution_options() changes the connection
                # itself, and a server-side cursor cannot run the later executemany.
                streamed = query.execution_options(yield_per=CHUNK)
                result = self.connection.execute(streamed, {**area, **bounds})
                for partition in result.partitions():
                    yield [_candidate(row) for row in partition]
            else:  # a night's few days: one round trip beats a cursor's several
                # As the driver gives them: `document_facts` takes SQLite's date text too.
                fetched = driver_rows(self.connection.execute(query, {**area, **bounds}))
                for start in range(0, len(fetched), CHUNK):
                    yield [_candidate(row) for row in fetched[start : start + CHUNK]]
        others = set(self.connection.scalars(statements.reopened, area))
        if changed_after_import is not None:
            others.update(
                self.connection.scalars(
                    statements.changed, {"kind": kind.value, "import_id": changed_after_import}
                )
            )
        changed = sorted(others)
        for start in range(0, len(changed), CHUNK):
            ids = changed[start : start + CHUNK]
            rows = self.connection.execute(statements.by_id, {**area, "ids": ids})
            chunk = [
                candidate
                for candidate in map(_candidate, rows)
                if not any(candidate[0].expires_on in window for window in windows)
            ]
            if chunk:
                yield chunk

    # -- writing ---------------------------------------------------------------------------

    def record(
        self,
        run_id: int,
        municipality_nis: str,
        kind: DocumentKind,
        decisions: Sequence[Decision],
        recorded_at: datetime,
    ) -> None:
        """Record decisions; the unique key refuses a second final decision per stage."""
        if not decisions:
            return
        stamp = column_values(self.connection, _decision.c.recorded_at)(recorded_at)
        insert_rows(
            self.connection,
            "decision",
            ("run_id", "municipality_nis", "document_id", "document_kind", "stage", "reason",
             "final", "language", "recorded_at"),
            [
                (run_id, municipality_nis, decision.document_id, kind.value, decision.stage,
                 decision.reason.value if decision.reason else None, decision.is_final,
                 language_label(decision.languages) if decision.is_letter else None, stamp)
                for decision in decisions
            ],
        )  # fmt: skip

    def save_watermark(
        self,
        municipality_nis: str,
        kind: DocumentKind,
        watermark: ScanWatermark,
        run_id: int,
    ) -> None:
        """Remember how far this municipality's documents of ``kind`` are decided."""
        key = and_(
            _watermark.c.municipality_nis == municipality_nis,
            _watermark.c.document_kind == kind.value,
        )
        values = {
            "policy_digest": watermark.policy_digest,
            "decided_through": watermark.decided_through,
            "import_id": watermark.import_id,
            "run_id": run_id,
        }
        if self.connection.execute(update(_watermark).where(key).values(values)).rowcount == 0:
            self.connection.execute(
                insert(_watermark).values(
                    municipality_nis=municipality_nis, document_kind=kind.value, **values
                )
            )
