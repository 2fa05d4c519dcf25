"""Reading the letters' PDFs back in tests: words and their positions in millimetres from the
page's top-left corner (pdfplumber), page texts (PDFium: fast enough for whole volumes), and
the address window as a rectangle."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pdfplumber
import pypdfium2  # type: ignore[import-untyped]
from pdfplumber.pdf import PDF
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from reminders.config import AddressWindow

MM = 72 / 25.4  # points per millimetre
A4_WIDTH_MM, A4_HEIGHT_MM = 210.0, 297.0


@dataclass(frozen=True, slots=True)
class Word:
    """A word as drawn: its text and box, in mm from the page's left and top edges."""

    text: str
    left: float
    right: float
    top: float
    bottom: float


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle on the page, in mm from the left and top edges."""

    left: float
    top: float
    width: float
    height: float

    @classmethod
    def of(cls, window: AddressWindow) -> Box:
        return cls(window.left_mm, window.top_mm, window.width_mm, window.height_mm)

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def contains(self, word: Word) -> bool:
        return (
            word.left >= self.left
            and word.right <= self.right
            and word.top >= self.top
            and word.bottom <= self.bottom
        )

    def touches(self, word: Word) -> bool:
        """Whether any part of the word lies inside the rectangle."""
        return (
            word.left < self.right
            and word.right > self.left
            and word.top < self.bottom
            and word.bottom > self.top
        )


def _opened(pdf: bytes | Path) -> PDF:
    return pdfplumber.open(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)


def page_words(pdf: bytes | Path, page: int = 0) -> list[Word]:
    """The words of a page in the order they are drawn (so that lines drawn over each other
    stay apart instead of being merged into one garbled line)."""
    with _opened(pdf) as document:
        found = document.pages[page].extract_words(use_text_flow=True)
    return [
        Word(
            str(word["text"]),
            float(word["x0"]) / MM,
            float(word["x1"]) / MM,
            float(word["top"]) / MM,
            float(word["bottom"]) / MM,
        )
        for word in found
    ]


def page_texts(pdf: bytes | Path) -> list[str]:
    """The text of each page, line by line in the order it is drawn (PDFium)."""
    document = pypdfium2.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    try:
        texts = []
        for page in document:
            text_page = page.get_textpage()
            texts.append(str(text_page.get_text_range()).replace("\r\n", "\n"))
            text_page.close()
            page.close()
        return texts
    finally:
        document.close()


def flat(text: str) -> str:
    """The text with every run of white space as one space, for phrases across lines."""
    return " ".join(text.split())


def page_count(pdf: bytes | Path) -> int:
    document = pypdfium2.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    try:
        return len(document)
    finally:
        document.close()


def line_words(words: Sequence[Word], line: str) -> list[Word]:
    """The words of the first place where ``line`` is drawn, word for word; AssertionError
    when it is drawn nowhere."""
    wanted = line.split()
    texts = [word.text for word in words]
    for start in range(len(texts) - len(wanted) + 1):
        if texts[start : start + len(wanted)] == wanted:
            return list(words[start : start + len(wanted)])
    raise AssertionError(f"the line {line!r} is not on the page: {' '.join(texts)[:2000]}")


def page_fonts(pdf: bytes) -> list[DictionaryObject]:
    """The font dictionaries every page names in its resources."""
    fonts: list[DictionaryObject] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        named = cast(DictionaryObject, resources["/Font"].get_object())
        fonts.extend(cast(DictionaryObject, font.get_object()) for font in named.values())
    return fonts


def font_files(font: DictionaryObject) -> set[str]:
    """The font programs embedded for a font (its own or its descendants' descriptors)."""
    descendants = cast(Sequence[Any], font.get("/DescendantFonts", []))
    files: set[str] = set()
    for candidate in [font, *(cast(DictionaryObject, d.get_object()) for d in descendants)]:
        descriptor = candidate.get("/FontDescriptor")
        if descriptor is not None:
            keys = cast(DictionaryObject, descriptor.get_object()).keys()
            files |= {str(key) for key in keys if str(key).startswith("/FontFile")}
    return files
