"""A municipality's letterhead on its letters: its logo (SVG or PNG) in the letterhead band on
every envelope stock, clear of the window with the sheet's play and bpost's free zone, of the
letterhead's text and of the date block, embedded once per volume however many letters draw
it; its contact blocks below the first page's text; the configuration checked before a run.
Synthetic shield and texts only."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from reminders.adapters.printing.letterhead import SLIDE_MM, Box, window_keep_out
from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.printing.text import LetterTemplates
from reminders.adapters.printing.volume_render import VolumeRenderer, print_options_key
from reminders.bootstrap import checked_templates
from reminders.config import AddressWindow, PrintOptions, Settings, load_settings
from reminders.domain.model import Language
from reminders.domain.volume_job import LetterToPrint, VolumeJob, combined_sha256
from reminders.errors import ConfigError
from tests.integration.test_letter_pdf import CASES, WINDOWS, prepared, rendered
from tests.pdf_reading import MM, flat, page_texts, page_words
from tests.pdf_reading import Box as WindowBox

SHIELD_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="60" height="72" viewBox="0 0 60 72">
<path d="M2 2 H58 V40 L30 70 L2 40 Z" fill="#c81e28" stroke="#000" stroke-width="1"/>
<rect x="24" y="8" width="12" height="52" fill="#fff"/></svg>
"""
ALL_WINDOWS = {**WINDOWS, "moved": AddressWindow(left_mm=30, top_mm=55, width_mm=90, height_mm=40)}
CONTACTS = (
    '{ title = "Loket Burgerzaken", lines = ["ma-vr 8.30-12.30", "do 16.00-19.00"] }, '
    '{ title = "Openingsuren", lines = ["za 9.00-12.00"], language = "nl" }, '
    '{ title = "Heures", lines = ["sa 9h-12h"], language = "fr" }'
)


def shield_png() -> bytes:
    image = Image.new("RGBA", (150, 180), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(5, 5), (145, 5), (145, 100), (75, 175), (5, 100)], fill=(200, 30, 40, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def with_letterhead(config_file: Path, nis_code: str, line: str) -> Settings:
    """The example config with ``line`` (a letterhead = ...) in the municipality's entry, and
    the synthetic shields beside it."""
    (config_file.parent / "shield.svg").write_text(SHIELD_SVG, encoding="utf-8")
    (config_file.parent / "shield.png").write_bytes(shield_png())
    text = config_file.read_text(encoding="utf-8")
    entry = f'nis_code = "{nis_code}"\n'
    assert text.count(entry) == 1
    config_file.write_text(text.replace(entry, f"{entry}{line}\n"), encoding="utf-8")
    return load_settings(config_file, environ={})


def logo_drawn(pdf: bytes, kind: str) -> Box:
    """Where the first page draws the logo, in mm: the image, or the SVG's vector shapes
    (the fold marks at the left edge aside)."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        if kind == "png":
            # The letter's QR codes are images too (issue 21), below the letterhead band.
            (image,) = [i for i in page.images if float(i["top"]) < 100 * MM]
            found = [image]
        else:
            found = [o for o in page.curves + page.rects if float(o["x0"]) > 15 * MM]
        assert found, "no logo drawn"
        return Box(
            min(float(o["x0"]) for o in found) / MM,
            min(float(o["top"]) for o in found) / MM,
            max(float(o["x1"]) for o in found) / MM,
            max(float(o["bottom"]) for o in found) / MM,
        )


@pytest.mark.parametrize("kind", ["svg", "png"])
@pytest.mark.parametrize("window", list(ALL_WINDOWS))
def test_the_logo_lies_in_its_zone_on_every_window_stock(
    config_file: Path, window: str, kind: str
) -> None:
    """In the letterhead band, at least 10 mm tall, never within the sheet's play of the
    window nor in bpost's free zone to its right, over no word of the page (letterhead,
    sender line, address, date block); the address still lies wholly in the window."""
    settings = with_letterhead(config_file, "44021", f'letterhead = {{ logo = "shield.{kind}" }}')
    stock = ALL_WINDOWS[window]
    templates = LetterTemplates(settings.template_folders)
    spec, pdf = rendered(CASES["parents abroad"], settings, templates, window=stock)
    drawn = logo_drawn(pdf, kind)
    assert drawn.bottom - drawn.top >= 10 - 0.5, drawn
    assert drawn.top >= 8, drawn
    assert drawn.bottom <= 45, drawn
    assert drawn.right <= 195, drawn
    assert not drawn.overlaps(window_keep_out(stock)), (drawn, stock)
    for word in page_words(pdf):
        box = Box(word.left, word.top, word.right, word.bottom)
        assert not drawn.overlaps(box), (word.text, drawn)
    glass = WindowBox.of(stock)
    words = page_words(pdf)
    for line in spec.address_lines:
        for part in line.split():
            assert any(w.text == part and glass.contains(w) for w in words), part
    assert SLIDE_MM == 5  # domain.md §4.5: the sheet's play in a DL envelope


def test_a_window_that_leaves_no_room_for_the_logo_stops_the_check(config_file: Path) -> None:
    settings = with_letterhead(config_file, "44021", 'letterhead = { logo = "shield.svg" }')
    wide = AddressWindow(left_mm=15, top_mm=12, width_mm=180, height_mm=45)
    blocked = replace(settings, print_options=replace(settings.print_options, window=wide))
    with pytest.raises(ConfigError, match=r"municipalities\[0\]\.letterhead: logo: no room"):
        checked_templates(blocked)


def xobjects(pdf: bytes) -> list[str]:
    """Every image or form object in the file (each object once, not per page): ReportLab
    writes object dictionaries uncompressed."""
    return [f"/{kind.decode()}" for kind in re.findall(rb"/Subtype /(Image|Form)\b", pdf)]


def volume(settings: Settings, letters: int) -> bytes:
    """A volume of Gent's with ``letters`` letters, rendered as a worker renders it."""
    templates = LetterTemplates(settings.template_folders)
    gent = settings.municipality("44021")
    spec, _, _ = prepared(CASES["nl"], settings, templates)
    digest = templates.source_sha256(spec.document_kind, spec.stage, Language.NL, "44021")
    job = VolumeJob(
        run_id=7,
        as_of=spec.letter_date,
        municipality=gent,
        language=None,
        sequence=1,
        print_options=print_options_key(PrintOptions()),
        letters=tuple(
            LetterToPrint(
                replace(spec, reference=f"44021-000007-{number:06d}"),
                decision_id=number,
                document_number=f"B{number}",
                postal_code="9000",
                templates="driving_licence/first.nl.txt.j2",
                template_sha256=combined_sha256([digest]),
            )
            for number in range(1, letters + 1)
        ),
    )
    return VolumeRenderer(templates, PrintOptions()).render(job).pdf


@pytest.mark.parametrize(("kind", "objects"), [("svg", ["/Form"]), ("png", ["/Image", "/Image"])])
def test_the_logo_is_embedded_once_per_volume(
    config_file: Path, kind: str, objects: list[str]
) -> None:
    """One letter or twenty: the same objects for the logo (a form for an SVG, an image and
    its transparency mask for a PNG); each first page draws it by name."""
    settings = with_letterhead(config_file, "44021", f'letterhead = {{ logo = "shield.{kind}" }}')
    one, twenty = volume(settings, 1), volume(settings, 20)
    assert sorted(xobjects(one)) == sorted(xobjects(twenty)) == objects
    reader = PdfReader(io.BytesIO(twenty))
    firsts = [page for page in reader.pages[1:] if "pagina 1/" in (page.extract_text() or "")]
    assert len(firsts) == 20
    named = {tuple(page["/Resources"]["/XObject"]) for page in firsts}  # type: ignore[index]
    assert len(named) == 1  # the same name on every letter
    assert len(twenty) < len(one) * 4  # twenty letters do not carry twenty logos


def test_contact_blocks_sit_below_the_first_pages_text_in_the_letters_language(
    config_file: Path,
) -> None:
    """A Dutch letter shows the common block and the Dutch one, side by side below its
    sign-off and above the footer, never in the window; a French letter the French one."""
    line = f"letterhead = {{ contacts = [ {CONTACTS} ] }}"
    settings = with_letterhead(config_file, "21004", line)
    templates = LetterTemplates(settings.template_folders)
    nl_case = replace(CASES["fr"], languages=(Language.NL,))
    for case, shown, hidden in (
        (nl_case, ["Loket Burgerzaken", "Openingsuren", "za 9.00-12.00"], "Heures"),
        (CASES["fr"], ["Loket Burgerzaken", "Heures", "sa 9h-12h"], "Openingsuren"),
    ):
        _, pdf = rendered(case, settings, templates)
        first = flat(page_texts(pdf)[0])
        for text in shown:
            assert text in first, (text, first[-400:])
        assert hidden not in first
        words = page_words(pdf)
        title = next(w for w in words if w.text == "Loket")
        footer = min((w for w in words if w.top > 280), key=lambda w: w.top)
        body = [w for w in words if 98 < w.top < title.top]
        assert body
        assert max(w.bottom for w in body) < title.top
        assert title.bottom < footer.top
        assert not WindowBox.of(settings.print_options.window).touches(title)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('letterhead = { logo = "nowhere.svg" }', "letterhead.logo: no such file"),
        ('letterhead = { logo = "shield.gif" }', "letterhead.logo: expected an .svg or .png"),
        ('letterhead = { logo = "config.svg" }', "is not an SVG image"),
        ('letterhead = { logo_height_mm = 20 }', "letterhead.logo_height_mm: needs a logo"),
        (f'letterhead = {{ contacts = [ {CONTACTS}, {{ lines = ["x"] }} ] }}',
         "a letter in fr+nl would show 4 contact blocks"),
        ('letterhead = { contacts = [ { lines = ["x"], language = "de" } ] }',
         "contacts[0].language: expected one of the municipality's (fr, nl)"),
        ('letterhead = { contacts = [ { lines = ["1", "2", "3", "4", "5"] } ] }',
         "contacts[0].lines: expected 1 to 4 lines"),
    ],
)  # fmt: skip
def test_a_bad_letterhead_names_its_key(config_file: Path, line: str, message: str) -> None:
    (config_file.parent / "config.svg").write_text("not a picture", encoding="utf-8")
    with pytest.raises(ConfigError, match="municipalities\\[1\\]\\.letterhead") as caught:
        with_letterhead(config_file, "21004", line)
    assert message in str(caught.value)


def test_an_unreadable_svg_stops_the_check(config_file: Path) -> None:
    (config_file.parent / "broken.svg").write_text("<svg><path d='M0 0 L", encoding="utf-8")
    settings = with_letterhead(config_file, "44021", 'letterhead = { logo = "broken.svg" }')
    with pytest.raises(ConfigError, match=r"letterhead: logo: broken.svg: not a readable SVG"):
        checked_templates(settings)


def test_previews_show_the_logo(config_file: Path) -> None:
    settings = with_letterhead(config_file, "44021", 'letterhead = { logo = "shield.png" }')
    templates = LetterTemplates(settings.template_folders)
    _, pdf = rendered(CASES["nl"], settings, templates, layout=LetterLayout())
    assert logo_drawn(pdf, "png").right <= 190.5
