"""The letter texts as a signed e-mail: the composer the sending step uses (issue 25)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from reminders.adapters.crypto.secrets import read_secret
from reminders.adapters.email.message import composed_message, signed_bytes
from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.printing.print_volume import preview_pdf
from reminders.config import KeySource
from reminders.config.channels import EmailOptions
from reminders.domain.letters import LetterMunicipality, LetterSpec, LetterText
from reminders.domain.model import Language
from reminders.errors import ConfigError


class LetterTexts(Protocol):
    """What composing needs of the letter templates (adapters/printing/text.LetterTemplates)."""

    def text(
        self, spec: LetterSpec, language: Language, municipality: LetterMunicipality
    ) -> LetterText: ...


class LetterEmails:
    """Composes and signs; the DKIM keys are read once per key."""

    def __init__(self, texts: LetterTexts, layout: LetterLayout) -> None:
        self.texts, self.layout = texts, layout
        self._keys: dict[KeySource, bytes] = {}

    def compose(
        self,
        spec: LetterSpec,
        municipality: LetterMunicipality,
        options: EmailOptions,
        *,
        recipient: str,
        message_id: str,
        date: datetime,
    ) -> bytes:
        texts = [self.texts.text(spec, language, municipality) for language in spec.languages]
        pdf = preview_pdf(self.layout, spec, texts, municipality) if options.attach_pdf else None
        message = composed_message(
            spec,
            texts,
            sender_name=f"{municipality.name} - {municipality.sender.department}",
            sender_address=options.from_address,
            recipient=recipient,
            message_id=message_id,
            date=date,
            pdf=pdf,
        )
        return signed_bytes(
            message,
            selector=options.dkim_selector,
            domain=options.dkim_domain,
            key_pem=self.dkim_key(options),
        )

    def dkim_key(self, options: EmailOptions) -> bytes:
        """The DKIM private key's PEM, read and checked once (a run checks each before it
        decides anything: ConfigError naming the key)."""
        if options.dkim_key not in self._keys:
            pem = read_secret(options.dkim_key, "the DKIM key")
            try:
                load_pem_private_key(pem, password=None)
            except (ValueError, TypeError) as err:
                raise ConfigError(
                    Path(str(options.dkim_key)), f"not an unencrypted PEM private key: {err}"
                ) from err
            self._keys[options.dkim_key] = pem
        return self._keys[options.dkim_key]
