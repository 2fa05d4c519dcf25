"""What a letter says and to whom: recipient, address block, language, texts (not how it looks).

The address block follows bpost (domain.md §4.1-§4.3): at most five lines, left-aligned, the
name first, an optional line of extra details above the street, street + number + box with the
box word of the letter's language, postal code + locality in capitals, and the country in full
only for foreign addresses. Minors are written to "the parents of" (domain.md §8.7).

>>> address = PostalAddress("Kerkstraat", "12A", "3", "9000", "Gent", "BE")
>>> address_block(("Emma Peeters",), address, Language.NL, country_name=None)
('Emma Peeters', 'Kerkstraat 12A bus 3', '9000 GENT')
>>> address_block(recipient_lines("Emma", "Peeters", Language.FR, to_parents=True),
...               address, Language.FR, country_name=None)
('Aux parents de', 'Emma Peeters', 'Kerkstraat 12A bte 3', '9000 GENT')
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from reminders.domain.campaign import Campaign
from reminders.domain.due import DocumentFacts, LetterJurisdiction
from reminders.domain.model import DocumentKind, Language
from reminders.domain.policy import ReminderPolicy
from reminders.domain.release import ReleaseMode

# The box word of each letter language: the legal list has bus, bte, boîte and box; German
# letters use "box" (domain.md §4.2).
BOX_WORDS = {Language.NL: "bus", Language.FR: "bte", Language.DE: "box"}
TO_PARENTS = {Language.NL: "Aan de ouders van", Language.FR: "Aux parents de",
              Language.DE: "An die Eltern von"}  # fmt: skip
ADULT_AGE = 18
MAX_LINE_CHARACTERS = 40  # bpost: abbreviate only a line longer than this (domain.md §4.1)
_FORBIDDEN = re.compile(r"[#&§()\"]")  # characters bpost's readers reject in an address
_SPACES = re.compile(r"[^\S\u00a0]+")  # white space, but a no-break space stays (1 600 €, « : »)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """An address as the registry holds it; foreign ones keep their own postal code format."""

    street: str
    house_number: str | None
    box: str | None
    postal_code: str | None
    locality: str
    country: str  # ISO 3166-1 alpha-2

    @property
    def is_foreign(self) -> bool:
        return self.country != "BE"


class LetterSender(Protocol):
    """The civil-affairs department letters come from and refer to (config.Sender fits)."""

    @property
    def department(self) -> str: ...
    @property
    def street(self) -> str: ...
    @property
    def house_number(self) -> str: ...
    @property
    def postal_code(self) -> str: ...
    @property
    def locality(self) -> str: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def appointment_url(self) -> str | None: ...
    @property
    def appointment_qr(self) -> bool: ...


MAX_CONTACT_BLOCKS = 3  # shown on one letter, side by side below the text of its first page
MAX_CONTACT_LINES = 4  # under the block's title


@dataclass(frozen=True, slots=True)
class Logo:
    """The municipality's logo or coat of arms, as its file's bytes (SVG or PNG)."""

    file_name: str  # for messages only
    data: bytes
    kind: str  # "svg" or "png"
    height_mm: float = 20.0  # at most: it may get less room beside a high window

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class ContactBlock:
    """A few lines the municipality prints on every letter, e.g. the counter's hours."""

    lines: tuple[str, ...]
    title: str | None = None
    language: Language | None = None  # only on letters in that language; None: on all


@dataclass(frozen=True, slots=True)
class Letterhead:
    """What a municipality adds to the letterhead: its logo and contact blocks."""

    logo: Logo | None = None
    contacts: tuple[ContactBlock, ...] = ()

    def contacts_for(self, languages: Sequence[Language]) -> tuple[ContactBlock, ...]:
        """The blocks a letter in ``languages`` shows: those without a language and those in
        one of its languages, in the configured order."""
        return tuple(
            block
            for block in self.contacts
            if block.language is None or block.language in languages
        )


class LetterMunicipality(LetterJurisdiction, Protocol):
    """A municipality as letters need it (config.Municipality fits)."""

    @property
    def name(self) -> str: ...
    @property
    def sender(self) -> LetterSender: ...
    @property
    def letterhead(self) -> Letterhead: ...
    @property
    def release(self) -> ReleaseMode: ...


@dataclass(frozen=True, slots=True)
class LetterSpec:
    """One letter to print: everything the texts and the layout need, nothing they look up.

    ``languages`` has two entries for a bilingual letter (Brussels, language unknown); the
    address is written in the first.
    """

    reference: str  # printed on the letter and logged; says nothing about the person
    municipality_nis: str
    document_kind: DocumentKind
    stage: str
    stage_due_on: date
    is_final_stage: bool
    expires_on: date
    letter_date: date
    languages: tuple[Language, ...]
    given_names: str
    family_name: str
    to_parents: bool
    address_lines: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}"


@dataclass(frozen=True, slots=True)
class LetterFacts:
    """A letter decision with what printing it needs, read again just before it is printed:
    ``document`` for the re-check of the skip reasons (a death or a move since the decision),
    the rest for the letter itself."""

    decision_id: int
    document: DocumentFacts
    document_number: str
    stage: str
    languages: tuple[Language, ...]
    given_names: str
    family_name: str
    born_on: date | None
    address: PostalAddress | None  # None: no usable address (the re-check skips the letter)


def letter_spec(
    facts: LetterFacts,
    policy: ReminderPolicy | Campaign,
    *,
    reference: str,
    municipality_nis: str,
    letter_date: date,
    country_name: str | None,
) -> LetterSpec:
    """The letter for a decision that passed the re-check (so it has an address, and an
    expiry date unless a campaign gives one); ``country_name`` names a foreign address's
    country in the letter's language. ``policy`` is the reminder policy the decision was
    taken under, or the campaign whose letter it is."""
    address = facts.address
    if isinstance(policy, Campaign):
        # A campaign sends one letter, on the day its wave was decided; a document without
        # an expiry date (a paper licence) is valid until the campaign's valid_until.
        expires_on: date | None = policy.document_deadline(facts.document.expires_on)
        stage_due_on, is_final = letter_date, True
    else:
        expires_on = facts.document.expires_on
        stage_due_on, is_final = _stage_timing(facts, policy, expires_on)
    if expires_on is None or address is None:
        raise ValueError(f"decision {facts.decision_id} has no expiry date or no address")
    language = facts.languages[0]
    to_parents = writes_to_parents(facts.document.kind, facts.born_on, letter_date)
    names = recipient_lines(facts.given_names, facts.family_name, language, to_parents=to_parents)
    return LetterSpec(
        reference=reference,
        municipality_nis=municipality_nis,
        document_kind=facts.document.kind,
        stage=facts.stage,
        stage_due_on=stage_due_on,
        is_final_stage=is_final,
        expires_on=expires_on,
        letter_date=letter_date,
        languages=facts.languages,
        given_names=facts.given_names,
        family_name=facts.family_name,
        to_parents=to_parents,
        address_lines=address_block(names, address, language, country_name=country_name),
    )


def _stage_timing(
    facts: LetterFacts, policy: ReminderPolicy, expires_on: date | None
) -> tuple[date, bool]:
    """When a reminder's stage fell due, and whether it is the policy's last."""
    if expires_on is None:
        raise ValueError(f"decision {facts.decision_id} has no expiry date or no address")
    stages = [stage.name for stage in policy.stages]
    if facts.stage not in stages:
        raise ValueError(f"the {policy.kind} policy has no stage {facts.stage!r}")
    index = stages.index(facts.stage)
    return policy.due_dates(expires_on)[index], index == len(policy.stages) - 1


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of a letter's body; ``bullet`` paragraphs are items of a list."""

    text: str
    bullet: bool = False


@dataclass(frozen=True, slots=True)
class LetterText:
    """A letter's text in one language, as its template wrote it."""

    language: Language
    subject: str
    salutation: str
    body: tuple[Paragraph, ...]
    closing: tuple[str, ...]


def is_minor(born_on: date | None, on: date) -> bool:
    """Whether someone born on ``born_on`` is under 18 on ``on``; unknown births are adults
    (a national number with month 00 has no usable birth date, domain.md §7.3)."""
    if born_on is None:
        return False
    had_birthday = (on.month, on.day) >= (born_on.month, born_on.day)
    return on.year - born_on.year - (0 if had_birthday else 1) < ADULT_AGE


def writes_to_parents(kind: DocumentKind, born_on: date | None, on: date) -> bool:
    """Kids-IDs always, other documents while the holder is a minor (domain.md §2.3, §8.7)."""
    return kind is DocumentKind.KIDS_ID or is_minor(born_on, on)


def recipient_lines(
    given_names: str, family_name: str, language: Language, *, to_parents: bool
) -> tuple[str, ...]:
    """The name line(s) of the address block; first names become initials only when the line
    would exceed 40 characters, and the family name is never abbreviated (bpost)."""
    name = _clean(f"{given_names} {family_name}")
    if len(name) > MAX_LINE_CHARACTERS:
        initials = " ".join(f"{part[0]}." for part in given_names.split() if part)
        name = _clean(f"{initials} {family_name}")
    return (TO_PARENTS[language], name) if to_parents else (name,)


def address_block(
    names: Sequence[str], address: PostalAddress, language: Language, *, country_name: str | None
) -> tuple[str, ...]:
    """The lines in the envelope's window, in bpost's order; ``country_name`` (in the letter's
    language) is printed in capitals on foreign addresses only, never "BELGIQUE"."""
    street = _clean(" ".join(part for part in (address.street, address.house_number) if part))
    if address.box:
        street = f"{street} {BOX_WORDS[language]} {_clean(address.box)}"
    if address.is_foreign:
        place = _clean(" ".join(part for part in (address.postal_code, address.locality) if part))
        country = (country_name or address.country).upper()
        return (*names, street, place, country)
    return (*names, street, _clean(f"{address.postal_code} {address.locality.upper()}"))


def parsed_body(text: str) -> tuple[Paragraph, ...]:
    """A template's body: paragraphs split by empty lines, lines joined with a space, and a
    line starting with "- " is a list item.

    >>> parsed_body("Your card\\nexpires.\\n\\n- bring a photo\\n- bring the card\\n")
    (Paragraph(text='Your card expires.', bullet=False), \
Paragraph(text='bring a photo', bullet=True), Paragraph(text='bring the card', bullet=True))
    """
    paragraphs: list[Paragraph] = []
    lines: list[str] = []

    def flush() -> None:
        if lines:
            paragraphs.append(Paragraph(" ".join(lines)))
            lines.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if "  " in line or "\t" in line:  # the regular expression only where it is needed
            line = _SPACES.sub(" ", line)
        if not line:
            flush()
        elif line.startswith("- "):
            flush()
            paragraphs.append(Paragraph(line[2:].strip(), bullet=True))
        elif paragraphs and paragraphs[-1].bullet and not lines and raw[:1].isspace():
            last = paragraphs.pop()  # an indented line continues the list item above it
            paragraphs.append(Paragraph(f"{last.text} {line}", bullet=True))
        else:
            lines.append(line)
    flush()
    return tuple(paragraphs)


def one_line(text: str) -> str:
    """Text on one line with single spaces; no-break spaces are kept."""
    return _SPACES.sub(" ", text).strip()


def _clean(text: str) -> str:
    """One line of an address: no characters bpost rejects, no double spaces."""
    return _SPACES.sub(" ", _FORBIDDEN.sub(" ", text)).strip()


@dataclass(frozen=True, slots=True)
class PrintedLetter:
    """One letter as placed in a volume: a manifest row, and what the log keeps of it."""

    decision_id: int
    reference: str
    document_kind: str
    document_number: str
    stage: str
    language: str
    postal_code: str
    first_page: int
    page_count: int
    templates: str
    template_sha256: str
    address_sha256: str


@dataclass(frozen=True, slots=True)
class WrittenVolume:
    """A print volume as written (under a staged name until the run is committed)."""

    path: Path  # the final name
    municipality_nis: str
    sequence: int
    language: str | None
    sha256: str
    pages: int
    letters: tuple[PrintedLetter, ...]


def address_sha256(lines: Sequence[str]) -> str:
    """The hash the log keeps of the address a letter was sent to, not the address itself."""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
