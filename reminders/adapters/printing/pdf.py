"""Window-envelope letters on A4 with ReportLab's canvas (domain.md §4.5, house-style.md §2).

The page follows DIN 5008 form B: letterhead above 45 mm (hidden in the envelope), the address
field where the configured window shows it (default 20 mm from the left, 45 mm from the top,
85 x 45 mm), the information block to its right, the subject at 98 mm, fold marks at 105 and
210 mm and a punch mark at 148.5 mm. The address is set at 11 pt in a sans-serif font and only
the municipality's name and department are printed above it: bpost wants nothing that looks like
an address or a postal code in the window besides the recipient's (domain.md §4.1).

Text is laid out here rather than with platypus: each letter is a handful of paragraphs, and a
greedy line breaker with word widths cached across letters is several times faster. Pages are
computed first, so the footer can say "page 1/2". Lines are encoded once per volume (most recur
in every letter of a volume) and written as PDF text operators. What that needs of ReportLab's
private API, and the canvas that writes pages faster, are in printing/reportlab_fastpath.py,
which falls back to ReportLab's public API on a release it was not checked against. Canvases
are invariant (no timestamp, no random id) and fonts are embedded from the package: the same
letters give the same bytes.

Most letters share their text with many others (the templates' output depends on the kind, the
stage, the dates and the municipality; the salutation, a single line, is the only part that
names the holder in most letters). So a letter's laid-out pages are kept, keyed by its texts
without the salutations, and shared by the letters with the same texts; their salutations are
put in at drawing time. A volume keeps the PDF operators of such pages too. Every cache is
bounded, so memory does not grow with the run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import BinaryIO

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from reminders.adapters.printing.letter_code import code_operators, qr_symbol
from reminders.adapters.printing.letterhead import (
    CONTACT_LEADING_MM,
    CONTACT_SIZE,
    CONTACT_TOP_MM,
    RIGHT_EDGE_MM,
    Box,
    logo_art,
    logo_box,
)
from reminders.adapters.printing.reportlab_fastpath import (
    Route,
    chosen_route,
    line_encoder,
    new_canvas,
    pictures,
)
from reminders.adapters.printing.text import long_date
from reminders.config import AddressWindow
from reminders.domain.letters import (
    ContactBlock,
    Letterhead,
    LetterMunicipality,
    LetterSpec,
    LetterText,
    Paragraph,
)
from reminders.domain.model import Language
from reminders.errors import RemindersError

rl_config.useA85 = 0  # binary streams: ASCII85 costs time and a quarter more bytes

MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = A4
REGULAR, BOLD = "LetterSans", "LetterSans-Bold"
_FONTS = Path(__file__).resolve().parents[2] / "fonts"
# DejaVu Sans: a Verdana-like sans serif (bpost accepts Arial, Helvetica, Verdana) that has
# every letter of Belgian and European names (é ë ç ß Ø Ł ...). Embedded, so print shops need
# nothing installed.
_TRUETYPE = {
    name: TTFont(name, str(_FONTS / file))
    for name, file in ((REGULAR, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"))
}
for _font in _TRUETYPE.values():
    pdfmetrics.registerFont(_font)

LEFT_MARGIN_MM, INFO_LEFT_MM = 25, 125  # DIN 5008: text from 25 mm, information block at 125
LEFT_MARGIN, RIGHT_MARGIN = LEFT_MARGIN_MM * MM, 20 * MM
TEXT_WIDTH = PAGE_WIDTH - LEFT_MARGIN - RIGHT_MARGIN
BODY_SIZE, BODY_LEADING = 10.0, 14.0
SUBJECT_TOP = 98.5 * MM  # DIN 5008 B
FLOW_BOTTOM = 272 * MM  # below it: the footer
FIRST_FLOW_BOTTOM_WITH_CONTACTS = (CONTACT_TOP_MM - 2) * MM  # the contact blocks below it
NEXT_PAGE_TOP = 27 * MM
ADDRESS_SIZES = (11.0, 10.0, 9.0)  # bpost: 11-12 pt; smaller only when a line is too long
_LETTERHEAD_BOTTOM_MM = 34  # the letterhead's last line sits at 31 mm from the top
# The letter's reference as a QR code (issue 21), for scanning the envelopes bpost brings
# back: in the right margin at the foot of the first page, its right edge 6 mm from the
# sheet's edge (printers leave 4-5 mm white). Far from the address window, from bpost's clear
# zones beside and below it (domain.md §4.5) on any window stock config.toml allows (windows
# end above 95 mm), from the fold lines, and from the letterhead and a logo at the top.
CODE_RIGHT_MM = 204.0
REFERENCE_CODE_MODULE_MM = 0.4  # 21 modules (25 for a reprint's -Rn): 8.4-10 mm square
REFERENCE_CODE_BOTTOM_MM = 281.0  # from the top; the footer's line sits at 285 mm
# The municipality's appointment page as a QR code (sender.appointment_qr), in the same
# margin beside the text, below the second fold and 30 mm below any window config allows.
APPOINTMENT_CODE_MODULE_MM = 0.33  # at most 37 modules (84 characters): 12.2 mm
APPOINTMENT_CODE_TOP_MM = 135.0

LABELS: dict[Language, dict[str, str]] = {
    Language.NL: {"date": "Datum", "reference": "Referentie", "phone": "Telefoon",
                  "email": "E-mail", "page": "pagina"},
    Language.FR: {"date": "Date", "reference": "Référence", "phone": "Téléphone",
                  "email": "Courriel", "page": "page"},
    Language.DE: {"date": "Datum", "reference": "Referenz", "phone": "Telefon",
                  "email": "E-Mail", "page": "Seite"},
}  # fmt: skip


@lru_cache(maxsize=256)
def _label(languages: tuple[Language, ...], key: str) -> str:
    """A label in the letter's language(s): "Date / Datum" on a bilingual letter."""
    return " / ".join(dict.fromkeys(LABELS[language][key] for language in languages))


class _Widths:
    """String widths per font and size, cached across letters: most words recur."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, float], dict[str, float]] = {}

    def of(self, text: str, font: str, size: float) -> float:
        cache = self._cache.setdefault((font, size), {})
        width = cache.get(text)
        if width is None:
            width = cache[text] = pdfmetrics.stringWidth(text, font, size)
            if len(cache) > 50_000:
                cache.clear()  # bounded: names and numbers are unique words
        return width


@dataclass(frozen=True, slots=True)
class _Line:
    """A laid-out line; shared by every letter whose text has it, so never changed."""

    text: str
    font: str
    size: float
    indent: float = 0.0
    space_before: float = 0.0
    marker: str = ""  # a bullet, drawn in the indent
    rule: bool = False  # a thin line between the languages of a bilingual letter
    salutation: int = -1  # >= 0: the salutation of the letter's language number n, not ``text``


@dataclass(frozen=True, slots=True)
class _Block:
    """Lines that belong together: a paragraph, a heading, a sign-off, a separator."""

    lines: tuple[_Line, ...]
    keep_with_next: bool = False  # a heading: never last on a page
    section_start: bool = False  # the separator before a bilingual letter's second language


_CONTACT_SMALLEST = 6.0  # pt: contact lines shrink to this before they are refused
_KEEP_TOGETHER = 4  # paragraphs of up to this many lines are never split over two pages


def _block(size: float, lines: Sequence[str]) -> float:
    """The height of an address block from its first baseline to its last."""
    return size * 1.2 * (len(lines) - 1)


def _advance(line: _Line, *, at_top: bool = False) -> float:
    """How far a line moves down the page; its space before is dropped at the top of one."""
    return (0 if at_top else line.space_before) + (0 if line.rule else BODY_LEADING)


def _height(lines: Sequence[_Line]) -> float:
    return sum(_advance(line) for line in lines)


@dataclass(slots=True)
class _Page:
    lines: list[tuple[float, _Line]] = field(default_factory=list)  # (baseline from top, line)


@dataclass(frozen=True, slots=True)
class PreparedLetter:
    """A letter's text laid out on pages, not yet drawn."""

    pages: tuple[_Page, ...]  # shared with the letters of the same texts: never changed
    salutations: tuple[str, ...]  # this letter's, one per language

    @property
    def page_count(self) -> int:
        return len(self.pages)


_LAYOUTS_KEPT = 256  # letters' pages kept, the least recently used dropped first
_WRAPS_KEPT = 8192  # wrapped paragraphs kept
_PAGES_KEPT = 2048  # a volume's pages kept as PDF operators
_Part = str | tuple[float, _Line]  # operators, or a salutation line at its baseline


class _PageText:
    """The text and the rules of one page as PDF operators."""

    def __init__(self, document: _DocumentOps) -> None:
        self._document = document
        self._ops: list[str] = []
        self._graphics: list[str] = []

    def line(self, x: float, y_from_top: float, text: str, font: str, size: float) -> None:
        if text:
            self._ops.append(self._document.op(x, y_from_top, text, font, size))

    def graphics(self, ops: Sequence[str]) -> None:
        self._graphics.extend(ops)

    def extend(self, ops: str) -> None:
        """Text operators made earlier (by `_DocumentOps.page_ops`)."""
        if ops:
            self._ops.append(ops)

    def right_aligned(
        self, right: float, y_from_top: float, text: str, font: str, size: float
    ) -> None:
        self.line(right - self._document.widths.of(text, font, size), y_from_top, text, font, size)

    def rule(self, x1: float, x2: float, y_from_top: float, width: float) -> None:
        self._graphics.append(_rule(x1, x2, y_from_top, width))

    def draw(self, canvas: Canvas) -> None:
        if self._graphics:
            canvas.addLiteral("\n".join(self._graphics))
        if self._ops:
            canvas.addLiteral(self._document.encoder.text_block(self._ops))


def _rule(x1: float, x2: float, y_from_top: float, width: float) -> str:
    y = PAGE_HEIGHT - y_from_top
    return f"{width:.2f} w {x1:.2f} {y:.2f} m {x2:.2f} {y:.2f} l S"


# Fold marks at 105 and 210 mm (DIN 676 B) and the punch mark at 148.5 mm.
_FOLD_MARKS = tuple(
    _rule(4 * MM, (4 + length) * MM, from_top * MM, 0.3)
    for from_top, length in ((105, 5), (148.5, 7), (210, 5))
)


class _DocumentOps:
    """Operators for one document, kept: lines, the parts many letters share (the letterhead,
    the date) and the text of laid-out pages, each made once by the route's line encoder."""

    def __init__(self, canvas: Canvas, widths: _Widths, route: Route) -> None:
        self.canvas, self.widths = canvas, widths
        self.encoder = line_encoder(route, canvas)
        self.pictures = pictures(route, canvas)  # the municipality's logo
        self._pages: dict[int, tuple[_Page, tuple[_Part, ...]]] = {}
        self._chunks: dict[Hashable, str] = {}

    def chunk(self, key: Hashable, make: Callable[[], str]) -> str:
        """Operators that many letters of the document have (the letterhead, the date), made
        once; ``key`` holds everything they depend on."""
        found = self._chunks.get(key)
        if found is None:
            if len(self._chunks) >= _PAGES_KEPT:
                self._chunks.clear()
            found = self._chunks[key] = make()
        return found

    def page_ops(self, page: _Page) -> tuple[_Part, ...]:
        """A laid-out page's lines as text operators: runs of lines, and the salutation lines
        between them, which each letter fills in. Kept per page object (held here, so its id
        is not reused): letters with the same texts share their pages."""
        found = self._pages.get(id(page))
        if found is not None and found[0] is page:
            return found[1]
        parts: list[_Part] = []
        ops: list[str] = []
        for y, line in page.lines:
            if line.rule:
                continue  # drawn as graphics
            if line.salutation >= 0:
                parts.append("\n".join(ops))
                parts.append((y, line))
                ops = []
                continue
            if line.marker:
                ops.append(self.op(LEFT_MARGIN + 1 * MM, y, line.marker, line.font, line.size))
            if line.text:
                ops.append(self.op(LEFT_MARGIN + line.indent, y, line.text, line.font, line.size))
        parts.append("\n".join(ops))
        if len(self._pages) >= _PAGES_KEPT:
            self._pages.clear()
        result = self._pages[id(page)] = (page, tuple(parts))
        return result[1]

    def op(self, x: float, y_from_top: float, text: str, font: str, size: float) -> str:
        return self.encoder.line(x, PAGE_HEIGHT - y_from_top, text, font, size)


class LetterLayout:
    """Draws letters (and volume cover sheets) on a canvas, one window-envelope stock."""

    def __init__(self, window: AddressWindow | None = None, *, route: Route | None = None) -> None:
        self.window = window = window or AddressWindow()
        self._widths = _Widths()
        # Through ReportLab's private API on a release that was checked, else its public one.
        self.route = route or chosen_route()
        self._document: _DocumentOps | None = None
        # The pages of letters' texts without their salutations, least recently used first.
        self._layouts: dict[tuple[object, ...], tuple[_Page, ...]] = {}
        self._logo_boxes: dict[tuple[object, ...], Box | None] = {}
        self._wraps: dict[tuple[str, str, float, float, float, float, str], tuple[_Line, ...]] = {}
        # The letterhead and the date/reference block go where the window does not show them:
        # the letterhead top left unless a high window (DIN 676 form A) reaches it, the
        # block right of a left window, left of a right-hand one.
        left, right = window.left_mm, window.left_mm + window.width_mm
        reaches_letterhead = window.top_mm < _LETTERHEAD_BOTTOM_MM and left < INFO_LEFT_MM
        self._letterhead_left = (INFO_LEFT_MM if reaches_letterhead else LEFT_MARGIN_MM) * MM
        self._info_left = (INFO_LEFT_MM if right <= INFO_LEFT_MM - 5 else LEFT_MARGIN_MM) * MM

    def canvas(self, target: str | BinaryIO, *, title: str) -> Canvas:
        """A canvas whose bytes depend on what is drawn only (no date, no random id)."""
        canvas = new_canvas(
            self.route,
            target,
            pagesize=A4,
            invariant=True,
            pageCompression=1,
            initialFontName=REGULAR,  # else every page names Helvetica, which is not embedded
            initialFontSize=BODY_SIZE,
        )
        canvas.setTitle(title)
        canvas.setCreator("reminders")
        canvas.setAuthor("")
        canvas.setSubject("")
        return canvas

    def _page(self, canvas: Canvas) -> _PageText:
        if self._document is None or self._document.canvas is not canvas:
            self._document = _DocumentOps(canvas, self._widths, self.route)
        return _PageText(self._document)

    def prepared(self, texts: Sequence[LetterText], *, contacts: bool = False) -> PreparedLetter:
        """The letter's lines laid out on pages, ready to draw (so a volume knows its page
        numbers before it draws its cover sheet); with ``contacts``, the first page's text
        leaves room for the municipality's contact blocks."""
        salutations = tuple(text.salutation for text in texts)
        # A salutation is one line whatever it says: the pages do not depend on it. (Keyed by
        # value, so texts made in another process find their pages too.)
        key = (contacts, *((t.subject, t.body, t.closing) for t in texts))
        layouts = self._layouts
        pages = layouts.pop(key, None)
        if pages is None:
            first_bottom = FIRST_FLOW_BOTTOM_WITH_CONTACTS if contacts else FLOW_BOTTOM
            pages = tuple(self._paginated(self._flow(texts), first_bottom))
            if len(layouts) >= _LAYOUTS_KEPT:
                # The least recently used: a letter to the parents naming the child in its
                # body is laid out once; the texts most letters share stay.
                del layouts[next(iter(layouts))]
        layouts[key] = pages  # last: the most recently used
        return PreparedLetter(pages, salutations)

    def draw_letter(
        self,
        canvas: Canvas,
        spec: LetterSpec,
        letter: PreparedLetter,
        municipality: LetterMunicipality,
    ) -> None:
        """Draws one prepared letter from a new page on."""
        pages = letter.pages
        for number, lines in enumerate(pages, start=1):
            page = self._page(canvas)
            if number == 1:
                self._head(page, spec, municipality)
                self._logo(canvas, municipality)
            for y, line in lines.lines:
                if line.rule:
                    page.rule(LEFT_MARGIN, PAGE_WIDTH - RIGHT_MARGIN, y, 0.4)
            for part in self._current_ops().page_ops(lines):
                if isinstance(part, str):
                    page.extend(part)
                else:  # this letter's salutation, where its line is
                    y, line = part
                    text = letter.salutations[line.salutation]
                    page.line(LEFT_MARGIN + line.indent, y, text, line.font, line.size)
            self._footer(page, spec, number, len(pages))
            page.draw(canvas)
            canvas.showPage()

    def draw_blank(self, canvas: Canvas) -> None:
        """The empty back of a page in a duplex volume, so the next letter starts on a recto."""
        canvas.showPage()

    def draw_cover(self, canvas: Canvas, lines: Sequence[tuple[str, str]], title: str) -> None:
        """A volume's cover sheet: a title and label/value lines for the print room."""
        page = self._page(canvas)
        page.line(LEFT_MARGIN, 40 * MM, title, BOLD, 18)
        for number, (label, value) in enumerate(lines):
            y = (55 + 7 * number) * MM
            page.line(LEFT_MARGIN, y, label, REGULAR, 11)
            page.line(LEFT_MARGIN + 55 * MM, y, value, BOLD, 11)
        page.draw(canvas)
        canvas.showPage()

    # -- the flowing part: subject, salutation, body, closing --------------------------------

    def _flow(self, texts: Sequence[LetterText]) -> list[_Block]:
        blocks: list[_Block] = []
        for index, text in enumerate(texts):
            if index:  # the next language of a bilingual letter
                rule = _Line("", REGULAR, BODY_SIZE, space_before=10, rule=True)
                blocks.append(_Block((rule,), section_start=True))
            # The first line of the letter has no space before it.
            heading = self._wrapped(
                text.subject, BOLD, BODY_SIZE + 1, TEXT_WIDTH, 0, 12 if index else 0
            )
            salutation = _Line("", REGULAR, BODY_SIZE, space_before=14, salutation=index)
            blocks.append(_Block((*heading, salutation), keep_with_next=True))
            blocks.extend(_Block(self._paragraph(paragraph)) for paragraph in text.body)
            closing = tuple(
                # the sign-off stands apart from the body
                _Line(line, REGULAR, BODY_SIZE, space_before=0.0 if number else 14.0)
                for number, line in enumerate(text.closing)
            )
            if closing:
                blocks.append(_Block(closing))
        return blocks

    def _paragraph(self, paragraph: Paragraph) -> tuple[_Line, ...]:
        if not paragraph.bullet:
            return self._wrapped(paragraph.text, REGULAR, BODY_SIZE, TEXT_WIDTH, 0, 7)
        indent = 5 * MM
        return self._wrapped(
            paragraph.text, REGULAR, BODY_SIZE, TEXT_WIDTH - indent, indent, 3, marker="•"
        )

    def _wrapped(
        self,
        text: str,
        font: str,
        size: float,
        width: float,
        indent: float,
        space: float,
        *,
        marker: str = "",
    ) -> tuple[_Line, ...]:
        """Greedy line breaking on spaces; a word longer than the line gets a line of its own.
        Kept: most paragraphs recur in thousands of letters."""
        key = (text, font, size, width, indent, space, marker)
        found = self._wraps.get(key)
        if found is not None:
            return found
        widths, space_width = self._widths, self._widths.of(" ", font, size)
        texts: list[str] = []
        current: list[str] = []
        used = 0.0
        for word in filter(None, text.split(" ")):  # not str.split(): it breaks at no-break spaces
            word_width = widths.of(word, font, size)
            if current and used + space_width + word_width > width:
                texts.append(" ".join(current))
                current, used = [word], word_width
            else:
                used += word_width + (space_width if current else 0.0)
                current.append(word)
        texts.append(" ".join(current))
        lines = tuple(
            _Line(
                line,
                font,
                size,
                indent,
                space if number == 0 else 0.0,
                marker if number == 0 else "",
            )
            for number, line in enumerate(texts)
        )
        if len(self._wraps) >= _WRAPS_KEPT:
            self._wraps.clear()
        self._wraps[key] = lines
        return lines

    def _paginated(
        self, blocks: Sequence[_Block], first_bottom: float = FLOW_BOTTOM
    ) -> list[_Page]:
        """Lines on pages. A short paragraph, a heading with what follows it and, on bilingual
        letters, a whole language section move to the next page rather than split. The first
        page's text ends at ``first_bottom`` (higher when contact blocks sit below it)."""
        pages = [_Page()]
        y = SUBJECT_TOP
        bottom = first_bottom
        room = FLOW_BOTTOM - NEXT_PAGE_TOP  # what an empty next page holds

        def new_page() -> None:
            nonlocal y, bottom
            pages.append(_Page())
            y, bottom = NEXT_PAGE_TOP, FLOW_BOTTOM

        for index, block in enumerate(blocks):
            if block.section_start:
                section = list(itertools.takewhile(lambda b: not b.section_start,
                                                   blocks[index + 1 :]))  # fmt: skip
                needed = sum(_height(b.lines) for b in section)
                if y + _height(block.lines) + needed > bottom and needed <= room:
                    new_page()
                    continue  # a separator at the top of a page separates nothing
            else:
                needed = _height(block.lines)
                if block.keep_with_next and index + 1 < len(blocks):
                    needed += _height(blocks[index + 1].lines[:2])
                short = len(block.lines) <= _KEEP_TOGETHER or block.keep_with_next
                if y + needed > bottom and short and y > NEXT_PAGE_TOP and needed <= room:
                    new_page()
            for line in block.lines:
                advance = _advance(line, at_top=y == NEXT_PAGE_TOP)
                if y + advance > bottom:
                    new_page()
                    advance = _advance(line, at_top=True)
                y += advance
                pages[-1].lines.append((y, line))
        return pages

    # -- the fixed part of the first page ----------------------------------------------------

    def _head(self, page: _PageText, spec: LetterSpec, municipality: LetterMunicipality) -> None:
        left = self._letterhead_left
        texts = self._letterhead_texts(municipality)

        def letterhead() -> str:
            op = self._current_ops().op
            return "\n".join(
                op(left, 17 * MM, texts[0], BOLD, 13) if number == 0
                else op(left, 23 * MM + (number - 1) * 10.5, line, REGULAR, 8.5)
                for number, line in enumerate(texts) if line
            )  # fmt: skip

        page.extend(self._current_ops().chunk(("letterhead", left, texts), letterhead))
        self._window(page, spec, municipality)
        self._info(page, spec, municipality)
        blocks = municipality.letterhead.contacts_for(spec.languages)
        if blocks:
            page.extend(self._current_ops().chunk(("contacts", blocks), partial(
                self._contacts, blocks)))  # fmt: skip
        page.graphics(_FOLD_MARKS)
        self._codes(page, spec, municipality)

    def _codes(self, page: _PageText, spec: LetterSpec, municipality: LetterMunicipality) -> None:
        """The reference's QR code, and the appointment page's when the municipality wants it
        (the same for every letter: made once per document)."""
        symbol = qr_symbol(spec.reference)
        width = symbol.size * REFERENCE_CODE_MODULE_MM * MM
        bottom = PAGE_HEIGHT - REFERENCE_CODE_BOTTOM_MM * MM
        page.graphics((code_operators(symbol, left=CODE_RIGHT_MM * MM - width, bottom=bottom,
                                      width=width),))  # fmt: skip
        url = municipality.sender.appointment_url
        if url and municipality.sender.appointment_qr:

            def appointment() -> str:
                code = qr_symbol(url)
                side = code.size * APPOINTMENT_CODE_MODULE_MM * MM
                top = PAGE_HEIGHT - APPOINTMENT_CODE_TOP_MM * MM
                return code_operators(code, left=CODE_RIGHT_MM * MM - side, bottom=top - side,
                                      width=side)  # fmt: skip

            page.graphics((self._current_ops().chunk(("appointment", url), appointment),))

    # -- the municipality's logo and contact blocks ------------------------------------------

    def _letterhead_texts(self, municipality: LetterMunicipality) -> tuple[str, ...]:
        sender = municipality.sender
        return (
            municipality.name,
            sender.department,
            f"{sender.street} {sender.house_number}",
            f"{sender.postal_code} {sender.locality}",
        )

    def logo_box(self, municipality: LetterMunicipality) -> Box | None:
        """Where this window stock puts the municipality's logo (None: no logo, or no room;
        `letterhead_problems` tells which)."""
        logo = municipality.letterhead.logo
        if logo is None:
            return None
        texts = self._letterhead_texts(municipality)
        key = (logo, texts)
        if key not in self._logo_boxes:
            widths = self._widths
            text_width = max(
                widths.of(line, BOLD, 13) if number == 0 else widths.of(line, REGULAR, 8.5)
                for number, line in enumerate(texts)
            )
            left_mm = self._letterhead_left / MM
            info_mm = self._info_left / MM
            taken = (
                Box(left_mm, 11, left_mm + text_width / MM, 33),  # the letterhead's text
                Box(info_mm, self.window.top_mm + 4, RIGHT_EDGE_MM, self.window.top_mm + 42),
            )
            art = logo_art(logo)
            self._logo_boxes[key] = logo_box(self.window, taken, art.aspect, logo.height_mm)
        return self._logo_boxes[key]

    def letterhead_problems(self, municipality: LetterMunicipality) -> list[str]:
        """What keeps the municipality's logo or contact blocks off its letters with this
        window stock: an unreadable logo, no room for it, a line too wide for its column."""
        letterhead: Letterhead = municipality.letterhead
        problems = []
        if letterhead.logo is not None:
            try:
                if self.logo_box(municipality) is None:
                    problems.append(
                        f"logo: no room for {letterhead.logo.file_name} at least 10 mm tall "
                        "clear of the window and the letterhead's text; make the window lower "
                        "or the logo wider"
                    )
            except RemindersError as err:
                problems.append(f"logo: {err.message}")
        width = self._contact_width()
        for block in letterhead.contacts:
            for line in (block.title, *block.lines):
                if line and self._widths.of(line, BOLD, _CONTACT_SMALLEST) > width:
                    problems.append(f"contacts: {line!r} is too wide for a contact block")
        return problems

    def _logo(self, canvas: Canvas, municipality: LetterMunicipality) -> None:
        box = self.logo_box(municipality)
        logo = municipality.letterhead.logo
        if box is not None and logo is not None:
            logo_art(logo).draw(self._current_ops().pictures, box)

    def _contact_width(self) -> float:
        return TEXT_WIDTH / 3 - 4 * MM

    def _contacts(self, blocks: Sequence[ContactBlock]) -> str:
        """The contact blocks side by side, each its title (bold) and lines, at 7 pt or
        smaller where a line would not fit its column."""
        document, width = self._current_ops(), self._contact_width()
        ops = []
        for column, block in enumerate(blocks):
            x = LEFT_MARGIN + column * TEXT_WIDTH / 3
            lines = [(block.title, BOLD)] if block.title else []
            lines += [(line, REGULAR) for line in block.lines]
            size = next(
                (
                    size
                    for size in (CONTACT_SIZE, 6.5, _CONTACT_SMALLEST)
                    if all(self._widths.of(text, font, size) <= width for text, font in lines)
                ),
                _CONTACT_SMALLEST,
            )
            for number, (text, font) in enumerate(lines, start=1):
                y = (CONTACT_TOP_MM + number * CONTACT_LEADING_MM) * MM
                ops.append(document.op(x, y, text, font, size))
        return "\n".join(ops)

    def _current_ops(self) -> _DocumentOps:
        assert self._document is not None  # noqa: S101 - made by _page before anything is drawn
        return self._document

    def _window(self, page: _PageText, spec: LetterSpec, municipality: LetterMunicipality) -> None:
        window, widths = self.window, self._widths
        left = (window.left_mm + 5) * MM  # DIN 5008: the text sits 5 mm inside the field
        usable = (window.width_mm - 10) * MM
        sender_line = f"{municipality.name} · {municipality.sender.department}"
        sender_size = 7.0
        while widths.of(sender_line, REGULAR, sender_size) > usable and sender_size > 5:
            sender_size -= 0.5
        lines = spec.address_lines
        fitting: list[float] = []
        for size in ADDRESS_SIZES:  # largest first
            # A line narrower than the field at one size is narrower at every smaller one.
            if fitting or max(widths.of(line, REGULAR, size) for line in lines) <= usable:
                fitting.append(size)
        fitting = fitting or [ADDRESS_SIZES[-1]]
        top, bottom = window.top_mm * MM, (window.top_mm + window.height_mm - 3) * MM
        below_sender = top + 7 * MM  # the sender line's baseline sits 5 mm into the window
        # The largest size whose lines fit under the sender line; in a shallow window the
        # sender line gives way, never the address.
        size = next(
            (size for size in fitting if below_sender + size + _block(size, lines) <= bottom),
            fitting[-1],
        )
        with_sender = below_sender + size + _block(size, lines) <= bottom
        if with_sender:
            page.line(left, top + 5 * MM, sender_line, REGULAR, sender_size)
        leading = size * 1.2
        # DIN 5008: the address zone starts 17.7 mm into the field; more lines start higher.
        zone_top = top + min(17.7, window.height_mm * 0.39) * MM
        highest = (below_sender if with_sender else top + 3 * MM) + size
        y = max(highest, min(zone_top + size, bottom - leading * (len(lines) - 1)))
        for line in lines:
            page.line(left, y, line, REGULAR, size)
            y += leading

    def _info(self, page: _PageText, spec: LetterSpec, municipality: LetterMunicipality) -> None:
        languages, sender, x = spec.languages, municipality.sender, self._info_left
        y = (self.window.top_mm + 8) * MM
        document = self._current_ops()

        def rows(first: float, pairs: Sequence[tuple[str, str]]) -> str:
            ops = []
            for number, (label, value) in enumerate(pairs):
                if label:
                    ops.append(document.op(x, first + 24 * number, label, REGULAR, 7.5))
                if value:
                    ops.append(document.op(x, first + 24 * number + 10, value, REGULAR, 9))
            return "\n".join(ops)

        date, day = _label(languages, "date"), spec.letter_date
        dated = (date, long_date(day, languages[0]))
        page.extend(document.chunk(("date", x, y, dated), lambda: rows(y, [dated])))
        page.line(x, y + 24, _label(languages, "reference"), REGULAR, 7.5)
        page.line(x, y + 34, spec.reference, REGULAR, 9)
        contact = []
        if sender.phone:
            contact.append((_label(languages, "phone"), sender.phone))
        if sender.email:
            contact.append((_label(languages, "email"), sender.email))
        if contact:
            key = ("contact", x, y, *contact)
            page.extend(document.chunk(key, lambda: rows(y + 48, contact)))

    def _footer(self, page: _PageText, spec: LetterSpec, number: int, pages: int) -> None:
        y = PAGE_HEIGHT - 12 * MM
        reference = f"{_label(spec.languages, 'reference')} {spec.reference}"
        page.line(LEFT_MARGIN, y, reference, REGULAR, 7.5)
        page_number = f"{_label(spec.languages, 'page')} {number}/{pages}"
        page.right_aligned(PAGE_WIDTH - RIGHT_MARGIN, y, page_number, REGULAR, 7.5)
