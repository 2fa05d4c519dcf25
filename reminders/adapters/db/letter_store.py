"""The printing step's database side: a run's letter decisions in mail-sorting order with what
printing needs, read again at print time, and the record of volumes and letters as printed.

Sorted for bpost presorted mail (domain.md §4.6): Belgian addresses by postal code, street,
house number (numerically, then as text: 2 < 12 < 12A) and box; foreign ones after them. Text
compares by code point on both engines (PostgreSQL's "C" collation is SQLite's default), so a
run's order does not depend on the database's locale.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    Table,
    and_,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.sql.elements import ColumnElement

from reminders.adapters.db.email_store import emailed, paper_fallback_of
from reminders.adapters.db.engine import insert_rows
from reminders.adapters.db.orm import (
    DecisionRow,
    DocumentRow,
    LetterRow,
    NightlyRunRow,
    PersonRow,
    PrintVolumeRow,
)
from reminders.adapters.db.registry_columns import (
    DOCUMENT_STATUSES,
    KINDS,
    LANGUAGES,
    PERSON_STATUSES,
    is_returned_address,
    renewed_by_later,
    returned_address_keys,
)
from reminders.domain.address import is_usable_address
from reminders.domain.due import DocumentFacts, Holder, SkipReason
from reminders.domain.letter_language import parsed_language_label
from reminders.domain.letters import LetterFacts, PostalAddress, PrintedLetter
from reminders.domain.model import DocumentKind
from reminders.domain.national_number import birth_date
from reminders.domain.release import VolumeState

_document = cast(Table, DocumentRow.__table__)
_person = cast(Table, PersonRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_volume = cast(Table, PrintVolumeRow.__table__)
_letter = cast(Table, LetterRow.__table__)
_LETTER_COLUMNS = ("decision_id", "reference", "volume_id", "first_page", "page_count",
                   "templates", "template_sha256", "address_sha256")  # fmt: skip
_run = cast(Table, NightlyRunRow.__table__)


def _leading_number(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The number a house or box number starts with ("12A" → 12; none, or no box: -1), for a
    numeric sort; no NULLs, which the two engines sort at opposite ends."""
    digits: ColumnElement[Any]
    if dialect == "postgresql":
        digits = sql_cast(func.substring(column, "^[0-9]{1,9}"), Integer)
    else:  # SQLite's cast reads the leading digits
        digits = case((func.substr(column, 1, 1).between("0", "9"), sql_cast(column, Integer)))
    return func.coalesce(digits, -1)


def _text(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Text compared by code point, an empty value first, on both engines."""
    value = func.coalesce(column, "")
    return value.collate("C") if dialect == "postgresql" else value


def _document_columns(dialect: str) -> list[ColumnElement[Any]]:
    """A document and its holder as printing needs them, with whether a later one renews it
    and the addresses mail to the holder came back from."""
    return [
        _document.c.id,
        _document.c.kind,
        _document.c.number,
        _document.c.expires_on,
        _document.c.status,
        renewed_by_later(),
        _person.c.status,
        _person.c.municipality_nis,
        _person.c.language,
        _person.c.national_number,
        _person.c.given_names,
        _person.c.family_name,
        _person.c.street,
        _person.c.house_number,
        _person.c.box,
        _person.c.postal_code,
        _person.c.locality,
        _person.c.country,
        returned_address_keys(dialect),
    ]


_HOLDER = _document.join(_person, _person.c.id == _document.c.person_id)


class LetterStore:
    """Reads and writes of the printing step, on the run's connection and transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def refresh_statistics(self) -> None:
        """PostgreSQL: the planner's statistics of the decisions and letters brought up to
        date before the printing step reads them. The night's decisions were just written in
        bulk; with the statistics of before, the planner expects none of them and reads the
        letters left to print (an anti-join with the letters already printed) by nested
        loops. A 100,000-letter first night killed after its last volume took 256-283 s to
        resume, 19-21 s with `ANALYZE` (0.1 s); uninterrupted, 60-62 s against 53-57 s.
        SQLite plans from its indexes alone."""
        if self.connection.dialect.name == "postgresql":
            self.connection.exec_driver_sql("ANALYZE decision, letter")

    def letter_languages(self, run_id: int, municipality_nis: str) -> list[str]:
        """The language labels ("nl", "fr+nl") of a municipality's letters in a run."""
        return list(
            self.connection.scalars(
                select(_decision.c.language)
                .where(*self._run_letters(run_id, municipality_nis))
                .distinct()
                .order_by(_decision.c.language)
            )
        )

    @staticmethod
    def _run_letters(run_id: int, municipality_nis: str) -> list[ColumnElement[bool]]:
        """The run's letters that go on paper: its own but those e-mailed, and the e-mails of
        earlier runs that failed and that this run prints (issue 25)."""
        return [
            or_(
                and_(_decision.c.run_id == run_id, ~emailed(_decision.c.id)),
                paper_fallback_of(run_id, _decision.c.id),
            ),
            _decision.c.municipality_nis == municipality_nis,
            _decision.c.reason.is_(None),
        ]

    def letter_order(
        self, run_id: int, municipality_nis: str, *, language: str | None = None
    ) -> list[int]:
        """The run's letter decisions for a municipality (and language label) not printed yet,
        in sorting order, as decision ids: a few bytes per letter, even for a first night of
        hundreds of thousands. Printing fetches their facts chunk by chunk (`letter_facts`)."""
        dialect = self.connection.dialect.name
        conditions = self._run_letters(run_id, municipality_nis)
        if language is not None:
            conditions.append(_decision.c.language == language)
        printed = select(_letter.c.decision_id).where(_letter.c.decision_id == _decision.c.id)
        foreign = case((_person.c.country == "BE", 0), else_=1)
        return list(
            self.connection.scalars(
                select(_decision.c.id)
                .select_from(_decision.join(_HOLDER, _document.c.id == _decision.c.document_id))
                .where(*conditions, ~printed.exists())
                .order_by(
                    foreign,
                    _text(_person.c.postal_code, dialect),
                    _text(_person.c.street, dialect),
                    _leading_number(_person.c.house_number, dialect),
                    _text(_person.c.house_number, dialect),
                    _leading_number(_person.c.box, dialect),
                    _text(_person.c.box, dialect),
                    _decision.c.id,
                )
            )
        )

    def letter_facts(self, decision_ids: Sequence[int]) -> list[LetterFacts]:
        """Letter decisions with the registry's facts as they are now, in the given order."""
        dialect = self.connection.dialect.name
        details = select(
            _decision.c.id, _decision.c.stage, _decision.c.language, *_document_columns(dialect)
        ).select_from(_decision.join(_HOLDER, _document.c.id == _decision.c.document_id))
        rows = {
            row[0]: row
            for row in self.connection.execute(details.where(_decision.c.id.in_(decision_ids)))
        }
        return [_letter_facts(rows[decision_id]) for decision_id in decision_ids]

    def printed_count(self, run_id: int, municipality_nis: str) -> int:
        """Letters of the run already printed for a municipality: the next reference follows."""
        return int(
            self.connection.scalar(
                select(func.count())
                .select_from(_letter.join(_volume, _volume.c.id == _letter.c.volume_id))
                .where(_volume.c.run_id == run_id, _volume.c.municipality_nis == municipality_nis)
            )
            or 0
        )

    def volume_count(self, run_id: int, municipality_nis: str, language: str | None) -> int:
        """Volumes of the run already recorded for a series: the next one follows them."""
        series = (
            _volume.c.language.is_(None) if language is None else _volume.c.language == language
        )
        return int(
            self.connection.scalar(
                select(func.count()).where(
                    _volume.c.run_id == run_id,
                    _volume.c.municipality_nis == municipality_nis,
                    _volume.c.kind == "run",
                    series,
                )
            )
            or 0
        )

    def letter_for_document(self, kind: DocumentKind, number: str) -> LetterFacts | None:
        """A document as a letter would see it now (for previews); the stage and languages are
        left for the caller to choose."""
        row = self.connection.execute(
            select(*_document_columns(self.connection.dialect.name))
            .select_from(_HOLDER)
            .where(_document.c.kind == kind.value, _document.c.number == number)
        ).first()
        if row is None:
            return None
        return _letter_facts((0, "", "", *row))

    def replace_with_skip(self, decision_id: int, reason: SkipReason) -> None:
        """A letter the re-check stopped becomes a skip with its reason, in the same run."""
        self.connection.execute(
            update(_decision)
            .where(_decision.c.id == decision_id)
            .values(reason=reason.value, final=reason.is_final, language=None)
        )

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
    ) -> int:
        volume_id: int | None = self.connection.scalar(
            insert(_volume)
            .values(
                state=state.value,
                run_id=run_id,
                municipality_nis=municipality_nis,
                language=language,
                sequence=sequence,
                path=path,
                sha256=sha256,
                letters=letters,
                pages=pages,
                written_at=written_at,
            )
            .returning(_volume.c.id)
        )
        assert volume_id is not None  # noqa: S101 - RETURNING gives the new key
        return volume_id

    def record_letters(self, volume_id: int, letters: Sequence[PrintedLetter]) -> None:
        """Letters as printed in a volume, with the hashes of their texts and addresses."""
        insert_rows(
            self.connection,
            "letter",
            _LETTER_COLUMNS,
            [
                (letter.decision_id, letter.reference, volume_id, letter.first_page,
                 letter.page_count, letter.templates, letter.template_sha256,
                 letter.address_sha256)
                for letter in letters
            ],
        )  # fmt: skip

    def plan_volumes(self, run_id: int, planned: Mapping[str, int]) -> None:
        """The volumes the run will have per municipality (those recorded and those left),
        kept beside the run's earlier plan for municipalities not in ``planned``."""
        earlier = self.connection.scalar(select(_run.c.planned_volumes).where(_run.c.id == run_id))
        plan = {**(json.loads(earlier) if earlier else {}), **planned}
        self.connection.execute(
            update(_run)
            .where(_run.c.id == run_id)
            .values(planned_volumes=json.dumps(plan, sort_keys=True))
        )

    def volume_paths(self, run_id: int, municipality_nis: str | None = None) -> list[str]:
        """The recorded volumes of a run (for one municipality, or all), in the order they
        were written; not those made after it (re-cuts, reprints)."""
        query = select(_volume.c.path).where(_volume.c.run_id == run_id, _volume.c.kind == "run")
        if municipality_nis is not None:
            query = query.where(_volume.c.municipality_nis == municipality_nis)
        return list(self.connection.scalars(query.order_by(_volume.c.id)))


def _letter_facts(row: Row[Any] | tuple[Any, ...]) -> LetterFacts:
    (decision_id, stage, language, document_id, kind, number, expires_on, status, renewed,
     person_status, nis, person_language, national_number, given_names, family_name,
     street, house_number, box, postal_code, locality, country, returned_keys) = row  # fmt: skip
    usable = is_usable_address(
        street=street,
        house_number=house_number,
        postal_code=postal_code,
        locality=locality,
        country=country,
    )
    returned = usable and is_returned_address(
        returned_keys, street, house_number, box, postal_code, locality, country
    )
    holder = Holder(
        PERSON_STATUSES[person_status], nis, LANGUAGES.get(person_language), usable, returned
    )
    document = DocumentFacts(
        document_id, KINDS[kind], expires_on, DOCUMENT_STATUSES[status], bool(renewed), holder
    )
    address = (
        PostalAddress(street, house_number, box, postal_code, locality, country) if usable else None
    )
    return LetterFacts(
        decision_id=decision_id,
        document=document,
        document_number=number,
        stage=stage,
        languages=parsed_language_label(language or ""),
        given_names=given_names,
        family_name=family_name,
        born_on=birth_date(national_number),
        address=address,
    )
