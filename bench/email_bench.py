"""E-mails handed to a local relay per second, beside letters rendered per second (issue 25).

`python -m bench email [--letters N]`: the same letter (the example config's first
municipality, the shipped eID template) N times, in this one process:

- rendered as the PDF a volume prints (`preview_pdf`: texts, layout, drawing);
- composed as its e-mail (texts as plain text and HTML), DKIM-signed (RSA 2048) and handed to
  an SMTP relay on loopback (aiosmtpd, in a thread of this process), without the PDF;
- the same with the letter's PDF attached (`attach_pdf = true`): rendering included.

The relay accepts everything; what is measured is this side's work and one SMTP round trip
per message. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from reminders.adapters.email.composer import LetterEmails
from reminders.adapters.email.smtp_relay import SmtpRelay
from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.printing.print_volume import preview_pdf
from reminders.bootstrap import checked_templates, template_samples
from reminders.config import KeySource, load_settings
from reminders.config.channels import EmailOptions
from tests.e2e.email_support import dkim_key, loopback_relay

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=300)
    args = parser.parse_args(argv)
    settings = load_settings(REPO / "config.toml", environ={})
    municipality = settings.municipalities[0]
    texts = checked_templates(settings, [municipality])
    layout = LetterLayout(settings.print_options.window)
    spec = replace(template_samples()[0], municipality_nis=municipality.nis_code, stage="first")
    letter_texts = [texts.text(spec, language, municipality) for language in spec.languages]
    n = args.letters

    started = time.perf_counter()
    for _ in range(n):
        preview_pdf(layout, spec, letter_texts, municipality)
    rendered = n / (time.perf_counter() - started)
    print(f"letters rendered (PDF, one process): {rendered:8.1f} /s")

    with TemporaryDirectory() as folder, loopback_relay() as relay:
        key = dkim_key(Path(folder))
        options = EmailOptions(
            relay="127.0.0.1", port=relay.port, tls="none", from_address="burgerzaken@gent.example",
            dkim_domain="gent.example", dkim_selector="bench", dkim_key=KeySource(path=key.private),
            per_second=100_000,
        )  # fmt: skip
        for attach in (False, True):
            chosen = replace(options, attach_pdf=attach)
            emails = LetterEmails(texts, layout)
            with SmtpRelay(chosen) as smtp:
                started = time.perf_counter()
                for number in range(n):
                    data = emails.compose(
                        spec, municipality, chosen, recipient=f"citizen{number}@example.com",
                        message_id=f"<bench.{number}@gent.example>", date=datetime.now(UTC),
                    )  # fmt: skip
                    answer = smtp.send(chosen.from_address, f"citizen{number}@example.com", data)
                    assert answer.accepted, answer  # noqa: S101 - a bench of sending, not failing
                rate = n / (time.perf_counter() - started)
            what = "with the PDF attached" if attach else "without the PDF"
            print(f"e-mails handed to a loopback relay ({what}): {rate:8.1f} /s")
        print(f"messages the relay received: {len(relay.received)}")


if __name__ == "__main__":
    main()
