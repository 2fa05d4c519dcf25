"""The QR codes on letters (issue 21), read back with a real decoder (zxing-cpp) from PDFium's
picture of the page: the reference decodes to the letter's own, on every window stock, and
the code lies outside the address window, bpost's clear zones beside and below it, the sheet's
slide in the envelope and the letterhead (a logo's place at the top). The fast path that makes
the codes gives exactly the modules of ReportLab's own encoder."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import pytest
import zxingcpp

from reminders.adapters.printing.letter_code import qr_symbol, reportlab_symbol
from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.printing.print_volume import preview_pdf
from reminders.adapters.printing.text import LetterTemplates
from reminders.config import AddressWindow, Settings
from tests.integration.test_letter_pdf import CASES, prepared, settings, templates  # noqa: F401
from tests.pdf_reading import Box

DPI = 200
# Envelope stocks config.toml allows (mm from the sheet's left and top): DIN 5008 form B (DIN
# 680 left window), form A (high window), right-hand windows of French and Swiss stock, and a
# wide and deep one at the limits [print] window accepts (top + height <= 95 mm).
STOCKS = {
    "DIN 5008 B": AddressWindow(20, 45, 85, 45),
    "DIN 5008 A": AddressWindow(20, 27, 85, 45),
    "right 100x45": AddressWindow(95, 45, 100, 45),
    "Swiss right 90x40": AddressWindow(110, 50, 90, 40),
    "wide and deep": AddressWindow(20, 40, 180, 55),
}
SLIDE_MM = 5  # how far the sheet moves in the envelope (domain.md §4.5)
LETTERHEAD_MM = 45  # the letterhead's band at the top: a municipality's logo goes there


def _page(pdf: bytes) -> Any:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=DPI / 72).to_pil().convert("L")
    finally:
        document.close()


def _box(position: Any) -> Box:
    """A decoded code's corners as a box in mm from the sheet's left and top edges."""
    points = [position.top_left, position.top_right, position.bottom_left, position.bottom_right]
    mm = 25.4 / DPI
    left, top = min(p.x for p in points) * mm, min(p.y for p in points) * mm
    return Box(left, top, max(p.x for p in points) * mm - left, max(p.y for p in points) * mm - top)


def _overlaps(a: Box, b: Box) -> bool:
    return a.left < b.right and b.left < a.right and a.top < b.bottom and b.top < a.bottom


def _keep_out(window: AddressWindow) -> list[tuple[str, Box]]:
    """Where nothing but the address may be: the window as the sheet may slide under it,
    bpost's 15 mm free to its right and 30 mm empty below it, and the letterhead's band."""
    shown = Box(window.left_mm - SLIDE_MM, window.top_mm - SLIDE_MM,
                window.width_mm + 2 * SLIDE_MM, window.height_mm + 2 * SLIDE_MM)  # fmt: skip
    return [
        ("the window", shown),
        ("bpost's 15 mm right of the window", Box(shown.right, shown.top, 15, shown.height)),
        ("bpost's 30 mm below the window", Box(shown.left, shown.bottom, shown.width + 15, 30)),
        ("the letterhead", Box(0, 0, 210, LETTERHEAD_MM)),
    ]


def _dark(image: Any, box: Box) -> int:
    pixels = DPI / 25.4
    crop = image.crop((round(box.left * pixels), round(box.top * pixels),
                       round(box.right * pixels), round(box.bottom * pixels)))  # fmt: skip
    return sum(crop.histogram()[:128])


@pytest.mark.parametrize("stock", sorted(STOCKS))
@pytest.mark.parametrize("reference", ["44021-000007-000042", "44021-000007-000042-R1"])
def test_the_reference_code_decodes_and_keeps_out_of_the_window_and_clear_zones(
    stock: str,
    reference: str,
    settings: Settings,  # noqa: F811 - the fixture
    templates: LetterTemplates,  # noqa: F811
) -> None:
    """One QR code on the page, reading the letter's reference, clear of every zone, with
    its quiet zone (4 modules) free of ink."""
    window = STOCKS[stock]
    spec, texts, municipality = prepared(CASES["nl"], settings, templates, reference=reference)
    layout = LetterLayout(window)
    page = _page(preview_pdf(layout, spec, texts, municipality))
    found = zxingcpp.read_barcodes(page)
    assert [(code.format, code.text) for code in found] == [
        (zxingcpp.BarcodeFormat.QRCode, reference)
    ]
    code = _box(found[0].position)
    for zone, box in _keep_out(window):
        assert not _overlaps(code, box), f"the code {code} lies in {zone} {box}"
    assert code.right <= 206
    assert code.bottom <= 285
    module = code.width / qr_symbol(reference).size
    quiet = 4 * module
    ring = Box(code.left - quiet, code.top - quiet, code.width + 2 * quiet, code.height + 2 * quiet)
    inside = Box(code.left - 0.3, code.top - 0.3, code.width + 0.6, code.height + 0.6)
    assert _dark(page, ring) - _dark(page, inside) == 0


def test_the_appointment_code_opens_the_municipality_page(
    settings: Settings,  # noqa: F811 - the fixture
    templates: LetterTemplates,  # noqa: F811
) -> None:
    """With sender.appointment_qr, a second code beside the text opens appointment_url, clear
    of the window and its zones; without it there is none."""
    spec, texts, municipality = prepared(CASES["nl"], settings, templates)
    with_code = replace(municipality, sender=replace(municipality.sender, appointment_qr=True))
    found = zxingcpp.read_barcodes(_page(preview_pdf(LetterLayout(), spec, texts, with_code)))
    assert sorted(code.text for code in found) == sorted(
        [spec.reference, municipality.sender.appointment_url or ""]
    )
    appointment = next(code for code in found if code.text.startswith("https://"))
    for stock in STOCKS.values():
        for zone, box in _keep_out(stock):
            assert not _overlaps(_box(appointment.position), box), zone


@pytest.mark.parametrize(
    "text",
    [
        *(f"44021-{run:06d}-{n:06d}" for run in (1, 12, 999_999) for n in (1, 7, 123_456)),
        *(f"21004-000012-{n:06d}-R{r}" for n in (3, 99) for r in (1, 2, 17)),
        "https://gent.example/afspraak",
        "https://bruxelles.example/rendez-vous?lang=fr&service=population",
        "12345678",
        "https://example.be/" + "a" * 64,
    ],
)
def test_the_fast_path_gives_reportlabs_own_modules(text: str) -> None:
    """The same modules as ReportLab's `QRCode.makeImpl` with the same mask, for references
    (alphanumeric), web addresses (bytes), digits only (numeric) and up to version 5."""
    assert qr_symbol(text) == reportlab_symbol(text)
