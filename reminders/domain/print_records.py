"""What the database holds of letters after their run (issue 21): print volumes and where they
stand towards the print shop, the letters placed in them, reprints, returned letters. Plain
values, read by the after-print use cases (services/after_print.py and its neighbours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reminders.domain.release import VolumeState


@dataclass(frozen=True, slots=True)
class StoredVolume:
    """A print volume with its run's date, starter and outcome."""

    volume_id: int
    run_id: int
    municipality_nis: str
    language: str | None
    sequence: int
    path: str
    sha256: str
    letters: int
    pages: int
    state: VolumeState
    kind: str  # run, recut, reprint
    replaces_id: int | None
    requested_by: str | None
    released_by: str | None
    released_at: datetime | None
    delivered_at: datetime | None
    run_as_of: date
    run_started_by: str
    run_outcome: str

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class VolumeLetter:
    """A letter placed in a volume, as printed."""

    decision_id: int
    reference: str
    document_kind: str
    document_number: str
    stage: str
    language: str | None  # None once cancelled (the decision is a skip now)
    first_page: int
    page_count: int
    templates: str
    template_sha256: str
    address_sha256: str
    cancelled: bool


@dataclass(frozen=True, slots=True)
class StoredLetter:
    """A printed letter by its reference, with its volume, document and holder."""

    letter: VolumeLetter
    volume: StoredVolume
    municipality_nis: str
    document_id: int
    person_id: int
    national_number: str  # for the log's holder commitment, never shown


@dataclass(frozen=True, slots=True)
class StoredReprint:
    reference: str
    original: str
    number: int
    volume: StoredVolume
    first_page: int
    page_count: int
    address_sha256: str
    requested_by: str


@dataclass(frozen=True, slots=True)
class ReturnedListing:
    """A returned letter as the console lists it for an address check."""

    reference: str
    returned_on: date
    reason: str
    recorded_at: datetime
    document_kind: str
    document_number: str
    family_name: str
    given_names: str
    national_number: str
    street: str | None
    house_number: str | None
    box: str | None
    postal_code: str | None
    locality: str | None
    country: str
    still_at_address: bool  # the registry held the address it came back from, when read
