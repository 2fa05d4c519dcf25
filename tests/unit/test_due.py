"""The reminder rule (interfaces.md §3): which stage of a document gets a letter on a date, which
stages are skipped and why, and in which language(s) a letter is written."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

import pytest

from reminders.domain.due import (
    NO_HISTORY,
    Decision,
    DocumentFacts,
    History,
    Holder,
    Recorded,
    SkipReason,
    decide,
    reached_stages,
    skip_reason,
)
from reminders.domain.letter_language import letter_languages
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from reminders.domain.policy import ReminderPolicy, Stage, parse_offset
from tests.fakes import Jurisdiction

NL, FR, DE = Language.NL, Language.FR, Language.DE
LETTER = None  # a Recorded or Decision without reason is a letter


GENT = Jurisdiction("44021", (NL,), LetterLanguageRule.MUNICIPALITY)
BRUSSELS = Jurisdiction("21004", (FR, NL), LetterLanguageRule.CITIZEN_OR_BILINGUAL)

# config.toml's driving licence policy. For a licence expiring on 2027-06-30 the stages are due
# on 2027-03-30, 2027-05-30 and 2027-07-14; the grace of "expired" ends on 2027-09-12.
LICENCE = ReminderPolicy(
    DocumentKind.DRIVING_LICENCE,
    (
        Stage("first", parse_offset("-3 months")),
        Stage("second", parse_offset("-1 month")),
        Stage("expired", parse_offset("+14 days"), final_grace=parse_offset("60 days")),
    ),
)
EXPIRES = date(2027, 6, 30)
FIRST_DUE, SECOND_DUE, EXPIRED_DUE = date(2027, 3, 30), date(2027, 5, 30), date(2027, 7, 14)
GRACE_ENDS = date(2027, 9, 12)
DAY = timedelta(days=1)


def licence(
    *,
    expires_on: date | None = EXPIRES,
    status: DocumentStatus = DocumentStatus.ACTIVE,
    renewed_by_later: bool = False,
    holder_status: PersonStatus = PersonStatus.RESIDENT,
    nis: str = GENT.nis_code,
    language: Language | None = NL,
    has_address: bool = True,
    kind: DocumentKind = DocumentKind.DRIVING_LICENCE,
    mail_returned: bool = False,
) -> DocumentFacts:
    return DocumentFacts(
        document_id=7,
        kind=kind,
        expires_on=expires_on,
        status=status,
        renewed_by_later=renewed_by_later,
        holder=Holder(holder_status, nis, language, has_address, mail_returned),
    )


def outcome(
    document: DocumentFacts,
    as_of: date,
    recorded: Sequence[tuple[str, SkipReason | None]] = (),
    *,
    policy: ReminderPolicy = LICENCE,
    jurisdiction: Jurisdiction = GENT,
) -> list[tuple[str, SkipReason | None]]:
    """Tonight's decisions as (stage, reason) pairs; reason None is a letter."""
    history = [Recorded(stage, reason) for stage, reason in recorded]
    decisions = decide(document, policy, jurisdiction, history, as_of=as_of)
    assert all(decision.document_id == document.document_id for decision in decisions)
    assert all(bool(decision.languages) == decision.is_letter for decision in decisions)
    return [(decision.stage, decision.reason) for decision in decisions]


def test_skip_reasons_are_in_the_contract_order() -> None:
    """SkipReason lists the reasons in interfaces.md §3's order: the first that applies wins.
    Issue 21 adds `returned_mail` after `no_address` (both about the address) and
    `cancelled`, which a person records and the rule never chooses, at the end."""
    assert [reason.value for reason in SkipReason] == [
        "deceased", "emigrated", "struck_off", "moved_out", "renewed", "inactive_document",
        "no_address", "returned_mail", "superseded", "too_late", "cancelled",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (licence(), LETTER),
        (licence(holder_status=PersonStatus.DECEASED), SkipReason.DECEASED),
        (licence(holder_status=PersonStatus.EMIGRATED), SkipReason.EMIGRATED),
        (licence(holder_status=PersonStatus.STRUCK_OFF), SkipReason.STRUCK_OFF),
        (licence(nis="21004"), SkipReason.MOVED_OUT),
        (licence(status=DocumentStatus.RENEWED), SkipReason.RENEWED),
        (licence(renewed_by_later=True), SkipReason.RENEWED),
        (licence(status=DocumentStatus.REVOKED), SkipReason.INACTIVE_DOCUMENT),
        (licence(status=DocumentStatus.LOST), SkipReason.INACTIVE_DOCUMENT),
        (licence(status=DocumentStatus.STOLEN), SkipReason.INACTIVE_DOCUMENT),
        (licence(has_address=False), SkipReason.NO_ADDRESS),
        (licence(mail_returned=True), SkipReason.RETURNED_MAIL),
    ],
    ids=[
        "resident-with-address-gets-a-letter", "deceased", "emigrated", "struck-off",
        "moved-out", "status-renewed", "later-active-document", "revoked", "lost", "stolen",
        "no-address", "mail-returned-from-the-address",
    ],
)  # fmt: skip
def test_each_skip_reason_stops_the_letter(
    document: DocumentFacts, expected: SkipReason | None
) -> None:
    """On the first stage's due date the stage gets a letter, or is skipped with the one reason."""
    assert skip_reason(document, GENT) is expected
    assert outcome(document, FIRST_DUE) == [("first", expected)]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (licence(holder_status=PersonStatus.DECEASED, nis="21004", status=DocumentStatus.LOST,
                 has_address=False), SkipReason.DECEASED),
        (licence(holder_status=PersonStatus.EMIGRATED, renewed_by_later=True, has_address=False),
         SkipReason.EMIGRATED),
        (licence(holder_status=PersonStatus.STRUCK_OFF, nis="21004"), SkipReason.STRUCK_OFF),
        (licence(nis="21004", status=DocumentStatus.RENEWED), SkipReason.MOVED_OUT),
        (licence(renewed_by_later=True, status=DocumentStatus.STOLEN), SkipReason.RENEWED),
        (licence(status=DocumentStatus.REVOKED, has_address=False), SkipReason.INACTIVE_DOCUMENT),
    ],
    ids=[
        "deceased-before-moved-out-inactive-no-address", "emigrated-before-renewed-no-address",
        "struck-off-before-moved-out", "moved-out-before-renewed", "renewed-before-inactive",
        "inactive-before-no-address",
    ],
)  # fmt: skip
def test_the_first_applicable_reason_wins(document: DocumentFacts, expected: SkipReason) -> None:
    """When several reasons apply, the one first in the contract's list is recorded."""
    assert outcome(document, FIRST_DUE) == [("first", expected)]


def test_every_combination_of_facts_gives_the_first_applicable_reason() -> None:
    """All 320 combinations of holder status, municipality, document status, later document,
    address and mail returned from it: skip_reason is the earliest of the reasons that apply,
    by the contract's order."""
    order = list(SkipReason)
    for person, nis, status, later, address, returned in itertools.product(
        PersonStatus, (GENT.nis_code, "21004"), DocumentStatus, (False, True), (False, True),
        (False, True),
    ):  # fmt: skip
        document = licence(
            holder_status=person, nis=nis, status=status, renewed_by_later=later,
            has_address=address, mail_returned=returned,
        )  # fmt: skip
        applicable = {
            SkipReason.DECEASED: person is PersonStatus.DECEASED,
            SkipReason.EMIGRATED: person is PersonStatus.EMIGRATED,
            SkipReason.STRUCK_OFF: person is PersonStatus.STRUCK_OFF,
            SkipReason.MOVED_OUT: nis != GENT.nis_code,
            SkipReason.RENEWED: later or status is DocumentStatus.RENEWED,
            SkipReason.INACTIVE_DOCUMENT: status
            in {DocumentStatus.REVOKED, DocumentStatus.LOST, DocumentStatus.STOLEN},
            SkipReason.NO_ADDRESS: not address,
            SkipReason.RETURNED_MAIL: returned,
        }
        reasons = [reason for reason, applies in applicable.items() if applies]
        expected = min(reasons, key=order.index) if reasons else None
        assert skip_reason(document, GENT) is expected, document


@pytest.mark.parametrize(
    ("document", "as_of", "expected"),
    [
        (licence(), FIRST_DUE - DAY, []),
        (licence(), SECOND_DUE, [("first", SkipReason.SUPERSEDED), ("second", LETTER)]),
        (licence(), EXPIRED_DUE, [("first", SkipReason.SUPERSEDED),
                                  ("second", SkipReason.SUPERSEDED), ("expired", LETTER)]),
        (licence(), GRACE_ENDS, [("first", SkipReason.SUPERSEDED),
                                 ("second", SkipReason.SUPERSEDED), ("expired", LETTER)]),
        (licence(), GRACE_ENDS + DAY, [("first", SkipReason.SUPERSEDED),
                                       ("second", SkipReason.SUPERSEDED),
                                       ("expired", SkipReason.TOO_LATE)]),
        (licence(has_address=False), SECOND_DUE,
         [("first", SkipReason.NO_ADDRESS), ("second", SkipReason.NO_ADDRESS)]),
        (licence(has_address=False), GRACE_ENDS + DAY,
         [("first", SkipReason.NO_ADDRESS), ("second", SkipReason.NO_ADDRESS),
          ("expired", SkipReason.NO_ADDRESS)]),
        (licence(holder_status=PersonStatus.DECEASED), GRACE_ENDS + DAY,
         [("first", SkipReason.DECEASED), ("second", SkipReason.DECEASED),
          ("expired", SkipReason.DECEASED)]),
        (licence(status=DocumentStatus.RENEWED), SECOND_DUE,
         [("first", SkipReason.RENEWED), ("second", SkipReason.RENEWED)]),
        (licence(renewed_by_later=True), EXPIRED_DUE,
         [("first", SkipReason.RENEWED), ("second", SkipReason.RENEWED),
          ("expired", SkipReason.RENEWED)]),
    ],
    ids=[
        "nothing-before-the-first-stage", "catch-up-supersedes-the-earlier-stage",
        "catch-up-to-the-final-stage", "final-stage-on-the-last-day-of-grace",
        "final-stage-the-day-after-grace-is-too-late", "no-address-comes-before-superseded",
        "no-address-comes-before-too-late", "deceased-comes-before-superseded-and-too-late",
        "renewed-document-gets-no-letter", "renewed-by-a-later-document-gets-no-letter",
    ],
)  # fmt: skip
def test_a_first_look_decides_every_reached_stage(
    document: DocumentFacts, as_of: date, expected: list[tuple[str, SkipReason | None]]
) -> None:
    """With nothing recorded, earlier stages are superseded (or skipped for a reason that
    comes first) and only the current stage can get a letter."""
    assert outcome(document, as_of) == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (EXPIRED_DUE - DAY, []),
        (EXPIRED_DUE, [("expired", LETTER)]),
        (GRACE_ENDS, [("expired", LETTER)]),
        (GRACE_ENDS + DAY, [("expired", SkipReason.TOO_LATE)]),
        (GRACE_ENDS + 400 * DAY, [("expired", SkipReason.TOO_LATE)]),
    ],
    ids=["day-before-due", "due", "due-plus-grace", "day-after-grace", "long-after-grace"],
)
def test_the_final_stage_is_sent_until_its_grace_ends(
    as_of: date, expected: list[tuple[str, SkipReason | None]]
) -> None:
    """The final stage gets a letter up to and including due + final_grace, then `too_late`."""
    recorded = [("first", LETTER), ("second", LETTER)]
    assert outcome(licence(), as_of, recorded) == expected


def test_a_final_stage_without_grace_is_never_too_late() -> None:
    """Without final_grace the final stage stays current and is sent however late the run."""
    policy = ReminderPolicy(DocumentKind.PASSPORT, (Stage("only", parse_offset("-6 months")),))
    passport = licence(kind=DocumentKind.PASSPORT)
    assert outcome(passport, date(2040, 1, 1), policy=policy) == [("only", LETTER)]


@pytest.mark.parametrize(
    ("expires_on", "offset", "due"),
    [
        (date(2028, 2, 29), "-3 months", date(2027, 11, 29)),
        (date(2028, 2, 29), "-12 months", date(2027, 2, 28)),
        (date(2028, 2, 29), "+12 months", date(2029, 2, 28)),
        (date(2028, 5, 31), "-3 months", date(2028, 2, 29)),
        (date(2027, 5, 31), "-3 months", date(2027, 2, 28)),
        (date(2026, 3, 31), "-1 month", date(2026, 2, 28)),
        (date(2028, 2, 29), "+1 year", date(2029, 2, 28)),
        (date(2026, 11, 30), "-3 months", date(2026, 8, 30)),
    ],
    ids=lambda value: str(value),
)
def test_due_dates_clamp_to_the_end_of_the_month(expires_on: date, offset: str, due: date) -> None:
    """domain.md §7.3's table, and the contract's examples: offsets clamp to the month's end."""
    policy = ReminderPolicy(DocumentKind.EID, (Stage("s", parse_offset(offset)),))
    assert policy.due_dates(expires_on) == (due,)


@pytest.mark.parametrize(
    ("expires_on", "due"),
    [
        (date(2028, 5, 29), date(2028, 2, 29)),
        (date(2028, 5, 30), date(2028, 2, 29)),
        (date(2028, 5, 31), date(2028, 2, 29)),
        (date(2027, 5, 28), date(2027, 2, 28)),
        (date(2027, 5, 29), date(2027, 2, 28)),
        (date(2027, 5, 30), date(2027, 2, 28)),
        (date(2027, 5, 31), date(2027, 2, 28)),
    ],
    ids=lambda value: str(value),
)
def test_month_end_expiries_get_their_letter_on_the_clamped_day(
    expires_on: date, due: date
) -> None:
    """Several expiry dates share one clamped due date; each gets its letter on that very day,
    none the day before (clamping is not invertible, domain.md §7.3)."""
    document = licence(expires_on=expires_on)
    assert reached_stages(LICENCE, expires_on, as_of=due - DAY) == []
    assert [stage.name for stage in reached_stages(LICENCE, expires_on, as_of=due)] == ["first"]
    assert outcome(document, due - DAY) == []
    assert outcome(document, due) == [("first", LETTER)]


@pytest.mark.parametrize(
    ("document", "policy"),
    [
        (licence(expires_on=None), LICENCE),
        (licence(kind=DocumentKind.KIDS_ID), LICENCE),
    ],
    ids=["paper-licence-without-expiry", "kind-without-this-policy"],
)
def test_documents_outside_the_policy_get_nothing(
    document: DocumentFacts, policy: ReminderPolicy
) -> None:
    """A paper licence (no expiry date) and a document of another kind are never decided."""
    for as_of in (FIRST_DUE, EXPIRED_DUE, GRACE_ENDS + DAY, date(2040, 1, 1)):
        assert outcome(document, as_of, policy=policy) == []


@pytest.mark.parametrize(
    ("document", "as_of", "recorded", "expected"),
    [
        (licence(has_address=False), FIRST_DUE + DAY, [("first", SkipReason.NO_ADDRESS)], []),
        (licence(), FIRST_DUE + DAY, [("first", SkipReason.NO_ADDRESS)], [("first", LETTER)]),
        (licence(), SECOND_DUE, [("first", SkipReason.NO_ADDRESS)],
         [("first", SkipReason.SUPERSEDED), ("second", LETTER)]),
        (licence(has_address=False), SECOND_DUE, [("first", SkipReason.NO_ADDRESS)],
         [("second", SkipReason.NO_ADDRESS)]),
        (licence(holder_status=PersonStatus.DECEASED), SECOND_DUE,
         [("first", SkipReason.NO_ADDRESS)],
         [("first", SkipReason.DECEASED), ("second", SkipReason.DECEASED)]),
        (licence(), GRACE_ENDS + DAY,
         [("first", SkipReason.SUPERSEDED), ("second", LETTER), ("expired", SkipReason.NO_ADDRESS)],
         [("expired", SkipReason.TOO_LATE)]),
    ],
    ids=[
        "not-repeated-while-the-address-is-unknown", "letter-once-the-address-is-known",
        "earlier-open-stage-superseded-once-the-address-is-known",
        "earlier-open-stage-stays-open-without-address", "open-stage-closed-by-a-later-reason",
        "open-final-stage-too-late-once-the-address-is-known",
    ],
)  # fmt: skip
def test_no_address_leaves_the_stage_open(
    document: DocumentFacts,
    as_of: date,
    recorded: list[tuple[str, SkipReason | None]],
    expected: list[tuple[str, SkipReason | None]],
) -> None:
    """A `no_address` skip is recorded once and is not final: the stage is decided again."""
    assert not Recorded("first", SkipReason.NO_ADDRESS).is_final
    assert outcome(document, as_of, recorded) == expected


@pytest.mark.parametrize(
    ("document", "as_of", "recorded", "expected"),
    [
        (licence(), FIRST_DUE, [("first", LETTER)], []),
        (licence(), FIRST_DUE + 10 * DAY, [("first", LETTER)], []),
        (licence(), SECOND_DUE, [("first", SkipReason.SUPERSEDED), ("second", LETTER)], []),
        (licence(), FIRST_DUE, [("first", SkipReason.DECEASED)], []),
        (licence(), FIRST_DUE, [("first", SkipReason.RENEWED)], []),
        (licence(), FIRST_DUE, [("first", SkipReason.NO_ADDRESS), ("first", SkipReason.DECEASED)],
         []),
        (licence(holder_status=PersonStatus.DECEASED), SECOND_DUE,
         [("first", SkipReason.DECEASED)], [("second", SkipReason.DECEASED)]),
        (licence(status=DocumentStatus.LOST), GRACE_ENDS + DAY,
         [("first", SkipReason.INACTIVE_DOCUMENT), ("second", SkipReason.INACTIVE_DOCUMENT),
          ("expired", SkipReason.INACTIVE_DOCUMENT)], []),
        (licence(), GRACE_ENDS + DAY,
         [("first", LETTER), ("second", LETTER), ("expired", LETTER)], []),
        (licence(), GRACE_ENDS + DAY,
         [("first", LETTER), ("second", LETTER), ("expired", SkipReason.TOO_LATE)], []),
    ],
    ids=[
        "letter-not-sent-twice-the-same-night", "letter-not-sent-again-later",
        "decided-stages-stay-decided", "a-resident-again-gets-no-late-letter",
        "renewed-stays-renewed", "closed-after-an-open-skip",
        "skip-not-repeated-for-a-decided-stage", "all-skipped-stages-stay-skipped",
        "all-letters-sent", "too-late-not-repeated",
    ],
)  # fmt: skip
def test_a_final_decision_is_never_taken_again(
    document: DocumentFacts,
    as_of: date,
    recorded: list[tuple[str, SkipReason | None]],
    expected: list[tuple[str, SkipReason | None]],
) -> None:
    """A stage with a letter or a final skip is never decided again, whatever the facts now."""
    assert outcome(document, as_of, recorded) == expected


@pytest.mark.parametrize(
    ("rule", "official", "citizen", "expected"),
    [
        (LetterLanguageRule.MUNICIPALITY, (NL,), None, (NL,)),
        (LetterLanguageRule.MUNICIPALITY, (NL,), FR, (NL,)),
        (LetterLanguageRule.MUNICIPALITY, (NL, FR), FR, (NL,)),
        (LetterLanguageRule.MUNICIPALITY, (DE, FR), FR, (DE,)),
        (LetterLanguageRule.CITIZEN, (NL, FR), FR, (FR,)),
        (LetterLanguageRule.CITIZEN, (NL, FR), NL, (NL,)),
        (LetterLanguageRule.CITIZEN, (NL, FR), DE, (NL,)),
        (LetterLanguageRule.CITIZEN, (NL, FR), None, (NL,)),
        (LetterLanguageRule.CITIZEN_OR_BILINGUAL, (FR, NL), NL, (NL,)),
        (LetterLanguageRule.CITIZEN_OR_BILINGUAL, (FR, NL), FR, (FR,)),
        (LetterLanguageRule.CITIZEN_OR_BILINGUAL, (FR, NL), None, (FR, NL)),
        (LetterLanguageRule.CITIZEN_OR_BILINGUAL, (NL, FR), None, (NL, FR)),
        (LetterLanguageRule.CITIZEN_OR_BILINGUAL, (FR, NL), DE, (FR,)),
        (LetterLanguageRule.CITIZEN_OR_BILINGUAL, (NL, FR), DE, (NL,)),
    ],
    ids=[
        "unilingual-unknown", "unilingual-ignores-the-citizen", "facility-municipality-first",
        "german-area-first", "citizen-french", "citizen-dutch", "citizen-other-gets-first",
        "citizen-unknown-gets-first", "brussels-dutch", "brussels-french",
        "brussels-unknown-bilingual-fr-nl", "unknown-bilingual-in-the-municipality-order",
        "brussels-german-gets-first", "bilingual-other-gets-first",
    ],
)  # fmt: skip
def test_letter_languages_follow_the_municipality_rule(
    rule: LetterLanguageRule,
    official: tuple[Language, ...],
    citizen: Language | None,
    expected: tuple[Language, ...],
) -> None:
    """The letter's language(s) per letter_language rule (interfaces.md §2, domain.md §5.2),
    both from the helper and on the decision the rule takes."""
    assert letter_languages(rule, official, citizen) == expected
    jurisdiction = Jurisdiction("21004", official, rule)
    document = licence(nis="21004", language=citizen)
    decisions = decide(document, LICENCE, jurisdiction, (), as_of=FIRST_DUE)
    assert decisions == [Decision(7, "first", None, expected)]


def test_a_skip_carries_no_language() -> None:
    """Only a letter has languages; a skip's decision has none."""
    document = replace(licence(), holder=Holder(PersonStatus.RESIDENT, "21004", None, False))
    decisions = decide(document, LICENCE, BRUSSELS, (), as_of=FIRST_DUE)
    assert decisions == [Decision(7, "first", SkipReason.NO_ADDRESS, ())]
    assert not decisions[0].is_final
    assert not decisions[0].is_letter


def test_returned_mail_leaves_the_stage_open_until_the_address_changes() -> None:
    """`returned_mail` is recorded once, is not final, and the stage gets its letter once the
    holder's address is no longer the one mail came back from; a stage holds one open skip
    at a time (no `no_address` beside an open `returned_mail`)."""
    returned = licence(mail_returned=True)
    assert not Recorded("first", SkipReason.RETURNED_MAIL).is_final
    assert outcome(returned, FIRST_DUE) == [("first", SkipReason.RETURNED_MAIL)]
    assert outcome(returned, FIRST_DUE + DAY, [("first", SkipReason.RETURNED_MAIL)]) == []
    assert outcome(licence(), FIRST_DUE + DAY, [("first", SkipReason.RETURNED_MAIL)]) == [
        ("first", LETTER)
    ]
    assert outcome(licence(has_address=False), FIRST_DUE + DAY,
                   [("first", SkipReason.RETURNED_MAIL)]) == []  # fmt: skip
    died = outcome(licence(holder_status=PersonStatus.DECEASED), FIRST_DUE + DAY,
                   [("first", SkipReason.RETURNED_MAIL)])  # fmt: skip
    assert died == [("first", SkipReason.DECEASED)]


def test_a_cancelled_stage_is_final_unless_it_is_to_be_decided_again() -> None:
    """A letter cancelled before release closes its stage; cancelled to be decided again, the
    stage is open: the next look sends its letter, or records why not."""
    closed = [Recorded("first", SkipReason.CANCELLED)]
    reopened = [Recorded("first", SkipReason.CANCELLED, False)]
    assert closed[0].is_final
    assert not reopened[0].is_final
    assert decide(licence(), LICENCE, GENT, closed, as_of=FIRST_DUE + DAY) == []
    (again,) = decide(licence(), LICENCE, GENT, reopened, as_of=FIRST_DUE + DAY)
    assert (again.stage, again.reason) == ("first", None)
    (renewed,) = decide(licence(renewed_by_later=True), LICENCE, GENT, reopened,
                        as_of=FIRST_DUE + DAY)  # fmt: skip
    assert (renewed.stage, renewed.reason, renewed.is_final) == ("first", SkipReason.RENEWED, True)
    assert decide(licence(has_address=False), LICENCE, GENT, reopened, as_of=FIRST_DUE + DAY) == []


def test_a_history_is_read_as_closed_open_and_noted_stages() -> None:
    """What `decide_on` reads of the recorded decisions: a letter and a final skip close
    their stage, an open skip (and a cancellation to decide again) holds it open, and every
    (stage, reason) is noted; no decision, no history."""
    history = History.of([
        Recorded("first", None),
        Recorded("second", SkipReason.NO_ADDRESS),
        Recorded("third", SkipReason.CANCELLED, False),
        Recorded("expired", SkipReason.DECEASED),
    ])  # fmt: skip
    assert history.closed == {"first", "expired"}
    assert history.opened == {"second", "third"}
    assert history.noted == {
        ("first", None),
        ("second", SkipReason.NO_ADDRESS),
        ("third", SkipReason.CANCELLED),
        ("expired", SkipReason.DECEASED),
    }
    assert History.of([]) == NO_HISTORY
