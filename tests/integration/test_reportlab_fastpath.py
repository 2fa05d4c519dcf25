"""The fast route into ReportLab (adapters/printing/reportlab_fastpath.py) against ReportLab's own:
print volumes of many kinds of letters (with and without a logo, SVG or PNG, and contact
blocks), rendered through the fast route and through the public API only, give the same pages
with the same text in the same fonts at the same places, and the same logos and rules; the
fast canvas writes the very bytes ReportLab's own canvas writes. These run on whatever
ReportLab is installed, whether or not the fast route would be taken on it, so that an upgrade
of ReportLab is a run of this file. Synthetic names and addresses only."""

from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import re
from dataclasses import dataclass, replace
from datetime import date

import pypdfium2  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium  # type: ignore[import-untyped]
import pytest
import reportlab
from PIL import Image, ImageDraw

from reminders.adapters.printing import reportlab_fastpath
from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.printing.reportlab_fastpath import (
    FAST_ROUTE,
    PUBLIC_ROUTE,
    TESTED_RELEASES,
    Route,
    chosen_route,
)
from reminders.adapters.printing.text import LetterTemplates
from reminders.adapters.printing.volume_render import VolumeRenderer, print_options_key
from reminders.config import AddressWindow, PrintOptions, Settings, load_settings
from reminders.domain.due import DocumentFacts, Holder
from reminders.domain.letters import (
    ContactBlock,
    LetterFacts,
    Letterhead,
    Logo,
    PostalAddress,
    letter_spec,
)
from reminders.domain.model import DocumentKind, DocumentStatus, Language, PersonStatus
from reminders.domain.volume_job import LetterToPrint, VolumeJob, combined_sha256
from tests.conftest import REPO

LETTER_DATE = date(2027, 3, 1)
NL, FR, DE = (Language.NL,), (Language.FR,), (Language.DE,)
ADULT, CHILD = date(1971, 2, 3), date(2019, 8, 2)


@dataclass(frozen=True, slots=True)
class Letter:
    kind: DocumentKind
    stage: str
    expires_on: date
    languages: tuple[Language, ...]
    given_names: str
    family_name: str
    address: PostalAddress
    born_on: date = ADULT


def _at(
    street: str, number: str, box: str | None, code: str, town: str, country: str = "BE"
) -> PostalAddress:
    return PostalAddress(street, number, box, code, town, country)


YILMAZ = "Y\u0131lmaz"  # with a Turkish dotless i
LONG_GIVEN = "Marie-Françoise Anne-Sophie Élisabeth Ghislaine"
LONG_FAMILY = "Van den Broeck-de Schaetzen d'Oultremont de Wiltz"
# Per municipality: every kind and stage its letters may have, in its languages; adults and
# children; boxes; long names; foreign addresses.
LETTERS = {
    "44021": [
        Letter(DocumentKind.EID, "first", date(2027, 5, 1), NL, "Zoë Anaïs", "Van Ørsted",
               _at("Sint-Pietersnieuwstraat", "12A", "3", "9000", "Gent")),
        Letter(DocumentKind.EID, "expired", date(2027, 1, 30), NL, "Jan", "Peeters",
               _at("Korenmarkt", "1", None, "9000", "Gent")),
        Letter(DocumentKind.DRIVING_LICENCE, "second", date(2027, 4, 1), NL, LONG_GIVEN,
               LONG_FAMILY, _at("Koningin Maria Hendrikaplein", "165", "101", "9000", "Gent")),
        Letter(DocumentKind.DRIVING_LICENCE, "expired", date(2027, 2, 15), NL, "Wim", "De Smet",
               _at("Kastanjelaan", "8", None, "59000", "Lille", "FR")),
        Letter(DocumentKind.KIDS_ID, "first", date(2027, 5, 1), NL, "Loïc", "Straßburger-Øvrebø",
               _at("Straße des 17. Juni", "135", None, "10623", "Berlin", "DE"), CHILD),
        Letter(DocumentKind.PASSPORT, "first", date(2027, 9, 1), NL, "Fien", "Claes",
               _at("Veldstraat", "20", "B", "9000", "Gent"), CHILD),
        Letter(DocumentKind.RESIDENCE_CARD, "expired", date(2027, 2, 15), NL, "Ayşe", YILMAZ,
               _at("Dampoort", "4", None, "9000", "Gent")),
    ],
    "21004": [
        Letter(DocumentKind.EID, "first", date(2027, 5, 1), FR, "François Désiré", "Łukasiewicz",
               _at("Rue de l'Église", "7", "2", "1000", "Bruxelles")),
        Letter(DocumentKind.DRIVING_LICENCE, "first", date(2027, 6, 1), (Language.FR, Language.NL),
               "Çelik Noëlle", "Ørsted-Łęcka", _at("Rue Haute", "3", "12", "1000", "Bruxelles")),
        Letter(DocumentKind.KIDS_ID, "first", date(2027, 5, 1), (Language.FR, Language.NL),
               "Théo", "Dubois", _at("Boulevard Anspach", "90", None, "1000", "Bruxelles"), CHILD),
        Letter(DocumentKind.RESIDENCE_CARD, "first", date(2027, 5, 1), FR, LONG_GIVEN,
               LONG_FAMILY, _at("Avenue Louise", "480", "17", "1050", "Ixelles")),
        Letter(DocumentKind.PASSPORT, "first", date(2027, 9, 1), NL, "Sien", "Wouters",
               _at("Nieuwstraat", "2", None, "2011 AA", "Haarlem", "NL")),
    ],
    "63023": [
        Letter(DocumentKind.EID, "first", date(2027, 5, 1), DE, "Jürgen Bernd", "Weiß-Groß",
               _at("Hauptstraße", "5", None, "4700", "Eupen")),
        Letter(DocumentKind.DRIVING_LICENCE, "expired", date(2027, 2, 15), DE, "Grete", "Müller",
               _at("Klötzerbahn", "11", "4", "4700", "Eupen")),
        Letter(DocumentKind.RESIDENCE_CARD, "first", date(2027, 5, 1), DE, "Ödön", "Kovács",
               _at("Aachener Straße", "3", None, "52062", "Aachen", "DE")),
    ],
}  # fmt: skip
# Envelope stocks: DIN 5008 form B; a window lower down; form A's high window, which reaches
# the letterhead; a right-hand window. Simplex and duplex.
STOCKS = {
    "din-b simplex": PrintOptions(),
    "moved duplex": PrintOptions(duplex=True, window=AddressWindow(30, 55, 90, 40)),
    "din-a simplex": PrintOptions(window=AddressWindow(20, 27, 85, 45)),
    "right duplex": PrintOptions(duplex=True, window=AddressWindow(115, 50, 85, 45)),
}


def shield_png() -> bytes:
    image = Image.new("RGBA", (150, 180), (0, 0, 0, 0))
    ImageDraw.Draw(image).polygon([(5, 5), (145, 5), (145, 100), (75, 175), (5, 100)],
                                  fill=(200, 30, 40, 255))  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


SHIELD_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" width="60" height="72" viewBox="0 0 60 72">
<path d="M2 2 H58 V40 L30 70 L2 40 Z" fill="#c81e28" stroke="#000" stroke-width="1"/>
<rect x="24" y="8" width="12" height="52" fill="#fff"/></svg>
"""
# Gent: an SVG logo (a form); Brussels: a PNG logo (an image) and contact blocks; Eupen: none.
LETTERHEADS = {
    "44021": Letterhead(logo=Logo("shield.svg", SHIELD_SVG, "svg")),
    "21004": Letterhead(
        logo=Logo("shield.png", shield_png(), "png", height_mm=18),
        contacts=(
            ContactBlock(("ma-vr 8.30-12.30", "do 16.00-19.00"), "Loket / Guichet"),
            ContactBlock(("sa 9h-12h",), "Heures", Language.FR),
        ),
    ),
}


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(REPO / "config.toml", environ={})


@pytest.fixture(scope="module")
def templates(settings: Settings) -> LetterTemplates:
    return LetterTemplates(settings.template_folders)


def volume_job(
    settings: Settings, templates: LetterTemplates, nis: str, options: PrintOptions
) -> VolumeJob:
    letters = []
    for number, letter in enumerate(LETTERS[nis], start=1):
        holder = Holder(PersonStatus.RESIDENT, nis, None, has_address=True)
        document = DocumentFacts(
            number, letter.kind, letter.expires_on, DocumentStatus.ACTIVE, False, holder
        )
        facts = LetterFacts(
            decision_id=number,
            document=document,
            document_number=f"B{number:07d}",
            stage=letter.stage,
            languages=letter.languages,
            given_names=letter.given_names,
            family_name=letter.family_name,
            born_on=letter.born_on,
            address=letter.address,
        )
        address = letter.address
        country = (
            templates.country_name(address.country, letter.languages[0])
            if address.is_foreign
            else None
        )
        spec = letter_spec(
            facts,
            settings.policies[letter.kind],
            reference=f"{nis}-000007-{number:06d}",
            municipality_nis=nis,
            letter_date=LETTER_DATE,
            country_name=country,
        )
        digests = [
            templates.source_sha256(spec.document_kind, spec.stage, language, nis)
            for language in spec.languages
        ]
        letters.append(
            LetterToPrint(
                spec,
                decision_id=number,
                document_number=f"B{number:07d}",
                postal_code=address.postal_code or "",
                templates=f"{letter.kind}/{letter.stage}",
                template_sha256=combined_sha256(digests),
            )
        )
    return VolumeJob(
        run_id=7,
        as_of=LETTER_DATE,
        municipality=replace(
            settings.municipality(nis), letterhead=LETTERHEADS.get(nis, Letterhead())
        ),
        language=None,
        sequence=1,
        print_options=print_options_key(options),
        letters=tuple(letters),
    )


def volumes(settings: Settings, templates: LetterTemplates, route: Route) -> dict[str, bytes]:
    """Every municipality's letters on every stock, rendered through ``route``."""
    rendered = {}
    for stock, options in STOCKS.items():
        renderer = VolumeRenderer(templates, options)
        renderer.layout = LetterLayout(options.window, route=route)
        for nis in LETTERS:
            job = volume_job(settings, templates, nis, options)
            rendered[f"{nis} {stock}"] = renderer.render(job).pdf
    return rendered


@pytest.fixture(scope="module")
def fast(settings: Settings, templates: LetterTemplates) -> dict[str, bytes]:
    return volumes(settings, templates, FAST_ROUTE)


_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")


def drawn(pdf: bytes) -> list[list[tuple[object, ...]]]:
    """Per page, in drawing order: each character (text, font without its subset tag, size,
    origin in points to the hundredth, as the PDF places it) and each path's bounds (PDFium)."""
    document = pypdfium2.PdfDocument(pdf)
    pages = []
    try:
        for page in document:
            text = page.get_textpage()
            things: list[tuple[object, ...]] = []
            for index in range(text.count_chars()):
                x, y = ctypes.c_double(), ctypes.c_double()
                pdfium.FPDFText_GetCharOrigin(text.raw, index, x, y)
                font = ctypes.create_string_buffer(128)
                pdfium.FPDFText_GetFontInfo(text.raw, index, font, len(font), None)
                things.append((
                    chr(pdfium.FPDFText_GetUnicode(text.raw, index)),
                    _SUBSET_TAG.sub("", font.value.decode()),
                    round(pdfium.FPDFText_GetFontSize(text.raw, index), 2),
                    round(x.value, 2),
                    round(y.value, 2),
                ))  # fmt: skip
            for path in page.get_objects(filter=[pdfium.FPDF_PAGEOBJ_PATH], max_depth=0):
                things.append(("path", *(round(side, 2) for side in path.get_bounds())))
            # The logo: the fast route places it with one cm operator written to 4 decimals,
            # ReportLab with its own number format: the same place to a tenth of a point.
            logos = [pdfium.FPDF_PAGEOBJ_IMAGE, pdfium.FPDF_PAGEOBJ_FORM]
            for logo in page.get_objects(filter=logos, max_depth=0):
                things.append(("logo", logo.type, *(round(side, 1) for side in logo.get_bounds())))
            text.close()
            page.close()
            pages.append(things)
    finally:
        document.close()
    return pages


def test_the_public_route_draws_the_same_text_in_the_same_places(
    settings: Settings, templates: LetterTemplates, fast: dict[str, bytes]
) -> None:
    """Through ReportLab's public API only (stock Canvas, text objects), every volume has the
    same pages, and on each the same characters in the same fonts and sizes at the same
    places, and the same logos and rules. (Not the same bytes: text objects write each line
    in a BT/ET block of its own, a logo is placed in other operators, and the fast canvas
    writes its page dictionaries otherwise, see below.)"""
    public = volumes(settings, templates, PUBLIC_ROUTE)
    assert public.keys() == fast.keys()
    every_text = ""
    for name, pdf in fast.items():
        ours, theirs = drawn(pdf), drawn(public[name])
        assert len(ours) == len(theirs), name
        for number, (page, other) in enumerate(zip(ours, theirs, strict=True), start=1):
            assert page == other, f"{name}, page {number}"
        every_text += "".join(str(thing[0]) for page in ours for thing in page)
    logos = {thing[1] for pdf in fast.values() for page in drawn(pdf) for thing in page
             if thing[0] == "logo"}  # fmt: skip
    assert logos == {pdfium.FPDF_PAGEOBJ_IMAGE, pdfium.FPDF_PAGEOBJ_FORM}  # both were compared
    for name in ("Łukasiewicz", "Straßburger-Øvrebø", YILMAZ, "Ödön", "DEUTSCHLAND", "NEDERLAND"):
        assert name in every_text  # the comparison saw the letters' text, accents and all


def test_the_fast_canvas_writes_the_bytes_reportlab_writes(
    settings: Settings, templates: LetterTemplates, fast: dict[str, bytes]
) -> None:
    """The same lines and logos drawn on ReportLab's own canvas: the fast canvas (shared resources,
    pages and streams formatted its way, no garbage collection while saving) writes the very
    same bytes."""
    stock_canvas = volumes(settings, templates, Route(fast_canvas=False, fast_drawing=True))
    assert stock_canvas == fast


# The SHA-256 of the volumes above (fast route), as ReportLab 4.5.1 and 5.1.0 write them.
VOLUMES_SHA256 = "fcc0df8b7420daf507c5ce782c2dea9b93119ad35afa3ac1e88d0cd2992dcb67"


def test_the_volumes_are_the_bytes_every_checked_release_gives(fast: dict[str, bytes]) -> None:
    """A release of ReportLab that writes the same letters in other bytes changes what the
    dispatch log's volume digests mean: that is a decision (keep the pin below it), not an
    accident of an upgrade. Layout, font or template changes made on purpose change this
    digest too: then set VOLUMES_SHA256 anew, on a release in TESTED_RELEASES."""
    digest = hashlib.sha256()
    for name in sorted(fast):
        digest.update(f"{name}\0{hashlib.sha256(fast[name]).hexdigest()}\n".encode())
    assert digest.hexdigest() == VOLUMES_SHA256, f"ReportLab {reportlab.Version}"


def test_the_fast_route_is_taken_only_on_a_release_it_was_checked_against(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert chosen_route(sorted(TESTED_RELEASES)[-1]) == FAST_ROUTE
    with caplog.at_level(logging.WARNING, logger=reportlab_fastpath.__name__):
        assert chosen_route("99.0.0") == PUBLIC_ROUTE
    assert "ReportLab 99.0.0 is not a release the fast path was checked against" in caplog.text
    assert LetterLayout(route=chosen_route("99.0.0")).route == PUBLIC_ROUTE


def test_the_installed_reportlab_is_a_release_the_fast_route_was_checked_against() -> None:
    """Fails after an upgrade of ReportLab until the release is listed: if the comparisons
    above pass on it, add it to TESTED_RELEASES; if not, fix the fast route (or keep the pin
    in pyproject.toml). Until then letters are drawn through the public API, more slowly."""
    assert reportlab.Version in TESTED_RELEASES, (
        f"ReportLab {reportlab.Version} is not in reportlab_fastpath.TESTED_RELEASES"
    )
    assert LetterLayout().route == FAST_ROUTE
