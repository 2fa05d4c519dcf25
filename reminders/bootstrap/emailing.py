"""The e-mail channel wired (issue 25): the e-mail rows on the run's database, each
municipality's relay, the composer with the letter texts and the DKIM keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from reminders.adapters.db.email_store import EmailStore
from reminders.adapters.email.bounce_file import bounce_lines
from reminders.adapters.email.composer import LetterEmails
from reminders.adapters.email.smtp_relay import SmtpRelay
from reminders.adapters.printing.pdf import LetterLayout
from reminders.config import Settings
from reminders.config.channels import EmailOptions
from reminders.services.email_letters import BounceReport, EmailChannel, Emailing, import_bounces
from reminders.services.ports import LetterTexts


def emailing(settings: Settings, engine: Engine, texts: LetterTexts) -> Emailing | None:
    """How the run e-mails, when any of its municipalities offers e-mail; else None (paper
    only, as before issue 25)."""
    channels = {
        m.nis_code: EmailChannel(m.channels, m.email)
        for m in settings.municipalities
        if m.email is not None and m.channels.offers_email
    }
    if not channels:
        return None

    @contextmanager
    def transaction() -> Iterator[EmailStore]:
        with engine.begin() as connection:
            yield EmailStore(connection)

    @contextmanager
    def relay(options: EmailOptions) -> Iterator[SmtpRelay]:
        with SmtpRelay(options) as opened:
            yield opened

    composer = LetterEmails(texts, LetterLayout(settings.print_options.window))
    for channel in channels.values():  # a missing or bad key stops the run before it decides
        composer.dkim_key(channel.options)
    return Emailing(
        channels=channels,
        transaction=transaction,
        relay=relay,
        composer=composer,
        sleep=time.sleep,
    )


def bounces_from_file(settings: Settings, path: Path) -> BounceReport:
    """`reminders bounces import FILE`: the listed e-mails bounced, for paper next run."""
    from reminders.bootstrap import open_engine  # (the package imports this module)

    lines = list(bounce_lines(path))  # the whole file checked before anything is marked
    engine = open_engine(settings.database_url)
    try:

        @contextmanager
        def transaction() -> Iterator[EmailStore]:
            with engine.begin() as connection:
                yield EmailStore(connection)

        return import_bounces(lines, transaction)
    finally:
        engine.dispose()
