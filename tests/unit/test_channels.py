"""The channel rule (issue 25): e-mail when the municipality offers it for the kind and the
holder has an address, consent and no failed e-mail for the letter; paper otherwise."""

from __future__ import annotations

import json

import pytest

from reminders.domain.channels import (
    Channel,
    ChannelChoice,
    Contact,
    EmailState,
    chosen_channel,
    reachable_by,
)
from reminders.domain.dispatch_log import LogEntry
from reminders.domain.email_address import masked_email
from reminders.domain.log_records import DecisionRecord, EmailRecord, EntryFormatError, record_of
from reminders.domain.model import DocumentKind

EMAIL_FIRST = (Channel.EMAIL, Channel.PAPER)


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        (Contact("jan@example.com", email_consent=True), Channel.EMAIL),
        (Contact(None, email_consent=True), Channel.PAPER),  # consent, no address
        (Contact("jan@example.com", email_consent=False), Channel.PAPER),
        (Contact("jan@example.com", True, email_failed=True), Channel.PAPER),  # 5xx, bounce
    ],
)
def test_email_only_with_address_consent_and_no_failure(
    contact: Contact, expected: Channel
) -> None:
    assert chosen_channel(EMAIL_FIRST, reachable_by(contact)) is expected


def test_paper_is_the_last_resort_and_order_is_the_municipalitys() -> None:
    reachable = reachable_by(Contact("jan@example.com", email_consent=True))
    assert chosen_channel((Channel.PAPER, Channel.EMAIL), reachable) is Channel.PAPER
    assert chosen_channel((Channel.EMAIL,), frozenset({Channel.PAPER})) is Channel.PAPER
    assert chosen_channel((), reachable) is Channel.PAPER


def test_channels_per_kind_default_to_paper_only() -> None:
    choice = ChannelChoice(by_kind=((DocumentKind.EID, EMAIL_FIRST),))
    assert choice.for_kind(DocumentKind.EID) == EMAIL_FIRST
    assert choice.for_kind(DocumentKind.PASSPORT) == (Channel.PAPER,)
    assert choice.offers_email
    assert not ChannelChoice().offers_email


def test_refused_and_bounced_fall_back_to_paper() -> None:
    assert {s for s in EmailState if s.falls_back_to_paper} == {
        EmailState.REFUSED,
        EmailState.BOUNCED,
    }


def test_addresses_are_masked_for_people_without_the_reveal_right() -> None:
    assert masked_email("jan.peeters@example.com") == "j***@e***.com"
    assert "peeters" not in masked_email("peeters@peeters.be")


def _email_entry(event: str, **details: object) -> LogEntry:
    facts = {
        "channel": "email", "message_id": "<44021-000003-M000001.9@gent.example>",
        "templates": "eid/first.nl", "template_sha256": "a" * 64, "message_sha256": "b" * 64,
        "attempts": 2, "decided_in_run": 3, **details,
    }  # fmt: skip
    return LogEntry(
        "44021", 7, 4, event, "2027-02-28T01:30:00Z", "eid", "E1", "first", None, "nl",
        "44021-000003-M000001", json.dumps(facts), "00" * 32, "11" * 32,
    )  # fmt: skip


def test_recover_reads_an_emailed_entry_as_an_accepted_email_of_its_deciding_run() -> None:
    record = record_of(_email_entry("emailed", queue_id="Q00001"))
    assert isinstance(record, EmailRecord)
    assert (record.run_id, record.decided_in, record.state) == (4, 3, EmailState.ACCEPTED)
    assert (record.queue_id, record.reply, record.paper_in) == ("Q00001", None, None)
    assert (record.attempts, record.message_id) == (2, "<44021-000003-M000001.9@gent.example>")
    assert record.decision.run_id == 3
    assert (record.decision.reason, record.decision.final, record.decision.language) == (
        None, True, "nl",
    )  # fmt: skip


def test_recover_reads_an_email_failed_entry_as_printed_on_paper_by_its_run() -> None:
    entry = _email_entry("email_failed", state="bounced", reply="550 full", paper_in_run=4)
    record = record_of(entry)
    assert isinstance(record, EmailRecord)
    assert (record.state, record.reply, record.paper_in) == (EmailState.BOUNCED, "550 full", 4)


@pytest.mark.parametrize(
    "details",
    [
        {"state": "accepted", "reply": "250", "paper_in_run": 4},  # not a failure
        {"state": "refused", "reply": "550", "paper_in_run": 5},  # on paper in another run
        {"state": "refused", "paper_in_run": 4},  # no reply
    ],
)
def test_recover_refuses_an_email_failed_entry_that_lacks_what_it_must_say(
    details: dict[str, object],
) -> None:
    with pytest.raises(EntryFormatError, match=r"entry 7 \(email_failed "):
        record_of(_email_entry("email_failed", **details))


@pytest.mark.parametrize(("stops", "expected"), [({"decided_in_run": 3}, 3), ({}, None)])
def test_recover_reads_a_skip_that_stops_an_earlier_runs_letter_taken_over_for_paper(
    stops: dict[str, object], expected: int | None
) -> None:
    """The re-check of run 4 stopped the paper letter of run 3's failed e-mail: a skip of run 4
    naming run 3 (a skip of run 4's own decisions names none)."""
    facts = {"final": True, "expires_on": "2027-04-30", "document_import_id": 2,
             "person_import_id": 3, **stops}  # fmt: skip
    entry = LogEntry(
        "44021", 8, 4, "skip", "2027-03-01T01:30:00Z", "eid", "E1", "first", "deceased", None,
        None, json.dumps(facts), "00" * 32, "11" * 32,
    )  # fmt: skip
    record = record_of(entry)
    assert isinstance(record, DecisionRecord)
    assert (record.run_id, record.reason, record.final) == (4, "deceased", True)
    assert record.letter is None
    assert record.stops_letter_of == expected
