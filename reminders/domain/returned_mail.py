"""Letters bpost brings back (issue 21): why, read from a scanned list of returns, and whether
the address they came back from is still the one the registry holds.

A returned letter is the civil-affairs service's best signal that someone no longer lives at
their registered address (the start of an address investigation). No further letter goes to
that address for that person until an import changes it: the address is remembered by a hash
of its registry fields, never as text.

bpost's reasons, as its return labels print them in the three languages, or the contract's
words:

>>> parsed_return_reason("Verhuisd"), parsed_return_reason("inconnu")
(<ReturnReason.MOVED: 'moved'>, <ReturnReason.UNKNOWN: 'unknown'>)
>>> parsed_return_reason("Adresse unvollständig"), parsed_return_reason("gone") is None
(<ReturnReason.ADDRESS_INCOMPLETE: 'address_incomplete'>, True)
"""

from __future__ import annotations

import hashlib
import unicodedata
from enum import StrEnum


class ReturnReason(StrEnum):
    """Why bpost returned a letter (the boxes ticked on its return label)."""

    MOVED = "moved"  # verhuisd / déménagé / verzogen
    UNKNOWN = "unknown"  # onbekend / inconnu / unbekannt
    ADDRESS_INCOMPLETE = "address_incomplete"  # adres onvolledig / adresse incomplète / ...
    REFUSED = "refused"  # geweigerd / refusé / verweigert
    DECEASED = "deceased"  # overleden / décédé / verstorben


_SPELLINGS = {
    ReturnReason.MOVED: ("moved", "verhuisd", "demenage", "verzogen"),
    ReturnReason.UNKNOWN: ("unknown", "onbekend", "inconnu", "unbekannt"),
    ReturnReason.ADDRESS_INCOMPLETE: (
        "address_incomplete", "address incomplete", "adres onvolledig", "onvolledig adres",
        "adresse incomplete", "adresse unvollstandig", "unvollstandige adresse",
    ),
    ReturnReason.REFUSED: ("refused", "geweigerd", "refuse", "verweigert", "annahme verweigert"),
    ReturnReason.DECEASED: ("deceased", "overleden", "decede", "verstorben"),
}  # fmt: skip
_BY_SPELLING = {spelling: reason for reason, words in _SPELLINGS.items() for spelling in words}


def _folded(text: str) -> str:
    """Lower case, accents dropped, single spaces: "Déménagé " → "demenage"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("-", " ").split()).replace("adres_", "adres ")


def parsed_return_reason(text: str) -> ReturnReason | None:
    """The reason in any of bpost's three languages or the contract's words, else None."""
    folded = _folded(text)
    return _BY_SPELLING.get(folded) or _BY_SPELLING.get(folded.replace(" ", "_"))


def return_reasons() -> str:
    """The accepted reasons, for messages."""
    return ", ".join(reason.value for reason in ReturnReason)


def address_key(
    street: str | None,
    house_number: str | None,
    box: str | None,
    postal_code: str | None,
    locality: str | None,
    country: str | None,
) -> str:
    """What is kept of the address a letter came back from: a SHA-256 over its registry
    fields, so the nightly decision can tell whether the registry still holds that address
    (no letter) or an import changed it (letters again), without keeping the address."""
    fields = (street, house_number, box, postal_code, locality, country)
    text = "\x1f".join((field or "").strip().upper() for field in fields)
    return hashlib.sha256(text.encode()).hexdigest()
