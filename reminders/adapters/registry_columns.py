"""Registry columns the nightly decision and the printing step both read."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, exists
from sqlalchemy.sql.elements import Label

from reminders.adapters.orm import DocumentRow
from reminders.domain.model import DocumentKind, DocumentStatus, Language, PersonStatus

_document = cast(Table, DocumentRow.__table__)
_later = _document.alias("later")

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
