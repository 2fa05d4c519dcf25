"""A letter as an e-mail (issue 25): the same texts the letter prints (the templates' blocks:
subject, salutation, paragraphs, closing), as a plain-text part and an accessible HTML part
(language attribute per language, real paragraphs and lists, no images, no layout tables),
the letter's PDF attached or not, the municipality as the sender, the reference in the
subject and in a header of its own; then DKIM-signed (dkimpy).

A bilingual letter (Brussels, language unknown) is one message with both texts, in the
letter's order, as the letter prints both.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

import dkim

from reminders.domain.letters import LetterSpec, LetterText

REFERENCE_HEADER = "X-Reminders-Reference"
# Signed: what a recipient reads and what makes the message this letter.
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"content-language",
                  REFERENCE_HEADER.lower().encode())  # fmt: skip


def message_id(reference: str, decision_id: int, domain: str) -> str:
    """The Message-ID of a letter sent by e-mail: one per (document, stage), the same on
    every retry, so that a relay or a mail client can tell a repeat."""
    return f"<{reference}.{decision_id}@{domain}>"


def composed_message(
    spec: LetterSpec,
    texts: Sequence[LetterText],
    *,
    sender_name: str,
    sender_address: str,
    recipient: str,
    message_id: str,
    date: datetime,
    pdf: bytes | None,
) -> EmailMessage:
    """The e-mail of one letter (not yet signed)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((sender_name, sender_address))
    message["To"] = recipient
    message["Subject"] = f"{' / '.join(text.subject for text in texts)} [{spec.reference}]"
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message[REFERENCE_HEADER] = spec.reference
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    message.set_content(plain_text(texts, spec.reference))
    message.add_alternative(html_text(texts, spec.reference, sender_name), subtype="html")
    if pdf is not None:
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=f"{spec.reference}.pdf"
        )
    # After the content: setting it clears every Content-* header (RFC 3282's among them).
    message["Content-Language"] = ", ".join(text.language.value for text in texts)
    return message


def plain_text(texts: Sequence[LetterText], reference: str) -> str:
    parts = []
    for text in texts:
        lines = [text.subject, "", text.salutation, ""]
        for paragraph in text.body:
            lines.extend([f"- {paragraph.text}" if paragraph.bullet else paragraph.text, ""])
        lines.extend(text.closing)
        parts.append("\n".join(lines))
    return "\n\n-----\n\n".join(parts) + f"\n\n{reference}\n"


def html_text(texts: Sequence[LetterText], reference: str, sender_name: str) -> str:
    """One ``<section lang>`` per language; a screen reader reads each in its own voice."""
    escape = html.escape
    first = texts[0].language.value
    sections = []
    for text in texts:
        body: list[str] = []
        bullets: list[str] = []
        for paragraph in text.body:
            if paragraph.bullet:
                bullets.append(f"<li>{escape(paragraph.text)}</li>")
                continue
            if bullets:
                body.append("<ul>" + "".join(bullets) + "</ul>")
                bullets = []
            body.append(f"<p>{escape(paragraph.text)}</p>")
        if bullets:
            body.append("<ul>" + "".join(bullets) + "</ul>")
        closing = "<br>".join(escape(line) for line in text.closing)
        sections.append(
            f'<section lang="{text.language.value}">'
            f"<h1>{escape(text.subject)}</h1><p>{escape(text.salutation)}</p>"
            + "".join(body)
            + f"<p>{closing}</p></section>"
        )
    title = escape(" / ".join(text.subject for text in texts))
    return (
        f'<!DOCTYPE html><html lang="{first}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>"
        + "<hr>".join(sections)
        + f"<p><small>{escape(sender_name)} &middot; {escape(reference)}</small></p>"
        + "</body></html>\n"
    )


def signed_bytes(message: EmailMessage, *, selector: str, domain: str, key_pem: bytes) -> bytes:
    """The message's bytes with its DKIM-Signature header first (relaxed/relaxed, SHA-256)."""
    data = message.as_bytes(policy=SMTP)
    signature = dkim.sign(
        data,
        selector.encode(),
        domain.encode(),
        key_pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(SIGNED_HEADERS),
    )
    return bytes(signature) + data
