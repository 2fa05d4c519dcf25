"""The nightly decision's database side: candidates by expiry window, history, records.

SQL only narrows (by the (kind, expires_on) index, by import for changed rows, by the few open
skips); the rule in domain/due.py decides. Candidates come in chunks with their history, so a
first run over a large registry streams instead of loading everything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import cast

from sqlalchemy import (
    Connection,
    Row,
    Select,
    Table,
    and_,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from reminders.adapters.orm import (
    DecisionRow,
    DocumentRow,
    NightlyRunRow,
    PersonRow,
    RegistryImportRow,
    ScanWatermarkRow,
)
from reminders.domain.address import is_usable_address
from reminders.domain.due import Decision, DocumentFacts, Holder, Recorded, SkipReason
from reminders.domain.letter_language import language_label
from reminders.domain.model import DocumentKind, DocumentStatus, Language, PersonStatus
from reminders.domain.scan_window import ExpiryWindow, ScanWatermark

CHUNK = 900  # documents per history lookup; below SQLite's old 999-parameter limit

_document = cast(Table, DocumentRow.__table__)
_person = cast(Table, PersonRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_run = cast(Table, NightlyRunRow.__table__)
_watermark = cast(Table, ScanWatermarkRow.__table__)
_import = cast(Table, RegistryImportRow.__table__)
_later = _document.alias("later")

Candidate = tuple[DocumentFacts, tuple[Recorded, ...]]


def _facts_query() -> Select[tuple[object, ...]]:
    renewed = (
        exists()
        .where(
            _later.c.person_id == _document.c.person_id,
            _later.c.kind == _document.c.kind,
            _later.c.status == DocumentStatus.ACTIVE.value,
            _later.c.expires_on > _document.c.expires_on,
        )
        .label("renewed")
    )
    return select(
        _document.c.id,
        _document.c.kind,
        _document.c.expires_on,
        _document.c.status,
        renewed,
        _person.c.status,
        _person.c.municipality_nis,
        _person.c.language,
        _person.c.street,
        _person.c.house_number,
        _person.c.postal_code,
        _person.c.locality,
        _person.c.country,
    ).select_from(_document.join(_person, _person.c.id == _document.c.person_id))


_FACTS = _facts_query()


def _facts(row: Row[tuple[object, ...]]) -> DocumentFacts:
    (document_id, kind, expires_on, status, renewed, person_status, nis, language,
     street, house_number, postal_code, locality, country) = row  # fmt: skip
    return DocumentFacts(
        document_id=cast(int, document_id),
        kind=DocumentKind(kind),
        expires_on=cast(date | None, expires_on),
        status=DocumentStatus(status),
        renewed_by_later=bool(renewed),
        holder=Holder(
            status=PersonStatus(person_status),
            municipality_nis=cast(str, nis),
            language=Language(language) if language else None,
            has_address=is_usable_address(
                street=cast(str | None, street),
                house_number=cast(str | None, house_number),
                postal_code=cast(str | None, postal_code),
                locality=cast(str | None, locality),
                country=cast(str, country),
            ),
        ),
    )


class DecisionStore:
    """The nightly run's reads and writes, on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- reading ---------------------------------------------------------------------------

    def latest_import_id(self) -> int:
        """The newest registry import: rows changed after it are looked at by the next run."""
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
        look at, in chunks with their recorded decisions: those expiring in ``windows``, those
        whose document or holder an import changed after ``changed_after_import``, and those
        with an open skip (no_address). Each document comes once; none without expiry date."""
        in_area = and_(
            _document.c.kind == kind.value,
            _document.c.expires_on.is_not(None),
            _person.c.municipality_nis.in_(list(nis_codes)),
        )
        for window in windows:
            bounds: list[ColumnElement[bool]] = [_document.c.expires_on <= window.last]
            if window.first is not None:
                bounds.append(_document.c.expires_on >= window.first)
            query = _FACTS.where(in_area, *bounds).order_by(_document.c.expires_on, _document.c.id)
            yield from self._with_history(self._streamed(query))
        others = self._changed_or_open(kind, nis_codes, changed_after_import)
        outside = sorted(others)
        for start in range(0, len(outside), CHUNK):
            ids = outside[start : start + CHUNK]
            rows = self.connection.execute(_FACTS.where(in_area, _document.c.id.in_(ids)))
            facts = [
                fact
                for fact in map(_facts, rows)
                if not any(fact.expires_on in window for window in windows)
            ]
            yield from self._with_history(iter([facts]))

    def _streamed(self, query: Select[tuple[object, ...]]) -> Iterator[list[DocumentFacts]]:
        # On the statement, not the connection: Connection.execution_options() changes the
        # connection itself, and a server-side cursor cannot run the later executemany.
        result = self.connection.execute(query.execution_options(yield_per=CHUNK))
        for partition in result.partitions():
            yield [_facts(row) for row in partition]

    def _changed_or_open(
        self, kind: DocumentKind, nis_codes: Collection[str], changed_after_import: int | None
    ) -> set[int]:
        """Ids of documents changed since the watermark's import, or with an open skip."""
        ids: set[int] = set(
            self.connection.scalars(
                select(_decision.c.document_id).where(
                    _decision.c.document_kind == kind.value,
                    _decision.c.municipality_nis.in_(list(nis_codes)),
                    _decision.c.final.is_(False),
                )
            )
        )
        if changed_after_import is not None:
            ids.update(
                self.connection.scalars(
                    select(_document.c.id).where(
                        _document.c.kind == kind.value,
                        _document.c.import_id > changed_after_import,
                    )
                )
            )
            ids.update(
                self.connection.scalars(
                    select(_document.c.id)
                    .join(_person, _person.c.id == _document.c.person_id)
                    .where(
                        _document.c.kind == kind.value,
                        _person.c.import_id > changed_after_import,
                    )
                )
            )
        return ids

    def _with_history(self, chunks: Iterable[list[DocumentFacts]]) -> Iterator[list[Candidate]]:
        for facts in chunks:
            if not facts:
                continue
            history: dict[int, list[Recorded]] = {}
            rows = self.connection.execute(
                select(_decision.c.document_id, _decision.c.stage, _decision.c.reason).where(
                    _decision.c.document_id.in_([fact.document_id for fact in facts])
                )
            )
            for document_id, stage, reason in rows:
                history.setdefault(document_id, []).append(
                    Recorded(stage, SkipReason(reason) if reason else None)
                )
            yield [(fact, tuple(history.get(fact.document_id, ()))) for fact in facts]

    # -- writing ---------------------------------------------------------------------------

    def start_run(
        self,
        *,
        as_of: date,
        municipalities: Sequence[str],
        started_by: str,
        config_sha256: str,
        code_version: str,
        started_at: datetime,
    ) -> int:
        """Record a run as running; returns its id."""
        run_id: int | None = self.connection.scalar(
            insert(_run)
            .values(
                as_of=as_of,
                municipalities=",".join(municipalities),
                started_by=started_by,
                config_sha256=config_sha256,
                code_version=code_version,
                started_at=started_at,
                outcome="running",
                letters=0,
                skips=0,
            )
            .returning(_run.c.id)
        )
        assert run_id is not None  # noqa: S101 - RETURNING gives the new key
        return run_id

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
        self.connection.execute(
            insert(_decision),
            [
                {
                    "run_id": run_id,
                    "municipality_nis": municipality_nis,
                    "document_id": decision.document_id,
                    "document_kind": kind.value,
                    "stage": decision.stage,
                    "reason": decision.reason.value if decision.reason else None,
                    "final": decision.is_final,
                    "language": language_label(decision.languages) if decision.is_letter else None,
                    "recorded_at": recorded_at,
                }
                for decision in decisions
            ],
        )

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

    def finish_run(
        self,
        run_id: int,
        *,
        outcome: str,
        finished_at: datetime,
        letters: int = 0,
        skips: int = 0,
        failure: str | None = None,
    ) -> None:
        """Close a run's record: succeeded with its counts, or failed with its reason."""
        self.connection.execute(
            update(_run)
            .where(_run.c.id == run_id)
            .values(
                outcome=outcome,
                finished_at=finished_at,
                letters=letters,
                skips=skips,
                failure=failure[:500] if failure else None,
            )
        )
