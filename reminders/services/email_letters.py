"""A run's letters by e-mail (issue 25), before its paper letters are printed.

Per municipality that offers e-mail: the rule (domain/channels.py) picks e-mail for a letter
when the holder has an address and consent, read from the registry now (a consent withdrawn
since the decision gives paper). Exactly once, across channels and attempts:

- each e-mailed letter has one Message-ID, per (document, stage), and a row recorded in
  state ``sending`` and committed before the message goes to the relay; the relay's answer
  (its acceptance with the queue id, or a refusal) is committed before anything says sent;
- a 4xx answer is tried again with backoff, the same message; after the run's tries it is
  ``deferred`` and the next run tries it again, never a second message;
- a 5xx answer (``refused``), or a bounce (`reminders bounces import`), sends the letter on
  paper at the next run, which logs the failure (``email_failed``) before the paper letter;
- a run killed while sending is resumed: rows still ``sending`` go to the relay again with
  their Message-ID (the only window for a repeat is between the relay's 250 and its commit,
  and the repeat carries the same Message-ID);
- letters with an e-mail row are not printed by their run (letter_store.letter_order).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

from reminders.config.channels import EmailOptions
from reminders.domain.campaign import Campaign
from reminders.domain.channels import (
    Channel,
    ChannelChoice,
    Contact,
    EmailState,
    RelayAnswer,
    chosen_channel,
    reachable_by,
)
from reminders.domain.due import skip_reason
from reminders.domain.email_address import without_addresses
from reminders.domain.email_records import NewEmail, StoredEmail
from reminders.domain.letters import LetterFacts, LetterMunicipality, LetterSpec
from reminders.domain.model import DocumentKind
from reminders.domain.policy import ReminderPolicy
from reminders.services.ports import LetterTexts, UnitOfWork
from reminders.services.print_letters import TemplateSources, letter_rule, letter_to_print
from reminders.services.run_control import RunControl
from reminders.services.run_summary import RunSummary

log = logging.getLogger(__name__)

CHUNK = 500


class EmailStore(Protocol):
    """The e-mail rows (adapters/db/email_store.py), in the caller's transaction."""

    def unsent(self, municipality_nis: str) -> list[StoredEmail]: ...
    def claim_fallbacks(self, run_id: int, municipality_nis: str) -> int: ...
    def new_letters(self, run_id: int, municipality_nis: str) -> list[int]: ...
    def contacts(self, decision_ids: Sequence[int]) -> dict[int, Contact]: ...
    def count(self, run_id: int, municipality_nis: str) -> int: ...
    def record_sending(self, email: NewEmail) -> None: ...
    def resending(self, decision_id: int, run_id: int, message_sha256: str) -> None: ...
    def bounced(self, reference_or_message_id: str, reply: str) -> str | None: ...
    def accepted_counts(self, run_id: int) -> dict[str, int]: ...
    def record_answer(
        self, decision_id: int, state: EmailState, *, attempts: int, answer: RelayAnswer,
        at: datetime,
    ) -> None: ...  # fmt: skip


EmailTransaction = Callable[[], AbstractContextManager[EmailStore]]


class MailRelay(Protocol):
    """A municipality's relay, open for one sending step (adapters/email/smtp_relay.py)."""

    def send(self, sender: str, recipient: str, data: bytes) -> RelayAnswer: ...


class EmailComposer(Protocol):
    """A letter as a signed message (adapters/email/message.py)."""

    def compose(
        self,
        spec: LetterSpec,
        municipality: LetterMunicipality,
        options: EmailOptions,
        *,
        recipient: str,
        message_id: str,
        date: datetime,
    ) -> bytes: ...


@dataclass(frozen=True, slots=True)
class EmailChannel:
    """A municipality's e-mail: its channels per kind and how its e-mails go out."""

    channels: ChannelChoice
    options: EmailOptions


@dataclass(frozen=True, slots=True)
class Emailing:
    """How a run sends its letters by e-mail; without it (or for municipalities not in
    ``channels``) every letter goes on paper."""

    channels: Mapping[str, EmailChannel]  # per NIS code, the municipalities offering e-mail
    transaction: EmailTransaction
    relay: Callable[[EmailOptions], AbstractContextManager[MailRelay]]
    composer: EmailComposer
    sleep: Callable[[float], None]


@dataclass(slots=True)
class EmailTally:
    accepted: int = 0
    deferred: int = 0
    refused: int = 0
    fallbacks: int = 0  # earlier e-mails that failed, printed by this run


def send_emails(
    run_id: int,
    as_of: date,
    municipalities: Sequence[LetterMunicipality],
    policies: Mapping[DocumentKind, ReminderPolicy],
    campaigns: Sequence[Campaign],
    emailing: Emailing,
    uow: UnitOfWork,
    texts: LetterTexts,
    *,
    now: Callable[[], datetime],
    control: RunControl,
) -> EmailTally:
    """Send the run's letters that go by e-mail, first those an earlier attempt or run left
    unsent; claim the failed e-mails of earlier runs for this run's paper."""
    tally = EmailTally()
    templates = TemplateSources(texts)
    for municipality in municipalities:
        channel = emailing.channels.get(municipality.nis_code)
        if channel is None:
            continue
        sender = _Sender(run_id, as_of, municipality, channel, emailing, templates, now, control)
        sender.policies, sender.campaigns = policies, campaigns
        with emailing.relay(channel.options) as relay:
            sender.relay = relay
            sender.send_all(uow, tally)
    if tally.accepted or tally.deferred or tally.refused or tally.fallbacks:
        log.info(
            "run %s: e-mails %d accepted, %d deferred, %d refused; %d failed e-mails to paper",
            run_id, tally.accepted, tally.deferred, tally.refused, tally.fallbacks,
        )  # fmt: skip
    return tally


class _Sender:
    """One municipality's e-mails of one run."""

    relay: MailRelay
    policies: Mapping[DocumentKind, ReminderPolicy]
    campaigns: Sequence[Campaign]

    def __init__(
        self,
        run_id: int,
        as_of: date,
        municipality: LetterMunicipality,
        channel: EmailChannel,
        emailing: Emailing,
        templates: TemplateSources,
        now: Callable[[], datetime],
        control: RunControl,
    ) -> None:
        self.run_id, self.as_of, self.municipality = run_id, as_of, municipality
        self.channel, self.emailing, self.templates = channel, emailing, templates
        self.now, self.control = now, control
        self.nis = municipality.nis_code

    def send_all(self, uow: UnitOfWork, tally: EmailTally) -> None:
        with self.emailing.transaction() as store:
            unsent = store.unsent(self.nis)
            number = store.count(self.run_id, self.nis)
        for chunk in _chunks(unsent):
            facts, contacts = self._read(uow, [email.decision_id for email in chunk])
            for email in chunk:
                found = facts[email.decision_id]
                contact = contacts[email.decision_id]
                if (
                    Channel.EMAIL not in reachable_by(contact)
                    or skip_reason(found.document, self.municipality) is not None
                    or found.address is None
                ):  # consent withdrawn, or the holder gone: not sent, paper decides again
                    self._answer(
                        email.decision_id, email.attempts,
                        RelayAnswer(550, "not sent: no longer reachable by e-mail", None), tally,
                    )  # fmt: skip
                    continue
                data = self._message(found, contact, email.reference, email.message_id, email.as_of)
                with self.emailing.transaction() as store:
                    store.resending(email.decision_id, self.run_id, _sha256(data))
                self._send(email.decision_id, contact, data, email.attempts, tally)
        with self.emailing.transaction() as store:  # after the unsent: a refusal just above
            tally.fallbacks += store.claim_fallbacks(self.run_id, self.nis)  # is paper now
            new = store.new_letters(self.run_id, self.nis)
        for ids in _chunks(new):
            facts, contacts = self._read(uow, ids)
            for decision_id in ids:
                found, contact = facts[decision_id], contacts[decision_id]
                preference = self.channel.channels.for_kind(found.document.kind)
                if chosen_channel(preference, reachable_by(contact)) is not Channel.EMAIL:
                    continue
                if skip_reason(found.document, self.municipality) is not None:
                    continue  # the print step's re-check records the skip
                if found.address is None:
                    continue
                number += 1
                reference = f"{self.nis}-{self.run_id:06d}-M{number:06d}"
                message_id = _message_id(reference, decision_id, self.channel.options)
                data = self._message(found, contact, reference, message_id, self.as_of)
                _, names, digest = self._spec(found, reference, self.as_of)
                with self.emailing.transaction() as store:
                    store.record_sending(
                        NewEmail(
                            decision_id,
                            self.run_id,
                            self.nis,
                            reference,
                            message_id,
                            names,
                            digest,
                            _sha256(data),
                            self.now(),
                        )
                    )
                self.control.reached("email:recorded")
                self._send(decision_id, contact, data, 0, tally)

    def _read(
        self, uow: UnitOfWork, ids: Sequence[int]
    ) -> tuple[dict[int, LetterFacts], dict[int, Contact]]:
        with uow:
            facts = {found.decision_id: found for found in uow.letters.letter_facts(ids)}
        with self.emailing.transaction() as emails:
            contacts = emails.contacts(ids)
        return facts, contacts

    def _spec(self, facts: LetterFacts, reference: str, letter_date: date) -> tuple[
        LetterSpec, str, str
    ]:  # fmt: skip
        rule = letter_rule(facts, self.policies, self.campaigns, run_id=self.run_id)
        letter = letter_to_print(
            facts, rule, reference=reference, municipality=self.municipality,
            letter_date=letter_date, templates=self.templates,
        )  # fmt: skip
        return letter.spec, letter.templates, letter.template_sha256

    def _message(
        self, facts: LetterFacts, contact: Contact, reference: str, message_id: str,
        letter_date: date,
    ) -> bytes:  # fmt: skip
        spec, _, _ = self._spec(facts, reference, letter_date)
        assert contact.email is not None  # noqa: S101 - reachable by e-mail
        return self.emailing.composer.compose(
            spec, self.municipality, self.channel.options,
            recipient=contact.email, message_id=message_id, date=self.now(),
        )  # fmt: skip

    def _send(
        self, decision_id: int, contact: Contact, data: bytes, attempts: int, tally: EmailTally
    ) -> None:
        options = self.channel.options
        assert contact.email is not None  # noqa: S101 - reachable by e-mail
        answer = RelayAnswer(421, "not tried", None)
        for attempt in range(options.retries + 1):
            if attempt:
                self.emailing.sleep(options.retry_seconds * 2 ** (attempt - 1))
            attempts += 1
            answer = self.relay.send(options.from_address, contact.email, data)
            if not answer.temporary:
                break
        self._answer(decision_id, attempts, answer, tally)
        self.control.reached("email:answered")

    def _answer(
        self, decision_id: int, attempts: int, answer: RelayAnswer, tally: EmailTally
    ) -> None:
        state = answer.state()
        with self.emailing.transaction() as store:
            store.record_answer(decision_id, state, attempts=attempts, answer=answer, at=self.now())
        if state is EmailState.ACCEPTED:
            tally.accepted += 1
        elif state is EmailState.DEFERRED:
            tally.deferred += 1
        else:
            tally.refused += 1


def _message_id(reference: str, decision_id: int, options: EmailOptions) -> str:
    """One per (document, stage): the decision is the (document, stage)'s letter."""
    return f"<{reference}.{decision_id}@{options.dkim_domain}>"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_T = TypeVar("_T")


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class Bounce(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True, slots=True)
class BounceReport:
    read: int
    bounced: int  # accepted e-mails now bounced: paper at the next run
    again: int  # already bounced (a list read twice)
    not_taken: tuple[tuple[int, str], ...]  # (line, why)


def import_bounces(bounces: Iterable[Bounce], transaction: EmailTransaction) -> BounceReport:
    """Mark each listed e-mail bounced (one transaction: all or nothing); the next run of its
    municipality logs the failure and prints the letter on paper."""
    read = bounced = again = 0
    not_taken: list[tuple[int, str]] = []
    with transaction() as store:
        for bounce in bounces:
            read += 1
            before = store.bounced(bounce.key, without_addresses(bounce.reason))
            if before is None:
                not_taken.append((bounce.line, "no e-mail with this reference or Message-ID"))
            elif before == EmailState.ACCEPTED.value:
                bounced += 1
            elif before == EmailState.BOUNCED.value:
                again += 1
            else:
                not_taken.append((bounce.line, f"the e-mail was never accepted (it is {before})"))
    log.info("bounces: %d read, %d bounced, %d known already", read, bounced, again)
    return BounceReport(read, bounced, again, tuple(not_taken))


def with_emails(summary: RunSummary, emailing: Emailing) -> RunSummary:
    """The summary with each municipality's letters the relay accepted in the run, and the
    postage that saved (issue 25)."""
    if summary.run_id is None:
        return summary
    with emailing.transaction() as store:
        accepted = store.accepted_counts(summary.run_id)
    for nis, outcome in summary.municipalities.items():
        outcome.emailed = accepted.get(nis, 0)
        channel = emailing.channels.get(nis)
        price = channel.options.postage_eur if channel is not None else None
        if outcome.emailed and price is not None:
            outcome.postage_saved_eur = outcome.emailed * price
    return summary
