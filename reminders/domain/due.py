"""The reminder rule (interfaces.md §3): for one document on one date, which stages get a letter
and which are skipped, and why. Pure: the date and what was recorded before are parameters.

A stage is due on ``expires_on + offset``; the current stage is the last one due on or before
the run date. It gets a letter unless a skip reason applies; earlier stages never decided are
recorded as ``superseded``. Because the rule looks at what was recorded, not at which nights ran,
a run after downtime catches up by itself and no (document, stage) is decided twice.

>>> from reminders.domain.policy import ReminderPolicy, Stage, parse_offset
>>> policy = ReminderPolicy(DocumentKind.EID, (
...     Stage("first", parse_offset("-2 months")),
...     Stage("expired", parse_offset("+1 month"), final_grace=parse_offset("3 months")),
... ))
>>> [stage.name for stage in reached_stages(policy, date(2027, 6, 30), as_of=date(2027, 5, 1))]
['first']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from reminders.domain.letter_language import letter_languages
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from reminders.domain.policy import ReminderPolicy, Stage


class SkipReason(StrEnum):
    """Why a (document, stage) gets no letter. The order is the contract's: when several
    apply, the first wins (interfaces.md §3)."""

    DECEASED = "deceased"
    EMIGRATED = "emigrated"
    STRUCK_OFF = "struck_off"  # ambtshalve geschrapt / radié d'office: no legal address
    MOVED_OUT = "moved_out"  # registered elsewhere now: the new municipality is competent
    RENEWED = "renewed"
    INACTIVE_DOCUMENT = "inactive_document"  # revoked, lost or stolen
    NO_ADDRESS = "no_address"
    # bpost brought a letter back from the address the registry still holds (returns import);
    # after no_address (no address at all says more) and, like it, decided again once an
    # import changes the address.
    RETURNED_MAIL = "returned_mail"
    SUPERSEDED = "superseded"  # a later stage is due: only the current stage is ever sent
    TOO_LATE = "too_late"  # the final stage's grace is over
    # A printed letter a person stopped before its volume was released (`reminders cancel`);
    # never chosen by the rule, so it has no place in the precedence.
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """Whether the stage is closed for good; `no_address` and `returned_mail` are decided
        again once an import brings a (new) address. A `cancelled` stage is final unless the
        person who cancelled it asked for it to be decided again (recorded with the
        decision)."""
        return self not in _OPEN_REASONS


_OPEN_REASONS = frozenset({SkipReason.NO_ADDRESS, SkipReason.RETURNED_MAIL})
_PERSON_SKIPS = {
    PersonStatus.DECEASED: SkipReason.DECEASED,
    PersonStatus.EMIGRATED: SkipReason.EMIGRATED,
    PersonStatus.STRUCK_OFF: SkipReason.STRUCK_OFF,
}
_INACTIVE = frozenset({DocumentStatus.REVOKED, DocumentStatus.LOST, DocumentStatus.STOLEN})


class LetterJurisdiction(Protocol):
    """What the rule needs of a municipality; config.Municipality has these fields."""

    @property
    def nis_code(self) -> str: ...
    @property
    def languages(self) -> Sequence[Language]: ...
    @property
    def letter_language(self) -> LetterLanguageRule: ...


@dataclass(frozen=True, slots=True)
class Holder:
    """The facts about a document's holder that the rule reads, as registered tonight."""

    status: PersonStatus
    municipality_nis: str
    language: Language | None
    has_address: bool
    # bpost returned a letter from the address the registry holds now (not from an older one)
    mail_returned: bool = False


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """A document as the rule sees it."""

    document_id: int
    kind: DocumentKind
    expires_on: date | None  # None: a paper licence (domain.md §1.5), never reminded
    status: DocumentStatus
    renewed_by_later: bool  # the holder has another active one of this kind expiring later
    holder: Holder


@dataclass(frozen=True, slots=True)
class Recorded:
    """A decision recorded on an earlier night: a letter (no reason) or a skip."""

    stage: str
    reason: SkipReason | None
    final: bool | None = None  # as recorded; None: as the reason says (SkipReason.is_final)

    @property
    def is_final(self) -> bool:
        """Whether it closes the stage: a letter, or any skip but an open one (`no_address`,
        `returned_mail`, a `cancelled` to be decided again)."""
        if self.final is not None:
            return self.final
        return self.reason is None or self.reason.is_final


@dataclass(frozen=True, slots=True)
class History:
    """A document's recorded decisions as the rule reads them: the stages a final decision
    closed, the stages an open skip holds, and each (stage, reason) recorded. A night's
    documents share a handful of histories, so a store can make each once (`History.of`)."""

    closed: frozenset[str] = frozenset()
    opened: frozenset[str] = frozenset()
    noted: frozenset[tuple[str, SkipReason | None]] = frozenset()

    @classmethod
    def of(cls, recorded: Iterable[Recorded]) -> History:
        entries = tuple(recorded)
        return cls(
            frozenset(entry.stage for entry in entries if entry.is_final),
            frozenset(entry.stage for entry in entries if not entry.is_final),
            frozenset((entry.stage, entry.reason) for entry in entries),
        )


NO_HISTORY = History()  # a document decided for the first time


@dataclass(frozen=True, slots=True)
class Decision:
    """Tonight's decision for one (document, stage): a letter in ``languages``, or a skip."""

    document_id: int
    stage: str
    reason: SkipReason | None = None
    languages: tuple[Language, ...] = ()  # a letter's language(s), first language first

    @property
    def is_letter(self) -> bool:
        return self.reason is None

    @property
    def is_final(self) -> bool:
        return self.reason is None or self.reason.is_final


def reached_stages(policy: ReminderPolicy, expires_on: date, *, as_of: date) -> list[Stage]:
    """The stages due on or before ``as_of``, in order; the last is the current stage."""
    # "<=" and not "==": after a night of downtime the next run still finds the stage.
    due = policy.due_dates(expires_on)
    return [stage for stage, day in zip(policy.stages, due, strict=True) if day <= as_of]


def skip_reason(document: DocumentFacts, jurisdiction: LetterJurisdiction) -> SkipReason | None:
    """The first reason of the contract's list, up to `no_address`, that applies to a letter
    about ``document`` from ``jurisdiction`` today, or None. Also the re-check before a
    letter is sealed: a holder who died or moved since the decision gets no letter."""
    holder = document.holder
    person_skip = _PERSON_SKIPS.get(holder.status)
    if person_skip is not None:
        return person_skip
    if holder.municipality_nis != jurisdiction.nis_code:
        return SkipReason.MOVED_OUT
    if document.status is DocumentStatus.RENEWED or document.renewed_by_later:
        return SkipReason.RENEWED
    if document.status in _INACTIVE:
        return SkipReason.INACTIVE_DOCUMENT
    if not holder.has_address:
        return SkipReason.NO_ADDRESS
    if holder.mail_returned:
        return SkipReason.RETURNED_MAIL
    return None


def decide(
    document: DocumentFacts,
    policy: ReminderPolicy,
    jurisdiction: LetterJurisdiction,
    recorded: Collection[Recorded],
    *,
    as_of: date,
) -> list[Decision]:
    """What to record tonight for ``document``: nothing, skips, and at most one letter.

    ``recorded`` holds the document's earlier decisions. A stage with a final decision is
    never decided again; a skip is recorded once per (stage, reason), and an open one
    (`no_address`, `returned_mail`) only while the stage has no open decision yet: the stage
    stays open, under the reason recorded first, until it is closed.
    """
    expires_on = document.expires_on
    if expires_on is None or policy.kind is not document.kind:
        return []
    stages = stages_on(policy, expires_on, as_of=as_of)
    return decide_on(document, stages, jurisdiction, History.of(recorded))


def decide_on(
    document: DocumentFacts,
    stages: StagesOn | None,
    jurisdiction: LetterJurisdiction,
    history: History,
) -> list[Decision]:
    """`decide` for a document whose stages tonight and history are known: ``stages`` is
    `stages_on` of its policy and expiry date on the night (a night's documents share a few
    dozen expiry dates, so the nightly run works each out once), ``history`` its recorded
    decisions."""
    if stages is None:
        return []
    closed, opened, noted = history.closed, history.opened, history.noted

    def is_new(stage: str, reason: SkipReason) -> bool:
        # A skip is not repeated every night, and a stage holds one open skip at a time
        # (the database's unique key allows no second one).
        if reason.is_final:
            return (stage, reason) not in noted
        return stage not in opened

    standing = skip_reason(document, jurisdiction)
    decisions: list[Decision] = []
    for stage in stages.earlier:
        reason = standing or SkipReason.SUPERSEDED
        # A closed stage is never decided again.
        if stage not in closed and is_new(stage, reason):
            decisions.append(Decision(document.document_id, stage, reason))
    current = stages.current
    if current in closed:
        return decisions
    if standing is None and stages.grace_is_over:
        standing = SkipReason.TOO_LATE
    if standing is None:
        languages = letter_languages(
            jurisdiction.letter_language, jurisdiction.languages, document.holder.language
        )
        decisions.append(Decision(document.document_id, current, None, languages))
    elif is_new(current, standing):
        decisions.append(Decision(document.document_id, current, standing))
    return decisions


@dataclass(frozen=True, slots=True)
class StagesOn:
    """Where a document expiring on one date stands on one night under one policy."""

    earlier: tuple[str, ...]  # reached before the current stage
    current: str  # the last stage due on or before the night
    grace_is_over: bool  # the current stage is the final one, and its grace is over


def stages_on(policy: ReminderPolicy, expires_on: date, *, as_of: date) -> StagesOn | None:
    """The reached stages of a document expiring on ``expires_on``, on ``as_of``; None when
    none is due yet."""
    due = policy.due_dates(expires_on)  # as reached_stages, with the due dates kept at hand
    reached = [stage for stage, day in zip(policy.stages, due, strict=True) if day <= as_of]
    if not reached:
        return None
    *earlier, current = reached
    return StagesOn(
        tuple(stage.name for stage in earlier),
        current.name,
        _grace_is_over(current, policy, due[len(reached) - 1], as_of),
    )


def _grace_is_over(stage: Stage, policy: ReminderPolicy, due: date, as_of: date) -> bool:
    """Whether ``stage`` is the final stage and ``as_of`` is after ``due`` + its grace."""
    if stage is not policy.stages[-1] or stage.final_grace is None:
        return False
    return as_of > stage.final_grace.applied_to(due)
