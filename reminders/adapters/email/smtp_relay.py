"""The municipality's SMTP relay (issue 25): one connection per sending step, TLS as
configured, the password read from its file or systemd credential, at most ``per_second``
messages a second. Each message is sent with MAIL, RCPT and DATA separately, so the relay's
answer to DATA (its acceptance and queue id, or a refusal) comes back to the caller, which
records it before anything else happens.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType

from reminders.adapters.crypto.secrets import read_secret
from reminders.config.channels import EmailOptions
from reminders.domain.channels import RelayAnswer
from reminders.domain.email_address import without_addresses

_QUEUED = re.compile(r"queued as ([^\s;,]+)", re.IGNORECASE)


def masked_reply(text: str) -> str:
    """A relay's answer as it may be stored and logged (no address in it)."""
    return without_addresses(text)


def queue_id(text: str) -> str:
    """The relay's queue id from its 250 answer (Postfix: "queued as 4F3k..."), else the
    answer itself."""
    found = _QUEUED.search(text)
    return (found[1] if found else masked_reply(text))[:200]


class SmtpRelay:
    """An open connection to a relay; `send` one message at a time."""

    def __init__(
        self,
        options: EmailOptions,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options, self.environ = options, environ
        self.clock, self.sleep = clock, sleep
        self._smtp: smtplib.SMTP | None = None
        self._last = float("-inf")

    def __enter__(self) -> SmtpRelay:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        options = self.options
        context = ssl.create_default_context()
        timeout = options.timeout_seconds
        smtp: smtplib.SMTP
        if options.tls == "tls":
            smtp = smtplib.SMTP_SSL(options.relay, options.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(options.relay, options.port, timeout=timeout)
            if options.tls == "starttls":
                smtp.starttls(context=context)
        smtp.ehlo_or_helo_if_needed()
        if options.username is not None and options.password is not None:
            password = read_secret(options.password, "the relay's password", self.environ)
            smtp.login(options.username, password.decode().strip())
        self._smtp = smtp
        return smtp

    def send(self, sender: str, recipient: str, data: bytes) -> RelayAnswer:
        """Hand one message to the relay; its answer (a failure to connect is a temporary
        one, 421: the message is tried again later, with the same Message-ID)."""
        wait = self._last + 1 / self.options.per_second - self.clock()
        if wait > 0:
            self.sleep(wait)
        self._last = self.clock()
        try:
            smtp = self._connection()
            code, text = smtp.mail(sender)
            if code == 250:
                code, text = smtp.rcpt(recipient)
            if code not in (250, 251):
                smtp.rset()
                return RelayAnswer(code, masked_reply(text.decode(errors="replace")), None)
            code, text = smtp.data(data)
            reply = text.decode(errors="replace")
            if code == 250:
                return RelayAnswer(code, masked_reply(reply), queue_id(reply))
            return RelayAnswer(code, masked_reply(reply), None)
        except smtplib.SMTPDataError as err:  # DATA itself refused (not 354)
            self._safe_reset()
            return RelayAnswer(err.smtp_code, masked_reply(_text(err.smtp_error)), None)
        except smtplib.SMTPResponseException as err:
            self._drop()
            return RelayAnswer(err.smtp_code, masked_reply(_text(err.smtp_error)), None)
        except (smtplib.SMTPException, OSError) as err:
            self._drop()
            return RelayAnswer(421, masked_reply(f"relay not reachable: {err}"), None)

    def _safe_reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


@contextmanager
def opened_relay(options: EmailOptions) -> Iterator[SmtpRelay]:
    with SmtpRelay(options) as relay:
        yield relay
