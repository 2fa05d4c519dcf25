"""What a dispatch log entry records, read back from its published bytes: the run, the volume,
the letter or the skip, as `reminders recover` restores them into a database that lost them.

An entry's bytes are its canonical form (`LogEntry.canonical`), so the entry, its place and its
hashes follow from them and the hash of the entry before it; the records follow from the
entry's columns and details, as the seal wrote them (adapters/dispatch_log_store.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from reminders.domain.channels import EmailState
from reminders.domain.dispatch_log import (
    LogEntry,
    LogEvent,
    chained_hash,
    entry_details,
    is_canonical_form,
)
from reminders.domain.merkle import leaf_hash

_KEYS = {
    "municipality_nis", "seq", "run_id", "event", "recorded_at", "document_kind",
    "document_number", "stage", "reason", "language", "reference", "details",
}  # fmt: skip


def _text_or_null(fields: dict[str, Any]) -> bool:
    """The entry's optional text fields (spelled out: recover checks a million entries)."""
    return (
        (fields["document_kind"] is None or type(fields["document_kind"]) is str)
        and (fields["document_number"] is None or type(fields["document_number"]) is str)
        and (fields["stage"] is None or type(fields["stage"]) is str)
        and (fields["reason"] is None or type(fields["reason"]) is str)
        and (fields["language"] is None or type(fields["language"]) is str)
        and (fields["reference"] is None or type(fields["reference"]) is str)
    )


class EntryFormatError(ValueError):
    """Published bytes that are not the canonical form of a log entry."""


def entry_from_bytes(data: bytes, prev_hash: str, leaf: bytes | None = None) -> LogEntry:
    """The entry whose canonical form is ``data`` (whose leaf hash is ``leaf``, when known),
    chained after ``prev_hash``."""
    try:
        fields = orjson.loads(data)  # `recover` decodes a million of them: 3x json's speed
    except orjson.JSONDecodeError as err:  # invalid UTF-8 too
        raise EntryFormatError(f"not a log entry: {err}") from err
    if type(fields) is not dict or fields.keys() != _KEYS:
        raise EntryFormatError("not a log entry: unexpected fields")
    seq, run_id = fields["seq"], fields["run_id"]
    if (
        type(seq) is not int
        or not (run_id is None or type(run_id) is int)
        or type(fields["municipality_nis"]) is not str
        or type(fields["event"]) is not str
        or type(fields["recorded_at"]) is not str
        or type(fields["details"]) is not str
        or not _text_or_null(fields)
    ):
        raise EntryFormatError("not a log entry: a field of the wrong type")
    # The bytes must be the entry's canonical form: the database gives back exactly these.
    if not is_canonical_form(fields, data):
        raise EntryFormatError(f"entry {seq} is not in its canonical form")
    return LogEntry(
        fields["municipality_nis"], seq, run_id, fields["event"], fields["recorded_at"],
        fields["document_kind"], fields["document_number"], fields["stage"], fields["reason"],
        fields["language"], fields["reference"], fields["details"], prev_hash,
        chained_hash(prev_hash, leaf or leaf_hash(data)),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as its `run` entry describes it (one per municipality it covered)."""

    run_id: int
    as_of: date
    municipalities: tuple[str, ...]
    started_by: str
    started_at: datetime
    config_sha256: str
    code_version: str
    missed_nights: dict[str, list[str]]  # the entry's municipality's, if any
    attempts: tuple[dict[str, Any], ...]  # as logged at the seal
    newest_import: int | None


@dataclass(frozen=True, slots=True)
class VolumeRecord:
    run_id: int
    municipality_nis: str
    path: str
    sha256: str
    letters: int
    pages: int
    sequence: int
    language: str | None
    written_at: datetime
    held: bool = False  # the run's municipality releases on approval: held until released


@dataclass(frozen=True, slots=True)
class RecutRecord:
    """A held volume cut again without its cancelled letters (issue 21): the re-cut volume,
    and where its letters now stand follows from the original's letters, in their order."""

    volume: VolumeRecord  # the re-cut (held until its `released` entry)
    replaces: str  # the original volume's path
    cover_pages: int
    duplex: bool


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    """A held volume released to the print shop."""

    run_id: int
    volume: str  # its path
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CancelRecord:
    """A printed letter cancelled before its volume was released, or a held reprint."""

    run_id: int
    reference: str
    volume: str  # the path of the volume it was cancelled in
    by: str
    note: str
    decide_again: bool
    reprint: bool  # a reprint's cancellation: only its volume is cancelled
    at: datetime


@dataclass(frozen=True, slots=True)
class ReprintRecord:
    """A letter printed again, alone in a reprint volume."""

    volume: VolumeRecord
    reference: str  # <original>-R<n>
    original: str
    number: int
    first_page: int
    page_count: int
    template_sha256: str
    address_sha256: str
    by: str
    note: str


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    """A letter bpost brought back."""

    run_id: int
    municipality_nis: str
    reference: str  # as printed (-R<n> too)
    original: str
    returned_on: date
    reason: str
    still_at_address: bool  # the registry then held the address it came back from
    by: str
    import_id: int  # the list it was read from (its number in the database that read it)
    at: datetime


def recut_places(
    letters: Sequence[tuple[int, int]], *, cover_pages: int, duplex: bool
) -> list[tuple[int, int]]:
    """Where the letters kept in a re-cut stand (first page of each, in order), given their
    page counts in the original's order: after the cover sheet, each on the next page, or
    the next recto when duplex (a blank back after an odd count).

    >>> recut_places([(7, 2), (9, 1), (4, 3)], cover_pages=1, duplex=True)
    [(7, 2), (9, 4), (4, 6)]
    """
    places, page = [], cover_pages + 1
    for decision_id, page_count in letters:
        places.append((decision_id, page))
        page += page_count + (page_count % 2 if duplex else 0)
    return places


@dataclass(frozen=True, slots=True)
class LetterRecord:
    reference: str
    volume_path: str
    first_page: int
    page_count: int
    templates: str
    template_sha256: str
    address_sha256: str


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A letter or a skip, as the reminder rule reads its history: (document, stage)."""

    run_id: int
    municipality_nis: str
    document_kind: str
    document_number: str
    stage: str
    reason: str | None  # None: a letter
    final: bool
    language: str | None
    recorded_at: datetime
    letter: LetterRecord | None = None
    # A skip that stops the letter this earlier run decided: its e-mail failed, and the re-check
    # of the run that took it over for paper stopped it (that run's decision becomes the skip).
    stops_letter_of: int | None = None


@dataclass(frozen=True, slots=True)
class EmailRecord:
    """A letter sent by e-mail (issue 25), as an `emailed` entry (the relay accepted it, in
    the entry's run) or an `email_failed` one (refused or bounced: the entry's run printed
    the letter on paper, its `letter` entry follows) records it. The letter's decision is its
    deciding run's, which the e-mail may have gone out after (deferred)."""

    run_id: int  # the entry's run
    municipality_nis: str
    document_kind: str
    document_number: str
    stage: str
    language: str | None
    decided_in: int  # the run whose decision the letter is
    reference: str  # <NIS>-<deciding run>-M<n>
    message_id: str
    templates: str
    template_sha256: str
    message_sha256: str
    attempts: int
    state: EmailState  # accepted (emailed), refused or bounced (email_failed)
    queue_id: str | None  # the relay's, when it accepted it
    reply: str | None  # the relay's refusal or the bounce (addresses masked)
    recorded_at: datetime

    @property
    def paper_in(self) -> int | None:
        """The run that printed the letter on paper instead."""
        return self.run_id if self.state.falls_back_to_paper else None

    @property
    def decision(self) -> DecisionRecord:
        """The letter's decision, as the reminder rule reads it."""
        return DecisionRecord(
            run_id=self.decided_in, municipality_nis=self.municipality_nis,
            document_kind=self.document_kind, document_number=self.document_number,
            stage=self.stage, reason=None, final=True, language=self.language,
            recorded_at=self.recorded_at,
        )  # fmt: skip


Record = (
    RunRecord | VolumeRecord | DecisionRecord | EmailRecord | RecutRecord | ReleaseRecord
    | CancelRecord | ReprintRecord | ReturnRecord
)  # fmt: skip


def record_of(entry: LogEntry) -> Record | None:
    """What an entry records; None for seals and reveals (nothing to restore). Raises
    EntryFormatError for an entry that lacks what its kind must say."""
    details = entry_details(entry)
    try:
        return _record(entry, details)
    except (KeyError, TypeError, ValueError) as err:
        raise EntryFormatError(f"{entry.described()} lacks what it must record: {err}") from err


def _record(entry: LogEntry, details: dict[str, Any]) -> Record | None:
    if entry.run_id is None or entry.event in (LogEvent.SEALED, LogEvent.REVEALED):
        return None
    recorded_at = _moment(entry.recorded_at)
    if entry.event == LogEvent.RUN:
        imports = [int(i["import_id"]) for i in details.get("registry", ())]
        missed = details.get("missed_nights")
        return RunRecord(
            run_id=entry.run_id,
            as_of=date.fromisoformat(details["as_of"]),
            municipalities=tuple(details["municipalities"]),
            started_by=str(details["started_by"]),
            started_at=_moment(details["started_at"]),
            config_sha256=str(details["config_sha256"]),
            code_version=str(details["code_version"]),
            missed_nights={entry.municipality_nis: list(missed)} if missed else {},
            attempts=tuple(details.get("attempts", ())),
            newest_import=max(imports, default=None),
        )
    if entry.event == LogEvent.VOLUME:
        return VolumeRecord(
            entry.run_id, entry.municipality_nis, str(details["path"]), str(details["sha256"]),
            int(details["letters"]), int(details["pages"]), int(details["sequence"]),
            details.get("language"), recorded_at, details.get("release") == "approval",
        )  # fmt: skip
    if entry.event in _AFTER_PRINT:
        return _after_print(entry, details, recorded_at)
    if entry.event in (LogEvent.EMAILED, LogEvent.EMAIL_FAILED):
        return _email(entry, details, recorded_at)
    if entry.document_kind is None or entry.document_number is None or entry.stage is None:
        raise ValueError("no document or stage")
    letter = None
    if entry.event == LogEvent.LETTER:
        if entry.reference is None:
            raise ValueError("a letter without its reference")
        letter = LetterRecord(
            entry.reference, str(details["volume"]), int(details["page"]),
            int(details["pages"]), str(details["templates"]), str(details["template_sha256"]),
            str(details["address_sha256"]),
        )  # fmt: skip
    elif entry.event != LogEvent.SKIP or entry.reason is None:
        raise ValueError(f"an entry of kind {entry.event!r}")
    stops = details.get("decided_in_run") if letter is None else None
    return DecisionRecord(
        run_id=entry.run_id,
        municipality_nis=entry.municipality_nis,
        document_kind=entry.document_kind,
        document_number=entry.document_number,
        stage=entry.stage,
        reason=entry.reason,
        final=True if letter is not None else bool(details["final"]),
        language=entry.language if letter is not None else None,
        recorded_at=recorded_at,
        letter=letter,
        stops_letter_of=None if stops is None else int(stops),
    )


_AFTER_PRINT = frozenset(
    {LogEvent.RECUT, LogEvent.RELEASED, LogEvent.CANCELLED, LogEvent.REPRINTED, LogEvent.RETURNED}
)


def _after_print(entry: LogEntry, details: dict[str, Any], at: datetime) -> Record:
    """What an entry written after the print records (issue 21: release_volumes,
    reprint_letter, returned_mail write them)."""
    run_id, nis = entry.run_id or 0, entry.municipality_nis
    if entry.event == LogEvent.RELEASED:
        return ReleaseRecord(run_id, str(details["volume"]), str(details["by"]), at)
    if entry.event == LogEvent.RECUT:
        volume = VolumeRecord(
            run_id, nis, str(details["volume"]), str(details["sha256"]), int(details["letters"]),
            int(details["pages"]), int(details["sequence"]), details.get("language"), at, True,
        )  # fmt: skip
        return RecutRecord(
            volume, str(details["replaces"]["volume"]), int(details["cover_pages"]),
            bool(details["duplex"]),
        )  # fmt: skip
    if entry.reference is None:
        raise ValueError("no reference")
    if entry.event == LogEvent.CANCELLED:
        return CancelRecord(
            run_id, entry.reference, str(details["volume"]), str(details["by"]),
            str(details["note"]), bool(details.get("decide_again", False)),
            bool(details.get("reprint", False)), at,
        )  # fmt: skip
    original = str(details["original"])
    if entry.event == LogEvent.REPRINTED:
        number = int(entry.reference.rsplit("-R", 1)[1])
        page, pages = int(details["page"]), int(details["pages"])
        volume = VolumeRecord(
            run_id, nis, str(details["volume"]), str(details["sha256"]), 1, page + pages - 1,
            number, None, at, details.get("release") == "approval",
        )  # fmt: skip
        return ReprintRecord(
            volume, entry.reference, original, number, page, pages,
            str(details["template_sha256"]), str(details["address_sha256"]),
            str(details["by"]), str(details["note"]),
        )  # fmt: skip
    return ReturnRecord(
        run_id, nis, entry.reference, original, date.fromisoformat(details["returned_on"]),
        str(details["return_reason"]), bool(details["still_at_address"]), str(details["by"]),
        int(details["import_id"]), at,
    )  # fmt: skip


def _email(entry: LogEntry, details: dict[str, Any], at: datetime) -> EmailRecord:
    """An e-mail as the seal logged it (adapters/db/dispatch_log_store._email_entry)."""
    if entry.document_kind is None or entry.document_number is None or entry.stage is None:
        raise ValueError("no document or stage")
    if entry.reference is None or entry.run_id is None:
        raise ValueError("an e-mail without its reference or run")
    if entry.event == LogEvent.EMAILED:
        state, queue_id, reply = EmailState.ACCEPTED, details["queue_id"], None
    else:
        state, queue_id, reply = EmailState(details["state"]), None, details["reply"]
        if not state.falls_back_to_paper or int(details["paper_in_run"]) != entry.run_id:
            raise ValueError(f"an e-mail that failed as {state.value!r}, on paper in run "
                             f"{details['paper_in_run']}")  # fmt: skip
    return EmailRecord(
        entry.run_id, entry.municipality_nis, entry.document_kind, entry.document_number,
        entry.stage, entry.language, int(details["decided_in_run"]), entry.reference,
        str(details["message_id"]), str(details["templates"]), str(details["template_sha256"]),
        str(details["message_sha256"]), int(details["attempts"]), state,
        None if queue_id is None else str(queue_id), None if reply is None else str(reply), at,
    )  # fmt: skip


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a time without its offset: {text!r}")
    return moment
