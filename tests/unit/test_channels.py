"""The channel rule (issue 25): e-mail when the municipality offers it for the kind and the
holder has an address, consent and no failed e-mail for the letter; paper otherwise."""

from __future__ import annotations

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
from reminders.domain.log_records import EntryFormatError, record_of
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


@pytest.mark.parametrize("event", ["emailed", "email_failed"])
def test_recover_refuses_email_entries_rather_than_dropping_them(event: str) -> None:
    """Dropping an e-mail entry would let a restored database send its letter again: until
    recover restores them, it refuses, naming the entry and what to do."""
    entry = LogEntry(
        "44021", 7, 3, event, "2027-02-28T01:30:00Z", "eid", "E1", "first", None, "nl",
        "44021-000003-M000001", "{}", "00" * 32, "11" * 32,
    )  # fmt: skip
    with pytest.raises(EntryFormatError, match=r"records an e-mail .* restore the database from"):
        record_of(entry)
