"""Read-only counts of what the registry holds, for `reminders demo` and operators."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlalchemy import Connection, Table, and_, func, select

from reminders.adapters.db.orm import DocumentRow, PersonRow


@dataclass(frozen=True, slots=True)
class MunicipalityOverview:
    """What the registry holds for one municipality."""

    nis_code: str
    persons_by_status: dict[str, int] = field(default_factory=dict)
    documents_by_kind: dict[str, int] = field(default_factory=dict)
    expiring_by_kind: dict[str, int] = field(default_factory=dict)  # active, in the window


def registry_overview(
    connection: Connection, *, expiring_from: date, expiring_until: date
) -> dict[str, MunicipalityOverview]:
    """Counts per municipality: persons by status, documents by kind, and active documents
    expiring between the two dates (inclusive)."""
    person = cast(Table, PersonRow.__table__)
    document = cast(Table, DocumentRow.__table__)
    overview: dict[str, MunicipalityOverview] = {}

    def of(nis_code: str) -> MunicipalityOverview:
        return overview.setdefault(nis_code, MunicipalityOverview(nis_code))

    persons = select(person.c.municipality_nis, person.c.status, func.count()).group_by(
        person.c.municipality_nis, person.c.status
    )
    for nis_code, status, count in connection.execute(persons):
        of(nis_code).persons_by_status[status] = count
    joined = document.join(person, person.c.id == document.c.person_id)
    documents = (
        select(person.c.municipality_nis, document.c.kind, func.count())
        .select_from(joined)
        .group_by(person.c.municipality_nis, document.c.kind)
    )
    for nis_code, kind, count in connection.execute(documents):
        of(nis_code).documents_by_kind[kind] = count
    expiring = (
        select(person.c.municipality_nis, document.c.kind, func.count())
        .select_from(joined)
        .where(
            and_(
                document.c.status == "active",
                document.c.expires_on >= expiring_from,
                document.c.expires_on <= expiring_until,
            )
        )
        .group_by(person.c.municipality_nis, document.c.kind)
    )
    for nis_code, kind, count in connection.execute(expiring):
        of(nis_code).expiring_by_kind[kind] = count
    return overview
