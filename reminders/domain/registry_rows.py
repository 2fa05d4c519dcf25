"""One registry row → a record to import, or the reason it is rejected (interfaces.md §1).

The file adapter has already split the row into the contract's columns, in the order of
``PERSON_COLUMNS`` / ``DOCUMENT_COLUMNS``; here we check what the values mean. Records are
NamedTuples so the bulk loaders can hand them to the database without copying.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from reminders.domain.bounds import is_supported_day
from reminders.domain.email_address import InvalidEmailError, normalised_email
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    PersonStatus,
    RegistryKind,
)
from reminders.domain.national_number import (
    InvalidNationalNumberError,
    compact_national_number,
    validated_national_number,
)

PERSON_COLUMNS = (
    "national_number",
    "family_name",
    "given_names",
    "language",
    "street",
    "house_number",
    "box",
    "postal_code",
    "locality",
    "country",
    "municipality_nis",
    "status",
    "status_since",
    "guardian_national_number",
    "email",  # optional (issue 25): kept only with consent
    "email_consent",  # optional: yes/no or the date it was given; empty withdraws it
)
PERSON_EMAIL_COLUMNS = ("email", "email_consent")  # optional: a file may leave both out
# street, house_number, postal_code and locality are required columns, yet a cell may be empty:
# the resident is imported and every letter to them is skipped with `no_address`.
PERSON_REQUIRED = (
    "national_number",
    "family_name",
    "given_names",
    "street",
    "house_number",
    "postal_code",
    "locality",
    "municipality_nis",
)
DOCUMENT_COLUMNS = ("national_number", "kind", "number", "issued_on", "expires_on", "status")
DOCUMENT_REQUIRED = ("national_number", "kind", "number", "expires_on")
# Each extract's columns (in the order the parsers take them) and its required columns.
REGISTRY_FORMATS = {
    RegistryKind.PERSONS: (PERSON_COLUMNS, PERSON_REQUIRED),
    RegistryKind.DOCUMENTS: (DOCUMENT_COLUMNS, DOCUMENT_REQUIRED),
}

# Lengths a register export never exceeds; longer values are a shifted column or garbage.
MAX_NAME = 200
MAX_HOUSE_NUMBER = 16
MAX_POSTAL_CODE = 12
MAX_DOCUMENT_NUMBER = 40

_BELGIAN_POSTAL_CODE = re.compile(r"^[1-9]\d{3}$")
_NIS_CODE = re.compile(r"^[1-9]\d{4}$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# Box words people type into the box cell; the letter prints its own (domain.md §4.2).
_BOX_WORD = re.compile(r"^(?:bus|bte|boîte|boite|box|bfk)\b[\s.:]*", re.IGNORECASE)
_DOCUMENT_NUMBER_PUNCTUATION = str.maketrans("", "", " .-/")
# A Belgian document number (eID, Kids-ID, passport, driving licence, residence card) is
# letters and digits once its punctuation is dropped; anything else is garbage, or a formula
# meant for a spreadsheet that opens a manifest or an export (OWASP, "CSV injection").
_DOCUMENT_NUMBER = re.compile(r"[A-Z0-9]+")
# Plain strings, not the enums: database drivers store str subclasses inconsistently.
_LANGUAGES = {language.value: language.value for language in Language}
_PERSON_STATUSES = {status.value: status.value for status in PersonStatus}
_DOCUMENT_KINDS = {kind.value: kind.value for kind in DocumentKind}
_DOCUMENT_STATUSES = {status.value: status.value for status in DocumentStatus}
# The defaults of empty cells, read once: an enum member's .value costs a call per row.
_RESIDENT = PersonStatus.RESIDENT.value
_ACTIVE = DocumentStatus.ACTIVE.value
_CONSENT_YES = frozenset({"yes", "y", "true", "1", "ja", "j", "oui", "o", "x"})
_CONSENT_NO = frozenset({"no", "n", "false", "0", "nee", "non", "nein"})


class PersonRecord(NamedTuple):
    """A valid persons.csv row; empty cells are None."""

    national_number: str  # compact, 11 digits
    family_name: str
    given_names: str
    language: str | None
    street: str | None
    house_number: str | None
    box: str | None
    postal_code: str | None
    locality: str | None
    country: str  # ISO 3166-1 alpha-2
    municipality_nis: str
    status: str
    status_since: date | None
    guardian_national_number: str | None
    # Only with consent: an import without it (an empty cell) withdraws the consent and the
    # address is not kept (issue 25).
    email: str | None
    email_consent: bool


class DocumentRecord(NamedTuple):
    """A valid documents.csv row; the holder is checked against the persons by the import."""

    national_number: str  # compact; known-ness is checked in the database
    kind: str
    number: str  # compact: without spaces, dots, dashes or slashes; upper case
    issued_on: date | None
    expires_on: date | None  # None for paper licences (domain.md §1.5): never reminded
    status: str


class RowProblem(NamedTuple):
    """Why a row is rejected: the column at fault and a reason without personal data."""

    column: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that is not imported: where it was, which column, why, and the row itself."""

    line: int
    column: str | None
    reason: str
    subject: str  # the masked national number, for reports people read
    raw: str  # the record as it stood in the file: nothing is lost


@dataclass(frozen=True, slots=True)
class MergeCounts:
    """What an import did to the registry."""

    inserted: int
    updated: int
    unchanged: int


class _RejectedError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = RowProblem(column, reason)


def parse_person(fields: Sequence[str], countries: Collection[str]) -> PersonRecord | RowProblem:
    """A persons.csv row (values in ``PERSON_COLUMNS`` order) checked and normalised."""
    try:
        return _person(fields, countries)
    except _RejectedError as rejected:
        return rejected.problem


def parse_document(fields: Sequence[str]) -> DocumentRecord | RowProblem:
    """A documents.csv row (values in ``DOCUMENT_COLUMNS`` order) checked and normalised."""
    try:
        return _document(fields)
    except _RejectedError as rejected:
        return rejected.problem


def _person(fields: Sequence[str], countries: Collection[str]) -> PersonRecord:
    (nn, family, given, language, street, house, box, postal, locality, country, nis, status,
     since, guardian, email, consent) = fields  # fmt: skip
    national_number = _national_number("national_number", nn)
    country_code = country.strip().upper() or "BE"
    if country_code not in countries:
        raise _RejectedError(
            "country", f"expected an ISO 3166 country code like BE, got {country!r}"
        )
    postal_code = _optional(postal, "postal_code", MAX_POSTAL_CODE)
    if postal_code and country_code == "BE" and not _BELGIAN_POSTAL_CODE.match(postal_code):
        raise _RejectedError("postal_code", "expected 4 digits for a Belgian address")
    guardian_number = None
    if guardian.strip():
        guardian_number = _national_number("guardian_national_number", guardian)
        if guardian_number == national_number:
            raise _RejectedError("guardian_national_number", "is the person's own number")
    box_text = _optional(box, "box", MAX_HOUSE_NUMBER)
    email_consent = _consent(consent)
    return PersonRecord(
        national_number=national_number,
        family_name=_required_text(family, "family_name", MAX_NAME),
        given_names=_text(given, "given_names", MAX_NAME) or "",
        language=_choice(language, "language", _LANGUAGES, None),
        street=_text(street, "street", MAX_NAME),
        house_number=_optional(house, "house_number", MAX_HOUSE_NUMBER),
        box=_BOX_WORD.sub("", box_text) or None if box_text else None,
        postal_code=postal_code,
        locality=_text(locality, "locality", MAX_NAME),
        country=country_code,
        municipality_nis=_nis_code(nis),
        status=_choice(status, "status", _PERSON_STATUSES, _RESIDENT) or "",
        status_since=_optional_date(since, "status_since"),
        guardian_national_number=guardian_number,
        email=_email(email) if email_consent else None,
        email_consent=email_consent,
    )


def _document(fields: Sequence[str]) -> DocumentRecord:
    nn, kind, number, issued, expires, status = fields
    holder = compact_national_number(nn.strip())
    if len(holder) != 11 or not holder.isdigit():
        # Check digits are verified only for holders not found among the persons: a number
        # that matches a validated person is valid, and this keeps the import fast.
        raise _RejectedError("national_number", "expected an 11-digit national number")
    issued_on = _optional_date(issued, "issued_on")
    expires_on = _optional_date(expires, "expires_on")
    if issued_on is not None and expires_on is not None and issued_on > expires_on:
        raise _RejectedError("expires_on", "expires before it was issued (issued_on)")
    compact_number = number.translate(_DOCUMENT_NUMBER_PUNCTUATION).upper()
    if not compact_number:
        raise _RejectedError("number", "is empty")
    if len(compact_number) > MAX_DOCUMENT_NUMBER:
        raise _RejectedError("number", f"longer than {MAX_DOCUMENT_NUMBER} characters")
    if not _DOCUMENT_NUMBER.fullmatch(compact_number):
        raise _RejectedError(
            "number", "expected letters and digits only (with spaces, dots, dashes or slashes)"
        )
    return DocumentRecord(
        national_number=holder,
        kind=_choice(kind, "kind", _DOCUMENT_KINDS, None, required=True) or "",
        number=compact_number,
        issued_on=issued_on,
        expires_on=expires_on,
        status=_choice(status, "status", _DOCUMENT_STATUSES, _ACTIVE) or "",
    )


def _national_number(column: str, value: str) -> str:
    if not value.strip():
        raise _RejectedError(column, "is empty")
    try:
        return validated_national_number(value.strip())
    except InvalidNationalNumberError as err:
        raise _RejectedError(column, err.reason) from err


def _text(value: str, column: str, limit: int) -> str | None:
    # Collapse runs of white space: bpost wants no double spaces in an address (domain.md §4.1).
    text = " ".join(value.split())
    if len(text) > limit:
        raise _RejectedError(column, f"longer than {limit} characters")
    return text or None


def _required_text(value: str, column: str, limit: int) -> str:
    text = _text(value, column, limit)
    if text is None:
        raise _RejectedError(column, "is empty")
    return text


def _optional(value: str, column: str, limit: int) -> str | None:
    text = value.strip()
    if len(text) > limit:
        raise _RejectedError(column, f"longer than {limit} characters")
    return text or None


def _choice(
    value: str,
    column: str,
    allowed: dict[str, str],
    default: str | None,
    *,
    required: bool = False,
) -> str | None:
    key = value.strip().lower()
    if not key:
        if required:
            raise _RejectedError(column, "is empty")
        return default
    choice = allowed.get(key)
    if choice is None:
        raise _RejectedError(column, f"expected one of {', '.join(allowed)}, got {value.strip()!r}")
    return choice


def _consent(value: str) -> bool:
    """Whether the citizen chose e-mail: yes (ja, oui, 1, x, true) or the date it was given;
    empty or no (nee, non, nein, 0): not, or no longer."""
    key = value.strip().lower()
    if not key or key in _CONSENT_NO:
        return False
    if key in _CONSENT_YES or parse_registry_date(key) is not None:
        return True
    raise _RejectedError(
        "email_consent", f"expected yes, no, a date like 2027-06-01 or empty, got {key[:20]!r}"
    )


def _email(value: str) -> str | None:
    """The address, checked for form (no DNS) and normalised; an address that mail cannot be
    sent to rejects the row, with the reason (never the address) for the report."""
    if not value.strip():
        return None
    try:
        return normalised_email(value)
    except InvalidEmailError as err:
        raise _RejectedError("email", err.reason) from err


def _nis_code(value: str) -> str:
    code = value.strip()
    if not _NIS_CODE.match(code):
        raise _RejectedError("municipality_nis", f"expected a 5-digit NIS code, got {code!r}")
    return code


def _optional_date(value: str, column: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    parsed = parse_registry_date(text)
    if parsed is None:
        raise _RejectedError(column, f"expected a date like 2027-06-01 or 01/06/2027, got {text!r}")
    return parsed


@lru_cache(maxsize=65536)  # registries repeat dates a lot: expiry days, status days
def parse_registry_date(text: str) -> date | None:
    """ISO ``YYYY-MM-DD`` or Belgian ``DD/MM/YYYY``; None when it is neither or out of range.

    >>> parse_registry_date("01/06/2027"), parse_registry_date("2027-06-01")
    (datetime.date(2027, 6, 1), datetime.date(2027, 6, 1))
    >>> parse_registry_date("31/02/2027") is None
    True
    """
    try:
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            parsed = date.fromisoformat(text)
        else:
            match = _DMY.match(text)
            if match is None:
                return None
            parsed = date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return parsed if is_supported_day(parsed) else None
