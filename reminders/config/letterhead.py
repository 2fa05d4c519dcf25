"""A municipality's ``letterhead``: its logo or coat of arms (SVG or PNG) and up to three
contact blocks (e.g. the counter's opening hours) printed on its letters."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

from reminders.config.table import Table
from reminders.domain.letters import (
    MAX_CONTACT_BLOCKS,
    MAX_CONTACT_LINES,
    ContactBlock,
    Letterhead,
    Logo,
)
from reminders.domain.model import Language

_MAX_LOGO_BYTES = 2_000_000  # a volume embeds it once, but every run reads it
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_LINE_CHARACTERS = 60  # a third of the text width at 7 pt; the layout checks the width


def letterhead_of(table: Table, base: Path, languages: tuple[Language, ...]) -> Letterhead:
    """The ``letterhead`` of a municipality's entry; none: no logo, no contact blocks."""
    letterhead = table.table("letterhead", required=False)
    if letterhead is None:
        return Letterhead()
    logo = _logo(letterhead, base)
    contacts = _contacts(letterhead, languages)
    letterhead.finish()
    return Letterhead(logo, contacts)


def _logo(table: Table, base: Path) -> Logo | None:
    name = table.text("logo", required=False)
    height = table.number("logo_height_mm", minimum=10, maximum=30)
    if name is None:
        if height is not None:
            raise table.error("logo_height_mm", "needs a logo")
        return None
    path = base / name
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("svg", "png"):
        raise table.error("logo", f"expected an .svg or .png file, got {name!r}")
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise table.error("logo", f"no such file: {path}") from err
    except OSError as err:
        raise table.error("logo", f"cannot read {path}: {err.strerror}") from err
    if len(data) > _MAX_LOGO_BYTES:
        raise table.error("logo", f"{path} is larger than 2 MB")
    if kind == "png" and not data.startswith(_PNG_SIGNATURE):
        raise table.error("logo", f"{path} is not a PNG image")
    if kind == "svg" and b"<svg" not in data[:4096]:
        raise table.error("logo", f"{path} is not an SVG image")
    return Logo(path.name, data, kind, 20.0 if height is None else height)


def _contacts(table: Table, languages: tuple[Language, ...]) -> tuple[ContactBlock, ...]:
    entries = table.array("contacts", required=False) or []
    blocks: list[ContactBlock] = []
    for index, entry in enumerate(entries):
        block = Table(table.path, f"{table.key}.contacts[{index}]", entry)
        blocks.append(_contact(block, languages))
        block.finish()
    letterhead = Letterhead(contacts=tuple(blocks))
    # Every letter the municipality may write: each language alone, and both together.
    for count in (1, 2):
        for chosen in combinations(languages, count):
            shown = letterhead.contacts_for(chosen)
            if len(shown) > MAX_CONTACT_BLOCKS:
                label = "+".join(language.value for language in chosen)
                raise table.error(
                    "contacts",
                    f"a letter in {label} would show {len(shown)} contact blocks; at most "
                    f"{MAX_CONTACT_BLOCKS} fit side by side",
                )
    return tuple(blocks)


def _contact(block: Table, languages: tuple[Language, ...]) -> ContactBlock:
    title = block.text("title", required=False)
    lines: list[Any] = block.array("lines") or []
    if not 1 <= len(lines) <= MAX_CONTACT_LINES:
        raise block.error("lines", f"expected 1 to {MAX_CONTACT_LINES} lines")
    for line in [title, *lines]:
        if line is None:
            continue
        if not isinstance(line, str) or not line.strip():
            raise block.error("lines", f"expected lines of text, got {line!r}")
        if len(line) > _MAX_LINE_CHARACTERS:
            raise block.error(
                "lines", f"at most {_MAX_LINE_CHARACTERS} characters a line, got {line!r}"
            )
    value = block.text("language", required=False)
    language = None
    if value is not None:
        if value not in [language.value for language in languages]:
            official = ", ".join(language.value for language in languages)
            raise block.error("language", f"expected one of the municipality's ({official})")
        language = Language(value)
    return ContactBlock(tuple(line.strip() for line in lines), title, language)
