"""What an auditor's report on one run says, per municipality: read from the dispatch log
itself (what is attested), with the checkpoint that seals it and the verification verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reminders.domain.model import Language


@dataclass(frozen=True, slots=True)
class ReportVolume:
    """A print volume of the run as the log recorded it."""

    path: str
    sha256: str
    letters: int
    pages: int
    language: str | None  # set when volumes are split by language


@dataclass(frozen=True, slots=True)
class ReportImport:
    """A registry import the run read (the newest of its kind at the time)."""

    import_id: int
    kind: str  # "persons" or "documents"
    file_name: str
    file_sha256: str
    finished_at: str  # ISO 8601, UTC


@dataclass(frozen=True, slots=True)
class MunicipalityRunReport:
    """One municipality's part of a run: what was decided, printed and sealed."""

    nis_code: str
    name: str
    language: Language  # the report's language: the municipality's first official language
    run_id: int
    as_of: date
    started_at: str  # ISO 8601, UTC
    started_by: str
    config_sha256: str
    code_version: str
    imports: tuple[ReportImport, ...]
    first_seq: int  # the run's entries in this municipality's log: first_seq..last_seq
    last_seq: int
    letters_by_stage: tuple[tuple[str, int], ...]  # ("driving_licence/first", 12), sorted
    letters_by_language: tuple[tuple[str, int], ...]  # ("fr+nl", 3), sorted
    skips_by_reason: tuple[tuple[str, int], ...]  # ("deceased", 2), sorted
    volumes: tuple[ReportVolume, ...]
    checkpoint_note: str  # the signed checkpoint as written next to the volumes
    checkpoint_size: int
    checkpoint_root: str  # hex
    checkpoint_signed_at: str  # ISO 8601, UTC
    key_id: str  # hex of the signed-note key hash
    verified: bool
    verification: tuple[str, ...]  # the verification statement, one sentence per line
    # Issue 25: letters per channel ("email", "paper"), when any went by e-mail; else empty
    letters_by_channel: tuple[tuple[str, int], ...] = ()

    @property
    def letters(self) -> int:
        return sum(count for _, count in self.letters_by_stage)

    @property
    def skips(self) -> int:
        return sum(count for _, count in self.skips_by_reason)


@dataclass(frozen=True, slots=True)
class RunAuditReport:
    """The report on one run, every municipality it covered."""

    run_id: int
    generated_at: datetime  # aware, UTC
    municipalities: tuple[MunicipalityRunReport, ...]
