"""What a dispatch log entry records, read back from its published bytes: the run, the volume,
the letter or the skip, as `reminders recover` restores them into a database that lost them.

An entry's bytes are its canonical form (`LogEntry.canonical`), so the entry, its place and its
hashes follow from them and the hash of the entry before it; the records follow from the
entry's columns and details, as the seal wrote them (adapters/dispatch_log_store.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reminders.domain.dispatch_log import (
    LogEntry,
    LogEvent,
    canonical_json,
    chained_hash,
    entry_details,
)
from reminders.domain.merkle import leaf_hash

_KEYS = {
    "municipality_nis", "seq", "run_id", "event", "recorded_at", "document_kind",
    "document_number", "stage", "reason", "language", "reference", "details",
}  # fmt: skip


class EntryFormatError(ValueError):
    """Published bytes that are not the canonical form of a log entry."""


def entry_from_bytes(data: bytes, prev_hash: str, leaf: bytes | None = None) -> LogEntry:
    """The entry whose canonical form is ``data`` (whose leaf hash is ``leaf``, when known),
    chained after ``prev_hash``."""
    try:
        fields = json.loads(data.decode())  # (str: json's guess of the encoding costs more)
    except ValueError as err:  # UnicodeDecodeError too
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
    ):  # the other fields: text or null; the canonical form below holds them to their bytes
        raise EntryFormatError("not a log entry: a field of the wrong type")
    # The bytes must be the entry's canonical form: the database gives back exactly these.
    if canonical_json(fields).encode() != data:
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


Record = RunRecord | VolumeRecord | DecisionRecord


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
            details.get("language"), recorded_at,
        )  # fmt: skip
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
    )


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a time without its offset: {text!r}")
    return moment
