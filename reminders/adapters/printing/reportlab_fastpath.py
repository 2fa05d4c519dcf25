"""ReportLab's private API, in one place: what makes the letters of printing/pdf.py fast.

Written against ReportLab 4.5.1, and checked against 5.1.0 too (`TESTED_RELEASES`; both give
the same bytes for the 20,000 letters of bench/render.py and for the test's volumes, logos
included). Everything below that reaches into
ReportLab relies on something it does not document, which another release may change without
notice. So the fast route is taken only on a release listed there; on any other, `chosen_route`
answers `PUBLIC_ROUTE` (and logs it once): stock `Canvas`, lines drawn with ReportLab's text
objects, the same text in the same places, more slowly and in other bytes.
tests/integration/test_reportlab_fastpath.py renders a set of letters both ways and compares
them, and it does so on whatever release is installed: upgrading ReportLab is a run of that
test, then adding the release here (or fixing what it found).

What the fast route reaches into, and why:

1. ``canvas._doc``, the canvas's `PDFDocument`. A TrueType font's subsets (which character got
   which code) are kept per document, and `TTFont.splitString(text, doc)` and
   `TTFont.getSubsetInternalName(subset, doc)`, the way ReportLab's ttfonts module documents for
   writing text operators with an embedded font, need that document; the canvas has no public
   getter for it. Encoding a line once and reusing the operators in every letter of a volume
   (pdf.py's `_DocumentOps`) is most of what drawing saves.
2. ``font.state[doc].assignments``, the codes a font's characters have in a document
   (character: subset * 256 + code). `splitString` looks each character up in a Python loop;
   a line whose characters all have codes in the first subset, nearly every line once a few
   letters are drawn, is encoded here with one `str.translate` (`_FirstSubset`), the same bytes.
3. A copy of `PDFCatalog.format`/`PDFDictionary.format` for pages (`_LetterPage`), put on the
   pages the canvas made by assigning ``page.__class__``: the same dictionary with its key names
   formatted once per process instead of once per page (a fifth of writing a page).
4. ``canvas._doc.Pages.pages[-1]`` after `showPage`: the page just made, whose resource
   dictionary and media box (the same on every page of a letter) become one object shared and
   formatted once per document (`_Once`), and whose content stream is written by
   `_PageContent`, `PDFStream.format` with ReportLab's Flate filter only (a tenth of its time).
5. `gc.disable()` while `Canvas.save` writes the PDF: every object the writing makes stays in use
   until it is done, so the collector's passes during it only cost time (a fifth of it).
6. ``rl_accel._c_funcs``: whether ReportLab's C accelerator is in use (bench/render.py prints it).
7. ``canvas._formsinuse`` and ``canvas._doc.getXObjectName``, for a municipality's logo
   (`FastPictures`): the first letter of a volume embeds it (an image with `drawImage`, a form
   with `beginForm`), every other letter draws that object by name with one operator. The
   public `drawImage` embeds an image once too, but digests its pixels again on every call,
   and `doForm` cannot scale a form without a graphics state of its own around it.

Items 3 to 5 claim the same bytes as stock ReportLab given the same drawing; 1, 2 and 7 draw
the same things as the public API, in other operators (one BT/ET block per page instead of
one per line; a logo placed with one cm operator).
"""

from __future__ import annotations

import gc
import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import BinaryIO, Protocol

import reportlab
from reportlab import rl_config
from reportlab.lib import rl_accel
from reportlab.lib.rl_accel import escapePDF
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

log = logging.getLogger(__name__)

# The releases tests/integration/test_reportlab_fastpath.py passed on; add one only after it did.
TESTED_RELEASES = frozenset({"4.5.1", "5.1.0"})


@dataclass(frozen=True, slots=True)
class Route:
    """How letters reach ReportLab: through the private API listed above (fast) or through its
    public API only, for the canvas that writes the PDF and for what is drawn on it."""

    fast_canvas: bool  # FastCanvas (reaches 3 to 5), or ReportLab's Canvas
    fast_drawing: bool  # lines and logos as FastLines and FastPictures draw them (1, 2, 7)


FAST_ROUTE = Route(fast_canvas=True, fast_drawing=True)
PUBLIC_ROUTE = Route(fast_canvas=False, fast_drawing=False)


def chosen_route(release: str | None = None) -> Route:
    """The fast route on a ReportLab release (the installed one unless given) it was checked
    against, else the public one."""
    release = release or reportlab.Version
    if release in TESTED_RELEASES:
        return FAST_ROUTE
    _log_untested(release)
    return PUBLIC_ROUTE


@cache  # once per process, not per volume
def _log_untested(release: str) -> None:
    log.warning(
        "ReportLab %s is not a release the fast path was checked against (%s): letters are "
        "drawn through its public API, more slowly. Run tests/integration/"
        "test_reportlab_fastpath.py, then list the release in %s",
        release,
        ", ".join(sorted(TESTED_RELEASES)),
        __name__,
    )


def accelerator_active() -> bool:
    """Whether ReportLab uses its C extension for string widths and escaping (rl_accel)."""
    return bool(rl_accel._c_funcs) and not rl_accel._py_funcs  # type: ignore[attr-defined]


def new_canvas(route: Route, target: str | BinaryIO, **options: object) -> Canvas:
    """A canvas: `FastCanvas` on the fast route, ReportLab's own otherwise."""
    kind = FastCanvas if route.fast_canvas else Canvas
    return kind(target, **options)  # type: ignore[arg-type]


class LineEncoder(Protocol):
    """Lines of text as PDF operators for one canvas; positions in points from the bottom left."""

    def line(self, x: float, y: float, text: str, font: str, size: float) -> str:
        """The operators that draw ``text`` from (x, y); x and y with two decimals."""
        ...

    def text_block(self, lines: Sequence[str]) -> str:
        """The operators of ``lines`` as a page's text."""
        ...


def line_encoder(route: Route, canvas: Canvas) -> LineEncoder:
    return FastLines(canvas) if route.fast_drawing else PublicLines(canvas)


class Pictures(Protocol):
    """Pictures drawn on a canvas's pages, each embedded in its document once (by ``name``)."""

    def image(
        self, name: str, image: ImageReader, x: float, y: float, width: float, height: float
    ) -> None:
        """Draws a raster image (its transparency kept) into the rectangle at (x, y)."""
        ...

    def form(
        self,
        name: str,
        size: tuple[float, float],
        draw: Callable[[Canvas], None],
        box: tuple[float, float, float, float],
    ) -> None:
        """Draws what ``draw`` draws on a ``size`` canvas (a form, made on first use) scaled
        into ``box``: x, y, width, height."""
        ...


def pictures(route: Route, canvas: Canvas) -> Pictures:
    return FastPictures(canvas) if route.fast_drawing else PublicPictures(canvas)


class PublicPictures:
    """ReportLab's way: `drawImage` every time (it embeds an image once per document), a form
    made once with `beginForm` and drawn with `doForm` in a transformed graphics state."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self._forms: set[str] = set()

    def image(
        self, name: str, image: ImageReader, x: float, y: float, width: float, height: float
    ) -> None:
        self.canvas.drawImage(image, x, y, width, height, mask="auto")

    def form(
        self,
        name: str,
        size: tuple[float, float],
        draw: Callable[[Canvas], None],
        box: tuple[float, float, float, float],
    ) -> None:
        canvas = self.canvas
        if name not in self._forms:
            canvas.beginForm(name, 0, 0, *size)
            draw(canvas)
            canvas.endForm()
            self._forms.add(name)
        x, y, width, height = box
        canvas.saveState()
        canvas.transform(width / size[0], 0, 0, height / size[1], x, y)
        canvas.doForm(name)
        canvas.restoreState()


class FastPictures:
    """Each picture embedded by the first letter that draws it, then drawn by its name in the
    document with one operator (reach 7)."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        # name: (the XObject's name in the document, the size its unit square is drawn at)
        self._embedded: dict[str, tuple[str, float, float]] = {}

    def image(
        self, name: str, image: ImageReader, x: float, y: float, width: float, height: float
    ) -> None:
        if name not in self._embedded:
            # ReportLab registers the image in the document and draws it here.
            self.canvas.drawImage(image, x, y, width, height, mask="auto")
            registered = self.canvas._formsinuse[-1]  # type: ignore[attr-defined]
            self._embedded[name] = (registered, 1.0, 1.0)  # an image's unit square
            return
        self._place(name, x, y, width, height)

    def form(
        self,
        name: str,
        size: tuple[float, float],
        draw: Callable[[Canvas], None],
        box: tuple[float, float, float, float],
    ) -> None:
        if name not in self._embedded:
            self.canvas.beginForm(name, 0, 0, *size)
            draw(self.canvas)
            self.canvas.endForm()
            self._embedded[name] = (name, *size)
        self._place(name, *box)

    def _place(self, name: str, x: float, y: float, width: float, height: float) -> None:
        registered, unit_width, unit_height = self._embedded[name]
        canvas = self.canvas
        reference = canvas._doc.getXObjectName(registered)  # type: ignore[attr-defined]
        sx, sy = width / unit_width, height / unit_height
        canvas.addLiteral(f"q {sx:.4f} 0 0 {sy:.4f} {x:.2f} {y:.2f} cm /{reference} Do Q")
        canvas._formsinuse.append(registered)  # type: ignore[attr-defined]  # the page's /XObject


class PublicLines:
    """Lines drawn with ReportLab's text objects: `beginText`, `setFont`, `textOut`, each
    line its own BT/ET block (what `Canvas.drawText` appends is the object's `getCode()`)."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas

    def line(self, x: float, y: float, text: str, font: str, size: float) -> str:
        # Rounded as the fast route writes them, so that both put a line in the same place.
        lines = self.canvas.beginText(round(x, 2), round(y, 2))
        lines.setFont(font, size)
        lines.textOut(text)
        return str(lines.getCode())

    def text_block(self, lines: Sequence[str]) -> str:
        return "\n".join(lines)


class FastLines:
    """Lines encoded as ReportLab's `splitString` encodes them (reaches 1 and 2), each encoding
    kept for the document, and a page's lines in one BT/ET block placed with Tm."""

    def __init__(self, canvas: Canvas) -> None:
        self._doc = canvas._doc  # type: ignore[attr-defined]  # what subsets are kept per
        self._cache: dict[tuple[str, str, float], str] = {}
        self._first_subsets: dict[str, _FirstSubset] = {}

    def line(self, x: float, y: float, text: str, font: str, size: float) -> str:
        return f"1 0 0 1 {x:.2f} {y:.2f} Tm {self._encoded(text, font, size)}"

    def text_block(self, lines: Sequence[str]) -> str:
        return "BT\n" + "\n".join(lines) + "\nET"

    def _encoded(self, text: str, font_name: str, size: float) -> str:
        key = (text, font_name, size)
        encoded = self._cache.get(key)
        if encoded is None:
            first = self._first_subsets.get(font_name)
            codes = None if first is None else first.codes(text)
            if first is not None and codes is not None:
                encoded = f"{first.name} {size:g} Tf ({escapePDF(codes)}) Tj"
            else:
                encoded = self._split(text, font_name, size)
            if len(self._cache) > 100_000:
                self._cache.clear()  # names and addresses are unique: keep memory bounded
            self._cache[key] = encoded
        return encoded

    def _split(self, text: str, font_name: str, size: float) -> str:
        """ReportLab's way: a run of codes per subset, new characters given codes."""
        font = pdfmetrics.getFont(font_name)
        assert isinstance(font, TTFont)  # noqa: S101 - the letters' fonts are embedded TrueType
        encoded = " ".join(
            f"{font.getSubsetInternalName(subset, self._doc)} {size:g} Tf ({escapePDF(chunk)}) Tj"
            for subset, chunk in font.splitString(text, self._doc)
        )
        first = self._first_subsets.get(font_name)
        if first is None:
            first = _FirstSubset.of(font, self._doc)
            if first is None:
                return encoded
            self._first_subsets[font_name] = first
        first.learn(font, self._doc, text)
        return encoded


def _assignments(font: TTFont, doc: object) -> dict[int, int] | None:
    """A font's codes in a document, as ReportLab keeps them (character: subset * 256 + code);
    None if this ReportLab keeps them otherwise."""
    assignments = getattr(font.state.get(doc), "assignments", None)
    return assignments if isinstance(assignments, dict) else None


class _FirstSubset:
    """The characters a font's first subset already holds in a document, and their codes.

    ReportLab's `TTFont.splitString` finds a code for a line character by character in Python.
    Nearly every line only has characters the document has used before, all in the first
    subset (ASCII and the first 160 others): such a line's codes are then one `str.translate`,
    the same bytes ReportLab gives. Lines with a new character go through ReportLab, and what
    it assigned is learnt from its per-document state."""

    def __init__(self, name: str) -> None:
        self.name = name  # the subset's PDF font name, e.g. /F2+0
        self._codes: dict[int, int] = {}  # character: its code in the subset
        self._known: dict[int, None] = {}  # the same characters, for str.translate to drop

    @classmethod
    def of(cls, font: TTFont, doc: object) -> _FirstSubset | None:
        assignments = _assignments(font, doc)
        if assignments is None:
            return None  # not the ReportLab this was written for: always its own way
        first = cls(font.getSubsetInternalName(0, doc))
        for character, code in assignments.items():
            first._add(character, code)
        return first

    def learn(self, font: TTFont, doc: object, text: str) -> None:
        assignments = _assignments(font, doc) or {}
        for character in set(map(ord, text)):
            code = assignments.get(character)
            if code is not None:
                self._add(character, code)

    def _add(self, character: int, code: int) -> None:
        if code < 256:
            self._codes[character] = code
            self._known[character] = None
            if character == 32:  # ReportLab prints a no-break space as a space
                self._codes[0xA0], self._known[0xA0] = code, None

    def codes(self, text: str) -> bytes | None:
        """The text's codes, or None when a character is not in the subset (yet)."""
        if text.translate(self._known):
            return None
        return text.translate(self._codes).encode("latin-1")


class _Once(pdfdoc.PDFObject):
    """A value that many pages of a document have, formatted once: ReportLab formats a page's
    resources and media box anew for every page, the same bytes each time."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.formatted: bytes | None = None

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        if self.formatted is None:
            self.formatted = pdfdoc.format(self.value, document)
        return self.formatted


class _PageContent(pdfdoc.PDFStream):
    """A page's content stream, written as `PDFStream` writes it with ReportLab's Flate filter
    (the same bytes), without its general machinery: a tenth of the writing, per page."""

    def __init__(self, content: str) -> None:
        super().__init__(content=content)

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        data = document.encrypt.encode(zlib.compress(self.content.encode("utf8")))  # type: ignore[no-untyped-call]
        return b"<<\n/Filter [ /FlateDecode ] /Length %d\n>>\nstream\n%sendstream\n" % (
            len(data),
            data,
        )


_NAMES: dict[str, bytes] = {}


class _LetterPage(pdfdoc.PDFPage):
    """ReportLab's page, written as `PDFCatalog.format` and `PDFDictionary.format` write it
    (the same bytes), with the key names made once: a fifth of the writing, per page."""

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        self.check_format(document)
        entries: dict[str, object] = {}
        for key, default in self.__Defaults__.items():
            value = getattr(self, key, default)
            if value is not None:
                entries[key] = value
        for key in self.__NoDefault__:
            value = getattr(self, key, None)
            if value is not None:
                entries[key] = value
        for key in self.__Refs__:
            if key in entries:
                entries[key] = document.Reference(entries[key])  # type: ignore[no-untyped-call]
        items = []
        for key in sorted(entries):
            name = _NAMES.get(key)
            if name is None:
                name = _NAMES[key] = pdfdoc.format(pdfdoc.PDFName(key), document)
            items.append(name + b" " + pdfdoc.format(entries[key], document))
        for index in reversed(range(6, len(items), 6)):
            items.insert(index, b"\n ")
        return b"<<\n" + b" ".join(items) + b"\n>>"


class FastCanvas(Canvas):
    """A canvas whose pages share their (identical) resources and media box and are written
    with less of ReportLab's general machinery (reaches 3 and 4), and which writes its PDF
    without the garbage collector (5)."""

    _shared: dict[tuple[object, ...], _Once] | None = None

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        super().showPage()
        page = self._doc.Pages.pages[-1]  # type: ignore[attr-defined]
        if (
            page.ExtGState
            or getattr(page, "_colorsUsed", None)
            or getattr(page, "_shadingUsed", None)
        ):
            return  # resources of its own: ReportLab makes them
        # The first pages of a municipality's letters all draw its logo: they share one
        # resource dictionary naming it.
        xobjects = tuple(sorted(page.XObjects.dict)) if page.XObjects else ()
        if page.Resources is None:
            page.Resources = self._once(("resources", bool(page.hasImages), xobjects), page)
        if page.MediaBox is None and page.Rotate in (0, None):
            page.MediaBox = self._once(("box", page.pagewidth, page.pageheight), page)
        if page.Trans is not None and not page.Trans.dict:
            page.Trans = self._once(("no transition",), page)
        if page.compression and not rl_config.useA85 and page.Contents is None and page.stream:
            page.Contents = _PageContent(page.stream)
        if type(page) is pdfdoc.PDFPage and not rl_config.pdfMultiLine:
            page.__class__ = _LetterPage  # the same page, written faster

    def _once(self, key: tuple[object, ...], page: pdfdoc.PDFPage) -> _Once:
        if self._shared is None:
            self._shared = {}
        found = self._shared.get(key)
        if found is None:
            if key[0] == "resources":  # as PDFPage.check_format makes them
                value: object = pdfdoc.PDFResourceDictionary()
                value.basicFonts()  # type: ignore[attr-defined]
                if page.hasImages:
                    value.allProcs()  # type: ignore[attr-defined]
                else:
                    value.basicProcs()  # type: ignore[attr-defined]
                if page.XObjects:
                    value.XObject = page.XObjects  # type: ignore[attr-defined]
            elif key[0] == "box":
                value = pdfdoc.PDFArray([0, 0, page.pagewidth, page.pageheight])
            else:
                value = pdfdoc.PDFDictionary({})
            found = self._shared[key] = _Once(value)
        return found

    def save(self) -> None:
        paused = gc.isenabled()
        gc.disable()
        try:
            super().save()
        finally:
            if paused:
                gc.enable()
