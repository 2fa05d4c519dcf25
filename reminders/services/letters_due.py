"""The letters due tonight and tomorrow in one municipality, as the console lists them: a dry
run of the nightly decision (services/nightly_run.py, the same rule and the same scan),
recorded nowhere, each decision named by its document.

Tomorrow is what tomorrow's run would add once tonight's has run: its dry run, less every
(document, stage) tonight's run decides. A dry run for tomorrow alone would list tonight's
letters a second time, since nothing of tonight is recorded yet.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from reminders.domain.due import Decision
from reminders.domain.letter_language import language_label
from reminders.domain.model import DocumentKind, DueDocument
from reminders.services.nightly_run import RunRequest, run_night
from reminders.services.ports import UnitOfWork

# The documents of these ids, as shown (adapters/db/console_reads.py).
DescribeDocuments = Callable[[Collection[int]], Mapping[int, DueDocument]]


@dataclass(frozen=True, slots=True)
class DueItem:
    """One decision of a dry run: a letter (``reason`` None) or a skip."""

    document_id: int
    kind: DocumentKind
    number: str
    expires_on: date | None
    stage: str
    reason: str | None
    language: str | None  # "nl", or "fr+nl" for a bilingual letter

    @property
    def is_letter(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class DueFilter:
    """What the staff narrowed the list to; None matches anything."""

    kind: DocumentKind | None = None
    stage: str | None = None
    outcome: str | None = None  # "letter" or "skip"
    reason: str | None = None
    language: str | None = None
    number: str | None = None  # a document number, or its beginning

    def matches(self, item: DueItem) -> bool:
        """
        >>> item = DueItem(1, DocumentKind.EID, "591123456789", None, "first", None, "nl")
        >>> DueFilter(outcome="letter", language="nl").matches(item)
        True
        >>> DueFilter(outcome="skip").matches(item), DueFilter(number="5911").matches(item)
        (False, True)
        """
        return (
            (self.kind is None or item.kind is self.kind)
            and (self.stage is None or item.stage == self.stage)
            and (self.outcome is None or (self.outcome == "letter") == item.is_letter)
            and (self.reason is None or item.reason == self.reason)
            and (self.language is None or item.language == self.language)
            and (self.number is None or item.number.startswith(self.number))
        )


@dataclass(frozen=True, slots=True)
class DueNight:
    as_of: date
    items: tuple[DueItem, ...]  # in document order

    @property
    def letters(self) -> int:
        return sum(1 for item in self.items if item.is_letter)

    @property
    def skips(self) -> int:
        return len(self.items) - self.letters


def letters_due(
    request_for: Callable[[date], RunRequest],
    uow: UnitOfWork,
    describe: DescribeDocuments,
    *,
    tonight: date,
    now: Callable[[], datetime],
) -> tuple[DueNight, DueNight]:
    """Tonight's decisions and those tomorrow's run would add; ``request_for`` makes the dry
    run request of a date (one municipality)."""
    first = _dry_run(request_for(tonight), uow, now)
    second = _dry_run(request_for(tonight + timedelta(days=1)), uow, now)
    decided_tonight = {(decision.document_id, decision.stage) for _, decision in first}
    added = [
        (kind, decision)
        for kind, decision in second
        if (decision.document_id, decision.stage) not in decided_tonight
    ]
    documents = describe({decision.document_id for _, decision in [*first, *added]})
    return (
        DueNight(tonight, _items(first, documents)),
        DueNight(tonight + timedelta(days=1), _items(added, documents)),
    )


def _dry_run(
    request: RunRequest, uow: UnitOfWork, now: Callable[[], datetime]
) -> list[tuple[DocumentKind, Decision]]:
    found: list[tuple[DocumentKind, Decision]] = []

    def keep(_nis: str, kind: DocumentKind, decisions: Sequence[Decision]) -> None:
        found.extend((kind, decision) for decision in decisions)

    run_night(replace(request, dry_run=True), uow, now=now, listing=keep)
    return found


def _items(
    decisions: Sequence[tuple[DocumentKind, Decision]], documents: Mapping[int, DueDocument]
) -> tuple[DueItem, ...]:
    items = []
    for kind, decision in decisions:
        document = documents.get(decision.document_id)
        if document is None:  # removed from the registry between the two reads
            continue
        items.append(
            DueItem(
                decision.document_id,
                kind,
                document.number,
                document.expires_on,
                decision.stage,
                None if decision.reason is None else decision.reason.value,
                language_label(decision.languages) if decision.languages else None,
            )
        )
    return tuple(sorted(items, key=lambda item: (item.kind, item.number, item.stage)))
