"""The registry's vocabulary: persons, addresses, documents and the closed sets they use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Language(StrEnum):
    """A language of letters (domain.md §5): Dutch, French or German."""

    NL = "nl"
    FR = "fr"
    DE = "de"


class PersonStatus(StrEnum):
    """Registration status in the population register (bevolkingsregister / registre)."""

    RESIDENT = "resident"
    EMIGRATED = "emigrated"
    DECEASED = "deceased"
    STRUCK_OFF = "struck_off"  # ambtshalve geschrapt / radié d'office (domain.md §4.4)


class DocumentKind(StrEnum):
    """The documents a municipality issues and reminds about (domain.md §1-§2)."""

    DRIVING_LICENCE = "driving_licence"
    EID = "eid"
    KIDS_ID = "kids_id"
    RESIDENCE_CARD = "residence_card"
    PASSPORT = "passport"


class DocumentStatus(StrEnum):
    """A document's status in the register; only `active` documents get reminders."""

    ACTIVE = "active"
    RENEWED = "renewed"
    REVOKED = "revoked"
    LOST = "lost"
    STOLEN = "stolen"


class LetterLanguageRule(StrEnum):
    """How a municipality picks a letter's language (interfaces.md §2, domain.md §5.2)."""

    MUNICIPALITY = "municipality"
    CITIZEN = "citizen"
    CITIZEN_OR_BILINGUAL = "citizen_or_bilingual"


class RegistryKind(StrEnum):
    """The two registry extracts `reminders import` reads."""

    PERSONS = "persons"
    DOCUMENTS = "documents"


@dataclass(frozen=True, slots=True)
class DueDocument:
    """How a listed decision's document is shown: by kind and number, never by its holder."""

    kind: DocumentKind
    number: str
    expires_on: date | None
