"""Campaigns' database side: a municipality's documents of a campaign's selection in the
campaign's order, how many letters a night already wrote, and where a campaign stands.

Campaign decisions live in the decision table with the campaign's id as their stage, so the
table's unique key (document, stage, final) is what makes "at most one campaign letter per
document" hold; the rule itself is in domain/campaign.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from datetime import date
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Row,
    Select,
    Table,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.sql.elements import ColumnElement

from reminders.adapters.db.orm import DecisionRow, DocumentRow, NightlyRunRow, PersonRow
from reminders.adapters.db.registry_columns import (
    FACT_COLUMNS,
    document_fact_columns,
    document_facts,
)
from reminders.domain.campaign import Campaign, CampaignCandidate, CampaignCounts, Selection
from reminders.domain.model import DocumentStatus

CHUNK = 500  # documents per chunk: a usual wave (a few hundred letters) in one round trip
# An unknown issue date sorts as the oldest: such records predate the register keeping it.
_UNKNOWN_ISSUE = date(1, 1, 1)

_document = cast(Table, DocumentRow.__table__)
_person = cast(Table, PersonRow.__table__)
_decision = cast(Table, DecisionRow.__table__)
_run = cast(Table, NightlyRunRow.__table__)
_other = _document.alias("other")


def _selected(campaign: Campaign) -> list[ColumnElement[bool]]:
    """The campaign's documents, whoever holds them."""
    conditions = [_document.c.kind == campaign.kind.value]
    if campaign.selection is Selection.WITHOUT_EXPIRY_DATE:
        conditions.append(_document.c.expires_on.is_(None))
    else:
        conditions.append(_document.c.expires_on.between(
            campaign.expiring_from, campaign.expiring_until
        ))  # fmt: skip
    if campaign.issued_before is not None:
        conditions.append(_document.c.issued_on < campaign.issued_before)  # NULL: no match
    return conditions


def _decided(campaign: Campaign, *, final: bool) -> ColumnElement[bool]:
    """Whether the document has a final (or an open `no_address`) campaign decision; one
    probe of the decision table's unique key (document, stage, final)."""
    return exists().where(
        _decision.c.document_id == _document.c.id,
        _decision.c.stage == campaign.id,
        _decision.c.final.is_(final),
    )


def _renewed() -> ColumnElement[bool]:
    """Whether the holder has another active document of the kind that is valid longer: one
    expiring later, or, for a document without an expiry date (a paper licence), any with
    one (a card licence). The reminders' own check (registry_columns.renewed_by_later)
    compares expiry dates only, so it cannot see a paper licence renewed."""
    return exists().where(
        _other.c.person_id == _document.c.person_id,
        _other.c.kind == _document.c.kind,
        _other.c.id != _document.c.id,
        _other.c.status == DocumentStatus.ACTIVE.value,
        _other.c.expires_on.is_not(None),
        or_(_document.c.expires_on.is_(None), _other.c.expires_on > _document.c.expires_on),
    )


def _order(campaign: Campaign) -> list[ColumnElement[Any]]:
    """The campaign's order (domain/campaign.py says why): expiring first, issued first,
    then by number; (kind, number) is unique, so the order is total."""
    issued = func.coalesce(
        _document.c.issued_on, literal(_UNKNOWN_ISSUE, _document.c.issued_on.type)
    )
    keys: list[ColumnElement[Any]] = [issued, _document.c.number]
    if campaign.selection is Selection.EXPIRING_BETWEEN:
        keys.insert(0, _document.c.expires_on)
    return keys


def _candidates_query(
    campaign: Campaign, municipality_nis: str, dialect: str
) -> Select[tuple[Any, ...]]:
    return (
        select(
            *document_fact_columns(_renewed().label("renewed"), dialect),
            _decided(campaign, final=False).label("open_no_address"),
            *_order(campaign),
        )
        .select_from(_document.join(_person, _person.c.id == _document.c.person_id))
        .where(
            *_selected(campaign),
            _person.c.municipality_nis == municipality_nis,
            ~_decided(campaign, final=True),
        )
        .order_by(*_order(campaign))
    )


def _candidate(row: Row[Any]) -> CampaignCandidate:
    """A row of the candidates query: the document's facts, and whether it has an open
    no_address skip for the campaign."""
    return CampaignCandidate(document_facts(*row[:FACT_COLUMNS]), bool(row[FACT_COLUMNS]))


def _in_run_of(municipality_nis: str) -> ColumnElement[bool]:
    """Whether a nightly_run row covers the municipality (its codes are comma-separated)."""
    return ("," + _run.c.municipalities + ",").contains(f",{municipality_nis},")


class CampaignStore:
    """Campaign reads, on the run's connection and transaction (its writes go through
    DecisionStore.record, like every decision)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def candidates(
        self, campaign: Campaign, municipality_nis: str
    ) -> Iterator[list[CampaignCandidate]]:
        """The municipality's documents of the campaign without a final campaign decision, in
        the campaign's order, chunk by chunk. Each chunk starts after the previous one's last
        key (keyset), so decisions recorded between chunks do not shift the next one."""
        query = _candidates_query(campaign, municipality_nis, self.connection.dialect.name)
        keys = _order(campaign)
        after: tuple[Any, ...] | None = None
        while True:
            page = query if after is None else query.where(tuple_(*keys) > tuple_(*after))
            rows = self.connection.execute(page.limit(CHUNK)).all()
            if not rows:
                return
            yield [_candidate(row) for row in rows]
            if len(rows) < CHUNK:
                return
            after = tuple(rows[-1][14:])

    def letters_for_night(self, campaign_id: str, municipality_nis: str, as_of: date) -> int:
        """Campaign letters already written for the night of ``as_of`` (an earlier run of the
        same night, or this run before it was resumed); from that night's runs, by the
        decision table's run index."""
        runs = select(_run.c.id).where(_run.c.as_of == as_of)
        return int(
            self.connection.scalar(
                select(func.count()).where(
                    _decision.c.run_id.in_(runs),
                    _decision.c.stage == campaign_id,
                    _decision.c.municipality_nis == municipality_nis,
                    _decision.c.reason.is_(None),
                )
            )
            or 0
        )

    def later_night_decided(self, municipality_nis: str, as_of: date) -> bool:
        """Whether a night after ``as_of`` was already decided for the municipality (this is
        then a replay of an earlier night, which writes no campaign letters)."""
        return bool(
            self.connection.scalar(
                select(
                    exists().where(
                        _run.c.as_of > as_of,
                        _run.c.step != "started",  # "started": it kept nothing
                        _in_run_of(municipality_nis),
                    )
                )
            )
        )

    def counts(self, campaign: Campaign, nis_codes: Collection[str]) -> dict[str, CampaignCounts]:
        """Per municipality: letters and skips by the municipality that decided them, and the
        documents of its residents still waiting; read from the campaign's selection, so the
        cost follows the campaign's size, not the decision table's."""
        decided = self.connection.execute(
            select(
                _decision.c.municipality_nis,
                _decision.c.reason,
                func.count(),
                func.max(_run.c.as_of),
            )
            .select_from(
                _document.join(
                    _decision,
                    and_(
                        _decision.c.document_id == _document.c.id, _decision.c.stage == campaign.id
                    ),
                ).join(_run, _run.c.id == _decision.c.run_id)
            )
            .where(*_selected(campaign), _decision.c.municipality_nis.in_(list(nis_codes)))
            .group_by(_decision.c.municipality_nis, _decision.c.reason)
        )
        letters: Counter[str] = Counter()
        skipped: dict[str, Counter[str]] = {nis: Counter() for nis in nis_codes}
        last_wave: dict[str, date] = {}
        for nis, reason, count, newest in decided:
            if reason is None:
                letters[nis] += count
                last_wave[nis] = newest
            else:
                skipped[nis][reason] += count
        rows = self.connection.execute(
            select(_person.c.municipality_nis, func.count())
            .select_from(_document.join(_person, _person.c.id == _document.c.person_id))
            .where(
                *_selected(campaign),
                _person.c.municipality_nis.in_(list(nis_codes)),
                ~_decided(campaign, final=True),
            )
            .group_by(_person.c.municipality_nis)
        )
        remaining = {str(nis): int(count) for nis, count in rows}
        return {
            nis: CampaignCounts(
                letters=letters[nis],
                skipped=dict(sorted(skipped[nis].items())),
                remaining=int(remaining.get(nis, 0)),
                last_wave_on=last_wave.get(nis),
            )
            for nis in nis_codes
        }
