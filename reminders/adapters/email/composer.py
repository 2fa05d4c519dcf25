"""The letter texts as a signed e-mail: the composer the sending step uses (issue 25)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from reminders.adapters.email.message import composed_message, signed_bytes
from reminders.adapters.email.smtp_relay import read_secret
from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.printing.print_volume import preview_pdf
from reminders.config import KeySource
from reminders.config.channels import EmailOptions
from reminders.domain.letters import LetterMunicipality, LetterSpec, LetterText
from reminders.domain.model import Language


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
        if options.dkim_key not in self._keys:
            self._keys[options.dkim_key] = read_secret(options.dkim_key, "the DKIM key")
        return signed_bytes(
            message,
            selector=options.dkim_selector,
            domain=options.dkim_domain,
            key_pem=self._keys[options.dkim_key],
        )
