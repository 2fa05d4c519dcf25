"""Registry columns the nightly decision and the printing step both read."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import Table, exists, func, select
from sqlalchemy.sql.elements import ColumnElement, Label

from reminders.adapters.db.orm import DocumentRow, PersonRow, ReturnedLetterRow
from reminders.domain.address import is_usable_address
from reminders.domain.due import DocumentFacts, Holder
from reminders.domain.model import DocumentKind, DocumentStatus, Language, PersonStatus
from reminders.domain.returned_mail import address_key

_document = cast(Table, DocumentRow.__table__)
_person = cast(Table, PersonRow.__table__)
_returned = cast(Table, ReturnedLetterRow.__table__)
_later = _document.alias("later")
FACT_COLUMNS = 15  # how many columns document_fact_columns gives

# Enum lookups by value: a dict is several times faster than calling the enum, per row.
KINDS = {kind.value: kind for kind in DocumentKind}
DOCUMENT_STATUSES = {status.value: status for status in DocumentStatus}
PERSON_STATUSES = {status.value: status for status in PersonStatus}
LANGUAGES: dict[object, Language | None] = {lang.value: lang for lang in Language}


def renewed_by_later() -> Label[bool]:
    """Whether the holder has another active document of the same kind expiring later."""
    return (
        exists()
        .where(
            _later.c.person_id == _document.c.person_id,
            _later.c.kind == _document.c.kind,
            _later.c.status == DocumentStatus.ACTIVE.value,
            _later.c.expires_on > _document.c.expires_on,
        )
        .label("renewed")
    )


def returned_address_keys(dialect: str) -> Label[Any]:
    """The address keys of the letters bpost returned to the holder, comma-separated (NULL
    for nearly everyone): one probe of the returned_letter index per document."""
    key = _returned.c.address_key
    joined = func.string_agg(key, ",") if dialect == "postgresql" else func.group_concat(key, ",")
    return (
        select(joined)
        .where(_returned.c.person_id == _person.c.id, key.is_not(None))
        .scalar_subquery()
        .label("returned_keys")
    )


def document_fact_columns(
    renewed: ColumnElement[bool], dialect: str
) -> tuple[ColumnElement[Any], ...]:
    """The columns `document_facts` reads, in its order (from document joined to person):
    the document, whether it was renewed (by the caller's rule), its holder, and the
    addresses mail to the holder came back from."""
    return (
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
        _person.c.box,
        returned_address_keys(dialect),
    )


# Values are frozen, so equal ones can be shared, and building a frozen dataclass costs about
# as much as the rest of a row. A night's holders come in a few dozen kinds (status, NIS code,
# language, address or not): each is built once.
MEMO_LIMIT = 4096  # more distinct keys than that: start afresh
_holders: dict[tuple[object, ...], Holder] = {}


def _holder(
    status: str, nis: str, language: str | None, has_address: bool, mail_returned: bool = False
) -> Holder:
    key = (status, nis, language, has_address, mail_returned)
    holder = _holders.get(key)
    if holder is None:
        if len(_holders) >= MEMO_LIMIT:
            _holders.clear()
        holder = _holders[key] = Holder(
            PERSON_STATUSES[status], nis, LANGUAGES.get(language), has_address, mail_returned
        )
    return holder


def is_returned_address(
    returned_keys: str | None,
    street: str | None,
    house_number: str | None,
    box: str | None,
    postal_code: str | None,
    locality: str | None,
    country: str | None,
) -> bool:
    """Whether mail to the holder came back from the address the registry holds now."""
    if not returned_keys:
        return False
    current = address_key(street, house_number, box, postal_code, locality, country)
    return current in returned_keys.split(",")


def document_facts(
    document_id: int,
    kind: str,
    expires_on: date | str | None,  # SQLite's text where the driver's rows are read as they come
    status: str,
    renewed: object,
    person_status: str,
    nis: str,
    language: str | None,
    street: str | None,
    house_number: str | None,
    postal_code: str | None,
    locality: str | None,
    country: str,
    box: str | None = None,
    returned_keys: str | None = None,
) -> DocumentFacts:
    """A row's `document_fact_columns` as the rule's input; called for every document looked
    at, so it stays lean (no casts, enums by dict, shared holders)."""
    has_address = is_usable_address(
        street=street,
        house_number=house_number,
        postal_code=postal_code,
        locality=locality,
        country=country,
    )
    returned = has_address and is_returned_address(
        returned_keys, street, house_number, box, postal_code, locality, country
    )
    holder = _holder(person_status, nis, language, has_address, returned)
    if isinstance(expires_on, str):
        expires_on = date.fromisoformat(expires_on)
    return DocumentFacts(
        document_id, KINDS[kind], expires_on, DOCUMENT_STATUSES[status], bool(renewed), holder
    )
