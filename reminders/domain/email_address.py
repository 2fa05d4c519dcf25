"""A citizen's e-mail address and consent as the registry gives them (issue 25): checked for
form only (no DNS: the domain does no I/O, and an import must not depend on the network),
normalised, and masked wherever a person reads it without the right to see it.

>>> normalised_email(" Jan.Peeters@Example.BE ")
'Jan.Peeters@example.be'
>>> masked_email("jan.peeters@example.be")
'j***@e***.be'
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")
MAX_EMAIL = 254  # RFC 5321's limit on a forward path, less the angle brackets


class InvalidEmailError(ValueError):
    """Not an address mail can be sent to; ``reason`` names no part of the address."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalised_email(text: str) -> str:
    """The address in the form it is stored and sent to: the domain lower-cased (and IDNA
    checked), the local part as given. Raises InvalidEmailError with a reason."""
    address = text.strip()
    if len(address) > MAX_EMAIL:
        raise InvalidEmailError(f"longer than {MAX_EMAIL} characters")
    try:
        checked = validate_email(
            address, check_deliverability=False, allow_smtputf8=True, allow_quoted_local=False
        )
    except EmailNotValidError as err:
        raise InvalidEmailError(f"not a valid e-mail address: {err}") from err
    return str(checked.normalized)


def masked_email(address: str) -> str:
    """An address as people without the reveal right see it: first letters and the top-level
    domain only (``j***@e***.be``)."""
    local, _, domain = address.rpartition("@")
    if not local:
        return "***"
    head, dot, tld = domain.rpartition(".")
    masked_domain = f"{(head or tld)[:1]}***{dot}{tld}" if dot else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def without_addresses(text: str, limit: int = 300) -> str:
    """A relay's answer or a bounce's reason as it may be stored and logged: every address in
    it replaced (relays often repeat the recipient), on one line, at most ``limit`` long.

    >>> without_addresses("550 5.1.1 <jan@example.com>: Recipient address rejected")
    '550 5.1.1 <address>: Recipient address rejected'
    """
    return _ADDRESS.sub("<address>", " ".join(text.split()))[:limit]
