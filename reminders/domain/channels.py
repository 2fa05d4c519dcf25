"""How a letter reaches its citizen (issue 25): the channels a municipality offers for a kind
of document, in its order of preference, and the rule that picks one per letter. Pure.

The rule knows no channel but paper: it takes the first configured channel the holder can be
reached by, and paper when none (paper is every letter's last resort, so a configuration
without it still never leaves a letter unsent). Whether a holder is reachable by a channel is
said by the channel's side (`reachable_by`), so another channel (the federal eBox) is a new
member of `Channel` and a new line there, not a change of the rule.

>>> chosen_channel((Channel.EMAIL, Channel.PAPER), frozenset({Channel.EMAIL}))
<Channel.EMAIL: 'email'>
>>> chosen_channel((Channel.EMAIL, Channel.PAPER), frozenset())
<Channel.PAPER: 'paper'>
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from reminders.domain.model import DocumentKind


class Channel(StrEnum):
    PAPER = "paper"
    EMAIL = "email"


class EmailState(StrEnum):
    """Where an e-mailed letter stands with the relay (adapters/db EmailMessageRow)."""

    SENDING = "sending"  # recorded before it went to the relay; a resumed run sends it again
    ACCEPTED = "accepted"  # the relay took it (250) and gave its queue id
    DEFERRED = "deferred"  # 4xx after the run's retries: the next run tries it again
    REFUSED = "refused"  # 5xx: goes on paper at the next run
    BOUNCED = "bounced"  # the relay took it, but it came back: paper at the next run

    @property
    def falls_back_to_paper(self) -> bool:
        return self in (EmailState.REFUSED, EmailState.BOUNCED)


PAPER_ONLY: tuple[Channel, ...] = (Channel.PAPER,)


@dataclass(frozen=True, slots=True)
class ChannelChoice:
    """A municipality's channels per kind of document, in order of preference (config.toml
    ``channels``); a kind not named takes ``default``, which is paper only unless set."""

    default: tuple[Channel, ...] = PAPER_ONLY
    by_kind: tuple[tuple[DocumentKind, tuple[Channel, ...]], ...] = ()  # hashable, like config

    def for_kind(self, kind: DocumentKind) -> tuple[Channel, ...]:
        for named, channels in self.by_kind:
            if named is kind:
                return channels
        return self.default

    @property
    def offers_email(self) -> bool:
        listed = (self.default, *(channels for _, channels in self.by_kind))
        return any(Channel.EMAIL in channels for channels in listed)


@dataclass(frozen=True, slots=True)
class Contact:
    """What the registry and the history of earlier e-mails say of a holder, as far as the
    channels are concerned."""

    email: str | None  # kept only while the citizen consents
    email_consent: bool
    email_failed: bool = False  # an e-mail for this very letter was refused or bounced


def reachable_by(contact: Contact) -> frozenset[Channel]:
    """The channels a holder can be reached by. Paper is always in: whether an address is
    usable is the letter's own re-check (skip `no_address`)."""
    channels = {Channel.PAPER}
    if contact.email and contact.email_consent and not contact.email_failed:
        channels.add(Channel.EMAIL)
    return frozenset(channels)


def chosen_channel(preference: Sequence[Channel], reachable: frozenset[Channel]) -> Channel:
    """The first channel of ``preference`` the holder is reachable by; paper when none."""
    for channel in preference:
        if channel in reachable:
            return channel
    return Channel.PAPER


@dataclass(frozen=True, slots=True)
class RelayAnswer:
    """What an SMTP relay answered to one message: 250 with its queue id, or a refusal;
    ``reply`` with any address masked."""

    code: int
    reply: str
    queue_id: str | None

    @property
    def accepted(self) -> bool:
        return self.code == 250

    @property
    def temporary(self) -> bool:
        """4xx (or no answer at all): the same message may be tried again."""
        return 400 <= self.code < 500

    def state(self) -> EmailState:
        """Where the message stands after this answer, when it is the last one tried."""
        if self.accepted:
            return EmailState.ACCEPTED
        return EmailState.DEFERRED if self.temporary or self.code < 400 else EmailState.REFUSED
