"""After the print, the database side (issue 21): print volumes and where they stand towards
the print shop (held, released, re-cut, delivered), the letters in them, cancellations,
reprints, and returned letters with the lists of returns they came from.

Everything here runs on the caller's connection, in the caller's transaction: a change and
the dispatch-log entry that records it are committed together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Select, Table, func, insert, select, update

from reminders.adapters.db.engine import stored_utc
from reminders.adapters.db.orm import (
    DecisionRow,
    DocumentRow,
    LetterCancellationRow,
    LetterRow,
    NightlyRunRow,
    PersonRow,
    PrintVolumeRow,
    ReprintRow,
    ReturnedLetterRow,
    ReturnsImportRow,
    ReturnsRejectionRow,
)
from reminders.domain.due import SkipReason
from reminders.domain.print_records import (
    ReturnedListing,
    StoredLetter,
    StoredReprint,
    StoredVolume,
    VolumeLetter,
)
from reminders.domain.release import VolumeState

_volume = cast(Table, PrintVolumeRow.__table__)
_run = cast(Table, NightlyRunRow.__table__)
_letter = cast(Table, LetterRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_document = cast(Table, DocumentRow.__table__)
_person = cast(Table, PersonRow.__table__)
_cancellation = cast(Table, LetterCancellationRow.__table__)
_reprint = cast(Table, ReprintRow.__table__)
_returned = cast(Table, ReturnedLetterRow.__table__)
_returns_import = cast(Table, ReturnsImportRow.__table__)
_rejection = cast(Table, ReturnsRejectionRow.__table__)


def _volumes() -> Select[Any]:
    return select(
        _volume.c.id, _volume.c.run_id, _volume.c.municipality_nis, _volume.c.language,
        _volume.c.sequence, _volume.c.path, _volume.c.sha256, _volume.c.letters,
        _volume.c.pages, _volume.c.state, _volume.c.kind, _volume.c.replaces_id,
        _volume.c.requested_by, _volume.c.released_by, _volume.c.released_at,
        _volume.c.delivered_at, _run.c.as_of, _run.c.started_by, _run.c.outcome,
    ).select_from(_volume.join(_run, _run.c.id == _volume.c.run_id))  # fmt: skip


def _stored_volume(row: Row[Any]) -> StoredVolume:
    (volume_id, run_id, nis, language, sequence, path, sha256, letters, pages, state, kind,
     replaces_id, requested_by, released_by, released_at, delivered_at, as_of, started_by,
     outcome) = row  # fmt: skip
    return StoredVolume(
        volume_id, run_id, nis, language, sequence, path, sha256, letters, pages,
        VolumeState(state), kind, replaces_id, requested_by, released_by,
        stored_utc(released_at) if released_at else None,
        stored_utc(delivered_at) if delivered_at else None, as_of, started_by, outcome,
    )  # fmt: skip


_LETTER_COLUMNS = (
    _letter.c.decision_id, _letter.c.reference, _document.c.kind, _document.c.number,
    _decision.c.stage, _decision.c.language, _letter.c.first_page, _letter.c.page_count,
    _letter.c.templates, _letter.c.template_sha256, _letter.c.address_sha256,
    _decision.c.reason,
)  # fmt: skip
_LETTERS = _letter.join(_decision, _decision.c.id == _letter.c.decision_id).join(
    _document, _document.c.id == _decision.c.document_id
)


def _volume_letter(row: Row[Any] | tuple[Any, ...]) -> VolumeLetter:
    (decision_id, reference, kind, number, stage, language, first_page, page_count, templates,
     template_sha256, address_sha256, reason) = row[: len(_LETTER_COLUMNS)]  # fmt: skip
    return VolumeLetter(
        decision_id, reference, kind, number, stage, language, first_page, page_count,
        templates, template_sha256, address_sha256, reason == SkipReason.CANCELLED.value,
    )  # fmt: skip


class AfterPrintStore:
    """Reads and writes after the print, on one connection (the caller's transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- volumes ------------------------------------------------------------------------------

    def volume(self, volume_id: int) -> StoredVolume | None:
        row = self.connection.execute(_volumes().where(_volume.c.id == volume_id)).first()
        return None if row is None else _stored_volume(row)

    def volume_at(self, path: str) -> StoredVolume | None:
        row = self.connection.execute(_volumes().where(_volume.c.path == path)).first()
        return None if row is None else _stored_volume(row)

    def successor(self, volume_id: int) -> StoredVolume | None:
        """The re-cut that replaced a volume, if any."""
        row = self.connection.execute(
            _volumes().where(_volume.c.replaces_id == volume_id).order_by(_volume.c.id.desc())
        ).first()
        return None if row is None else _stored_volume(row)

    def volumes(
        self, municipality_nis: str, states: Sequence[VolumeState], *, limit: int = 500
    ) -> list[StoredVolume]:
        """The municipality's volumes in those states, oldest first."""
        rows = self.connection.execute(
            _volumes()
            .where(
                _volume.c.municipality_nis == municipality_nis,
                _volume.c.state.in_([state.value for state in states]),
                _run.c.outcome == "succeeded",
            )
            .order_by(_volume.c.id)
            .limit(limit)
        )
        return [_stored_volume(row) for row in rows]

    def undelivered(self, municipality_nis: str | None = None) -> list[StoredVolume]:
        """Volumes released (by an approver, or with their run) whose files have not reached
        the print shop's pick-up folder yet: a release or run stopped half-way."""
        query = _volumes().where(
            _volume.c.state.in_([VolumeState.RELEASED.value, VolumeState.AUTO.value]),
            _volume.c.delivered_at.is_(None),
            _run.c.outcome == "succeeded",
        )
        if municipality_nis is not None:
            query = query.where(_volume.c.municipality_nis == municipality_nis)
        return [
            _stored_volume(row) for row in self.connection.execute(query.order_by(_volume.c.id))
        ]

    def volume_letters(self, volume_id: int) -> list[VolumeLetter]:
        """The letters placed in a volume, in page order (cancelled ones included)."""
        rows = self.connection.execute(
            select(*_LETTER_COLUMNS)
            .select_from(_LETTERS)
            .where(_letter.c.volume_id == volume_id)
            .order_by(_letter.c.first_page)
        )
        return [_volume_letter(row) for row in rows]

    def set_state(
        self,
        volume_id: int,
        state: VolumeState,
        *,
        released_by: str | None = None,
        released_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"state": state.value}
        if released_by is not None:
            values.update(released_by=released_by[:40], released_at=released_at)
        self.connection.execute(update(_volume).where(_volume.c.id == volume_id).values(values))

    def mark_delivered(self, volume_id: int, at: datetime) -> None:
        self.connection.execute(
            update(_volume).where(_volume.c.id == volume_id).values(delivered_at=at)
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
        state: VolumeState,
        kind: str,
        replaces_id: int | None = None,
        requested_by: str | None = None,
    ) -> int:
        """A volume made after its run: a re-cut or a reprint volume."""
        volume_id: int | None = self.connection.scalar(
            insert(_volume)
            .values(
                run_id=run_id, municipality_nis=municipality_nis, language=language,
                sequence=sequence, path=path, sha256=sha256, letters=letters, pages=pages,
                written_at=written_at, state=state.value, kind=kind, replaces_id=replaces_id,
                requested_by=requested_by,
            )
            .returning(_volume.c.id)
        )  # fmt: skip
        assert volume_id is not None  # noqa: S101 - RETURNING gives the new key
        return volume_id

    def move_letters(self, volume_id: int, placements: Sequence[tuple[int, int, int]]) -> None:
        """Letters now in a re-cut volume: (decision id, first page, page count) each."""
        for decision_id, first_page, page_count in placements:
            self.connection.execute(
                update(_letter)
                .where(_letter.c.decision_id == decision_id)
                .values(volume_id=volume_id, first_page=first_page, page_count=page_count)
            )

    # -- letters --------------------------------------------------------------------------------

    def letter(self, reference: str) -> StoredLetter | None:
        """A printed letter by its own reference (not a reprint's)."""
        row = self.connection.execute(
            select(
                *_LETTER_COLUMNS, _letter.c.volume_id, _decision.c.municipality_nis,
                _document.c.id, _person.c.id, _person.c.national_number,
            )
            .select_from(_LETTERS.join(_person, _person.c.id == _document.c.person_id))
            .where(_letter.c.reference == reference)
        ).first()  # fmt: skip
        if row is None:
            return None
        volume_id, nis, document_id, person_id, national_number = row[len(_LETTER_COLUMNS) :]
        volume = self.volume(volume_id)
        assert volume is not None  # noqa: S101 - a foreign key
        return StoredLetter(
            _volume_letter(row), volume, nis, document_id, person_id, national_number
        )

    def cancel(
        self,
        letter: StoredLetter,
        *,
        redecide: bool,
        by: str,
        note: str,
        at: datetime,
    ) -> None:
        """The letter's decision becomes a `cancelled` skip (final unless ``redecide``), and
        the cancellation is kept with who, when and why."""
        self.connection.execute(
            update(_decision)
            .where(_decision.c.id == letter.letter.decision_id)
            .values(reason=SkipReason.CANCELLED.value, final=not redecide, language=None)
        )
        self.connection.execute(
            insert(_cancellation).values(
                decision_id=letter.letter.decision_id,
                reference=letter.letter.reference,
                municipality_nis=letter.municipality_nis,
                document_id=letter.document_id,
                document_kind=letter.letter.document_kind,
                stage=letter.letter.stage,
                volume_id=letter.volume.volume_id,
                redecide=redecide,
                cancelled_by=by[:40],
                note=note,
                cancelled_at=at,
            )
        )

    # -- reprints -------------------------------------------------------------------------------

    def reprint(self, reference: str) -> StoredReprint | None:
        row = self.connection.execute(
            select(
                _reprint.c.reference, _reprint.c.original, _reprint.c.number,
                _reprint.c.volume_id, _reprint.c.first_page, _reprint.c.page_count,
                _reprint.c.address_sha256, _reprint.c.requested_by,
            ).where(_reprint.c.reference == reference)
        ).first()  # fmt: skip
        if row is None:
            return None
        volume = self.volume(row.volume_id)
        assert volume is not None  # noqa: S101 - a foreign key
        return StoredReprint(
            row.reference, row.original, row.number, volume, row.first_page, row.page_count,
            row.address_sha256, row.requested_by,
        )  # fmt: skip

    def next_reprint_number(self, original: str) -> int:
        highest = self.connection.scalar(
            select(func.max(_reprint.c.number)).where(_reprint.c.original == original)
        )
        return int(highest or 0) + 1

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
    ) -> None:
        self.connection.execute(
            insert(_reprint).values(
                reference=reference, original=original, number=number,
                decision_id=decision_id, volume_id=volume_id, first_page=first_page,
                page_count=page_count, template_sha256=template_sha256,
                address_sha256=address_sha256, requested_by=requested_by[:40], note=note,
                requested_at=at,
            )
        )  # fmt: skip

    # -- returned letters ---------------------------------------------------------------------

    def start_returns_import(
        self, municipality_nis: str, file_name: str, file_sha256: str, by: str, at: datetime
    ) -> int:
        import_id: int | None = self.connection.scalar(
            insert(_returns_import)
            .values(
                municipality_nis=municipality_nis, file_name=file_name[:255],
                file_sha256=file_sha256, imported_by=by[:40], imported_at=at, lines_read=0,
                accepted=0, rejected=0,
            )
            .returning(_returns_import.c.id)
        )  # fmt: skip
        assert import_id is not None  # noqa: S101 - RETURNING gives the new key
        return import_id

    def finish_returns_import(
        self, import_id: int, *, lines_read: int, accepted: int, rejected: int, file_sha256: str
    ) -> None:
        self.connection.execute(
            update(_returns_import)
            .where(_returns_import.c.id == import_id)
            .values(
                lines_read=lines_read, accepted=accepted, rejected=rejected, file_sha256=file_sha256
            )
        )

    def reject_return(
        self, import_id: int, line: int, reference: str, problem: str, raw: str
    ) -> None:
        self.connection.execute(
            insert(_rejection).values(
                import_id=import_id, line=line, reference=reference[:60], problem=problem[:300],
                raw=raw,
            )
        )  # fmt: skip

    def returned_on(self, reference: str) -> date | None:
        """When the letter with this reference (as printed) was returned, if it was."""
        found: date | None = self.connection.scalar(
            select(_returned.c.returned_on).where(_returned.c.reference == reference)
        )
        return found

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
    ) -> None:
        self.connection.execute(
            insert(_returned).values(
                reference=reference, original=original, municipality_nis=municipality_nis,
                decision_id=decision_id, person_id=person_id, returned_on=returned_on,
                reason=reason, address_key=address_key, import_id=import_id, recorded_at=at,
            )
        )  # fmt: skip

    def returned_letters(self, municipality_nis: str, *, limit: int) -> list[ReturnedListing]:
        """The municipality's returned letters, newest first, with the holder as the registry
        has them now (for an address check)."""
        rows = self.connection.execute(
            select(
                _returned.c.reference, _returned.c.returned_on, _returned.c.reason,
                _returned.c.recorded_at, _document.c.kind, _document.c.number,
                _person.c.family_name, _person.c.given_names, _person.c.national_number,
                _person.c.street, _person.c.house_number, _person.c.box, _person.c.postal_code,
                _person.c.locality, _person.c.country, _returned.c.address_key,
            )
            .select_from(
                _returned.join(_decision, _decision.c.id == _returned.c.decision_id)
                .join(_document, _document.c.id == _decision.c.document_id)
                .join(_person, _person.c.id == _returned.c.person_id)
            )
            .where(_returned.c.municipality_nis == municipality_nis)
            .order_by(_returned.c.id.desc())
            .limit(limit)
        )  # fmt: skip
        return [
            ReturnedListing(
                reference=row.reference,
                returned_on=row.returned_on,
                reason=row.reason,
                recorded_at=stored_utc(row.recorded_at),
                document_kind=row.kind,
                document_number=row.number,
                family_name=row.family_name,
                given_names=row.given_names,
                national_number=row.national_number,
                street=row.street,
                house_number=row.house_number,
                box=row.box,
                postal_code=row.postal_code,
                locality=row.locality,
                country=row.country,
                still_at_address=row.address_key is not None,
            )
            for row in rows
        ]
