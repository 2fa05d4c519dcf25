"""The records of e-mailed letters that the sending step and its store exchange (issue 25)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class StoredEmail:
    """An e-mail row still to go to the relay (``sending`` or ``deferred``)."""

    decision_id: int
    run_id: int  # the run that last tried it
    as_of: date  # the date of the run that decided it: the letter's date
    reference: str
    message_id: str
    attempts: int


@dataclass(frozen=True, slots=True)
class NewEmail:
    decision_id: int
    run_id: int
    municipality_nis: str
    reference: str
    message_id: str
    templates: str
    template_sha256: str
    message_sha256: str
    recorded_at: datetime
