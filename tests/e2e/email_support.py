"""A real SMTP relay on loopback for the e-mail tests (aiosmtpd), with answers chosen per
recipient, and a DKIM key pair whose public half the tests' DNS lookup returns."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import dkim
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SELECTOR = "reminders-test"


@dataclass
class Received:
    recipient: str
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Relay:
    """What the relay received (accepted with 250 only), and what it answers: per recipient,
    the answers to give in turn (the last one repeats); 250 for anyone else."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    answers: dict[str, list[str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # recipients answered with 4xx or 5xx
    queued: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        (recipient,) = envelope.rcpt_tos
        planned = self.answers.get(recipient, [])
        answer = planned.pop(0) if len(planned) > 1 else (planned[0] if planned else "250")
        if not answer.startswith("250"):
            self.refused.append(recipient)
            return f"{answer} <{recipient}>: not now" if answer[0] == "4" else f"{answer} no"
        self.queued += 1
        data = envelope.original_content or envelope.content
        self.received.append(Received(recipient, bytes(data)))
        return f"250 2.0.0 Ok: queued as Q{self.queued:05d}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def loopback_relay() -> Iterator[Relay]:
    relay = Relay(port=_free_port())
    controller = Controller(relay, hostname="127.0.0.1", port=relay.port)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()


@dataclass(frozen=True)
class DkimKey:
    private: Path
    public_txt: bytes  # the DNS TXT record at <selector>._domainkey.<domain>

    def verifies(self, data: bytes) -> bool:
        def lookup(name: bytes, timeout: int = 5) -> bytes:
            assert name.startswith(SELECTOR.encode() + b"._domainkey.")
            return self.public_txt

        return bool(dkim.verify(data, dnsfunc=lookup))


def dkim_key(folder: Path) -> DkimKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = folder / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DkimKey(path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public))


def email_table(port: int, key: Path) -> str:
    return (
        f'channels = ["email", "paper"]\n'
        f'email = {{ relay = "127.0.0.1", port = {port}, tls = "none", '
        f'dkim_selector = "{SELECTOR}", dkim_key = "{key}", attach_pdf = true, '
        f"per_second = 1000, retries = 2, retry_seconds = 0, postage_eur = 1.25 }}\n"
    )
