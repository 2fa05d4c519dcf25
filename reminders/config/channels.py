"""A municipality's ``channels`` and ``email`` (issue 25): which channels its letters go by,
per kind of document, and the SMTP relay, sender and DKIM key its e-mails go out with.

    channels = ["email", "paper"]                          # every kind
    channels = { default = ["paper"], eid = ["email", "paper"] }   # or per kind
    email = { relay = "smtp.gent.example", port = 587, tls = "starttls", username = "reminders",
              password = "credential:smtp-password", dkim_selector = "reminders2027",
              dkim_key = "var/keys/dkim-gent.pem", attach_pdf = true, per_second = 5 }

Without ``channels`` a municipality's letters all go on paper, as before. The relay's password
and the DKIM private key are read from a file, ``env:NAME`` or ``credential:NAME`` (a systemd
credential), never from config.toml itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reminders.config.audit import KeySource, key_source
from reminders.config.table import Table
from reminders.domain.channels import PAPER_ONLY, Channel, ChannelChoice
from reminders.domain.email_address import InvalidEmailError, normalised_email
from reminders.domain.model import DocumentKind

TlsMode = Literal["starttls", "tls", "none"]
_TLS_MODES: tuple[TlsMode, ...] = ("starttls", "tls", "none")
_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True, slots=True)
class EmailOptions:
    """How a municipality's e-mails go out."""

    relay: str  # the SMTP relay's host name or address
    port: int
    tls: TlsMode  # "starttls" (587), "tls" (implicit, 465) or "none" (a relay on this host)
    from_address: str  # the sender: the municipality (its sender.email by default)
    dkim_domain: str  # d= of the signature (the sender's domain by default)
    dkim_selector: str  # s=: the DNS name <selector>._domainkey.<domain> holds the public key
    dkim_key: KeySource  # RSA or Ed25519 private key, PEM
    username: str | None = None
    password: KeySource | None = None
    attach_pdf: bool = False  # the letter's PDF with the e-mail
    per_second: float = 10.0  # at most this many messages per second to the relay
    retries: int = 3  # a 4xx answer is tried again this often within the run, with backoff
    retry_seconds: float = 2.0  # the first wait; doubled each time
    timeout_seconds: float = 30.0
    postage_eur: float | None = None  # what a letter on paper costs to post: the summary's savings


def channels_of(table: Table) -> ChannelChoice:
    """The municipality's ``channels``: an array for every kind, or a table per kind with an
    optional ``default``; none: paper only."""
    if "channels" not in table.data:
        return ChannelChoice()
    if isinstance(table.data["channels"], list):
        listed = table.array("channels")
        assert listed is not None  # noqa: S101 - present
        return ChannelChoice(default=_channel_list(table, "channels", listed))
    per_kind = table.table("channels")
    assert per_kind is not None  # noqa: S101 - present
    default = PAPER_ONLY
    by_kind: dict[DocumentKind, tuple[Channel, ...]] = {}
    for name in list(per_kind.data):
        listed = per_kind.array(name)
        assert listed is not None  # noqa: S101 - present
        channels = _channel_list(per_kind, name, listed)
        if name == "default":
            default = channels
            continue
        try:
            by_kind[DocumentKind(name)] = channels
        except ValueError as err:
            kinds = ", ".join(kind.value for kind in DocumentKind)
            raise per_kind.error(name, f"expected default or a kind of document ({kinds})") from err
    per_kind.finish()
    return ChannelChoice(default, tuple(by_kind.items()))


def _channel_list(table: Table, name: str, values: list[object]) -> tuple[Channel, ...]:
    allowed = ", ".join(f'"{channel.value}"' for channel in Channel)
    channels: list[Channel] = []
    for value in values:
        if not isinstance(value, str) or value not in Channel.__members__.values():
            raise table.error(name, f"expected channels among {allowed}, got {value!r}")
        if Channel(value) in channels:
            raise table.error(name, f"channel {value!r} is listed twice")
        channels.append(Channel(value))
    if not channels:
        raise table.error(name, 'give at least one channel, like ["email", "paper"]')
    return tuple(channels)


def email_options_of(
    table: Table, base: Path, channels: ChannelChoice, sender_email: str | None
) -> EmailOptions | None:
    """The municipality's ``email`` table; required when its channels name e-mail."""
    email = table.table("email", required=False)
    if email is None:
        if channels.offers_email:
            raise table.error(
                "channels", "e-mail needs an `email` table: the relay, sender and DKIM key"
            )
        return None
    tls = email.text("tls", required=False) or "starttls"
    if tls not in _TLS_MODES:
        raise email.error("tls", f"expected one of {', '.join(_TLS_MODES)}, got {tls!r}")
    sender = email.text("from", required=False) or sender_email
    if sender is None:
        raise email.error("from", "missing: give it, or the sender's email")
    try:
        from_address = normalised_email(sender)
    except InvalidEmailError as err:
        raise email.error("from", err.reason) from err
    dkim_key = key_source(email, "dkim_key", base, required=True)
    assert dkim_key is not None  # noqa: S101 - required
    username = email.text("username", required=False)
    password = key_source(email, "password", base, required=False)
    if (username is None) != (password is None):
        raise email.error("password", "username and password go together")
    options = EmailOptions(
        relay=email.required_text("relay"),
        port=email.whole_number("port", minimum=1, maximum=65535) or _DEFAULT_PORTS[tls],
        tls=tls,  # checked against _TLS_MODES above
        from_address=from_address,
        dkim_domain=(
            email.text("dkim_domain", required=False) or from_address.rpartition("@")[2]
        ).lower(),
        dkim_selector=email.required_text("dkim_selector"),
        dkim_key=dkim_key,
        username=username,
        password=password,
        attach_pdf=bool(email.flag("attach_pdf")),
        per_second=_number(email, "per_second", 0.01, 10_000, 10.0),
        retries=_whole(email, "retries", 0, 10, 3),
        retry_seconds=_number(email, "retry_seconds", 0, 600, 2.0),
        timeout_seconds=_number(email, "timeout_seconds", 1, 600, 30.0),
        postage_eur=email.number("postage_eur", minimum=0, maximum=100),
    )
    email.finish()
    return options


def _whole(table: Table, name: str, minimum: int, maximum: int, default: int) -> int:
    value = table.whole_number(name, minimum=minimum, maximum=maximum)
    return default if value is None else value


def _number(table: Table, name: str, minimum: float, maximum: float, default: float) -> float:
    value = table.number(name, minimum=minimum, maximum=maximum)
    return default if value is None else value
