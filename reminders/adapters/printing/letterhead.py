"""A municipality's logo and contact blocks on the first page of its letters.

The logo sits in the letterhead band at the top of the sheet, which the envelope hides: never
in the window, nor within 5 mm of it on any side (the sheet's play in the envelope) or 15 mm to
its right (bpost keeps that free beside the address zone), nor over the letterhead's text or
the date and reference block (domain.md §4.1, §4.5). It goes top right, or top left when the
letterhead's text or a high window takes the right; it is made smaller, never moved into the
window, and a window that leaves no room for it is a configuration error found before a run.

It is embedded once per PDF, however many letters draw it: the first letter of a volume
registers it as an XObject (a PNG as an image, an SVG, drawn by svglib as vectors, as a form);
every other letter draws that object by name ("/Name Do"), as ReportLab's drawImage does for
an image it has seen (reportlab_fastpath.py's `Pictures`). Contact blocks (up to three, side
by side) sit below the text of the first page, above the footer: the text of that page stops
higher to leave them room.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache, partial

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing
from reportlab.lib.utils import ImageReader
from svglib.svglib import svg2rlg

from reminders.adapters.printing.reportlab_fastpath import Pictures
from reminders.config import AddressWindow
from reminders.domain.letters import Logo
from reminders.errors import RemindersError

MM = 72 / 25.4
PAGE_HEIGHT_MM, RIGHT_EDGE_MM, LEFT_EDGE_MM = 297.0, 190.0, 25.0
LOGO_TOP_MM = 10.0
LOGO_MAX_WIDTH_MM = 50.0
LOGO_MIN_HEIGHT_MM = 10.0
SLIDE_MM = 5.0  # the sheet's play inside the envelope: nothing within this of the window
FREE_RIGHT_MM = 15.0  # bpost: free to the right of the address zone
CONTACT_LINES = 5  # a title and at most four lines (domain.letters.MAX_CONTACT_LINES)
CONTACT_SIZE, CONTACT_LEADING_MM = 7.0, 3.0
CONTACT_BAND_MM = CONTACT_LINES * CONTACT_LEADING_MM + 2  # above the footer's line at 285 mm
CONTACT_TOP_MM = 283.0 - CONTACT_BAND_MM  # the first line's baseline is one leading below


class LogoError(RemindersError):
    """A logo cannot be read or placed (exit 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in millimetres from the sheet's left and top edges."""

    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )


def window_keep_out(window: AddressWindow) -> Box:
    """What the logo keeps clear of: the window, grown by the sheet's play, and bpost's free
    zone to its right."""
    return Box(
        window.left_mm - SLIDE_MM,
        window.top_mm - SLIDE_MM,
        window.left_mm + window.width_mm + max(SLIDE_MM, FREE_RIGHT_MM),
        window.top_mm + window.height_mm + SLIDE_MM,
    )


def logo_box(
    window: AddressWindow, taken: tuple[Box, ...], aspect: float, height_mm: float
) -> Box | None:
    """Where the logo goes: top right, else top left, at most ``height_mm`` tall and
    ``LOGO_MAX_WIDTH_MM`` wide, clear of the window and of ``taken``; None if it would have
    to be smaller than ``LOGO_MIN_HEIGHT_MM``."""
    keep_out = (window_keep_out(window), *taken)
    for right_side in (True, False):
        height = height_mm
        while height >= LOGO_MIN_HEIGHT_MM:
            width = min(height * aspect, LOGO_MAX_WIDTH_MM)
            tall = width / aspect
            left = RIGHT_EDGE_MM - width if right_side else LEFT_EDGE_MM
            box = Box(left, LOGO_TOP_MM, left + width, LOGO_TOP_MM + tall)
            if not any(box.overlaps(other) for other in keep_out):
                return box
            height -= 0.5
    return None


class LogoArt:
    """A logo decoded once, drawn on any number of pages of any number of canvases."""

    def __init__(self, logo: Logo) -> None:
        self.logo = logo
        self._image: ImageReader | None = None
        self._drawing: Drawing | None = None
        width: float
        height: float
        try:
            if logo.kind == "png":
                self._image = ImageReader(io.BytesIO(logo.data))
                width, height = self._image.getSize()
            else:
                drawing = svg2rlg(io.BytesIO(logo.data))
                if drawing is None:
                    raise ValueError("svglib could not read it")
                # ReportLab 5 draws graphics in Helvetica unless told otherwise, 4.5 in Times:
                # an SVG's text without a font family stays in the one it had (same bytes).
                drawing.setProperties({"initialFontName": "Times-Roman"})
                self._drawing = drawing
                width, height = drawing.width, drawing.height
        except Exception as err:  # Pillow, lxml and svglib raise many kinds
            raise LogoError(f"{logo.file_name}: not a readable {logo.kind.upper()}: {err}") from err
        if not width or not height:
            raise LogoError(f"{logo.file_name}: not a readable {logo.kind.upper()}: no size")
        self.aspect = float(width) / float(height)
        self._name = f"Logo{logo.sha256[:16]}"

    def draw(self, pictures: Pictures, box: Box) -> None:
        """Draws the logo into ``box``; the first time in a document, embeds it."""
        x, y = box.left * MM, (PAGE_HEIGHT_MM - box.bottom) * MM
        width, height = (box.right - box.left) * MM, (box.bottom - box.top) * MM
        if self._image is not None:
            pictures.image(self._name, self._image, x, y, width, height)
            return
        drawing = self._drawing
        assert drawing is not None  # noqa: S101 - an SVG when not an image
        size = (float(drawing.width), float(drawing.height))
        draw = partial(renderPDF.draw, drawing, x=0, y=0)
        pictures.form(self._name, size, draw, (x, y, width, height))


@lru_cache(maxsize=64)
def logo_art(logo: Logo) -> LogoArt:
    """Each logo decoded once per process."""
    return LogoArt(logo)
