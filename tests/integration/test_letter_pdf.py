"""Letters as PDF, read back with pdfplumber, pypdf and pypdfium2: the recipient sits in the
envelope's window and nothing else shows there, each letter is in its language(s) with its
accents intact, long letters flow onto numbered pages, the same letter gives the same bytes,
the page really prints, and the fonts travel with the file. Synthetic names only."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2  # type: ignore[import-untyped]
import pytest
from pypdf import PdfReader

from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.printing.print_volume import VolumeFolder, preview_pdf
from reminders.adapters.printing.render_pool import (
    INLINE_BELOW_LETTERS,
    InlinePool,
    LocalRendering,
    ProcessPool,
)
from reminders.adapters.printing.text import SHIPPED_TEMPLATES, LetterTemplates
from reminders.adapters.printing.volume_render import (
    RenderRefusedError,
    VolumeRenderer,
    print_options_key,
)
from reminders.config import AddressWindow, Municipality, PrintOptions, Settings, load_settings
from reminders.config.letters import TemplateFolders
from reminders.domain.due import DocumentFacts, Holder
from reminders.domain.letters import LetterFacts, LetterSpec, LetterText, PostalAddress, letter_spec
from reminders.domain.model import DocumentKind, DocumentStatus, Language, PersonStatus
from reminders.domain.volume_job import LetterToPrint, VolumeJob, combined_sha256
from tests.conftest import REPO
from tests.pdf_reading import (
    A4_HEIGHT_MM,
    A4_WIDTH_MM,
    Box,
    Word,
    flat,
    font_files,
    line_words,
    page_fonts,
    page_texts,
    page_words,
)

LETTER_DATE = date(2027, 3, 1)
EXPIRES_ON = date(2027, 5, 20)  # the driving licence's and the Kids-ID's first stage is due


@dataclass(frozen=True, slots=True)
class Case:
    """A synthetic letter: who, where, in which language(s)."""

    nis_code: str
    languages: tuple[Language, ...]
    given_names: str
    family_name: str
    address: PostalAddress
    kind: DocumentKind = DocumentKind.DRIVING_LICENCE
    born_on: date = date(1985, 3, 14)


CASES = {
    "nl": Case("44021", (Language.NL,), "Zoë Anaïs", "Van Ørsted",
               PostalAddress("Sint-Pietersnieuwstraat", "12A", "3", "9000", "Gent", "BE")),
    "fr": Case("21004", (Language.FR,), "François Désiré", "Łukasiewicz",
               PostalAddress("Rue de l'Église", "7", "2", "1000", "Bruxelles", "BE")),
    "de": Case("63023", (Language.DE,), "Jürgen Bernd", "Weiß-Groß",
               PostalAddress("Hauptstraße", "5", None, "4700", "Eupen", "BE")),
    "fr+nl": Case("21004", (Language.FR, Language.NL), "Çelik Noëlle", "Ørsted-Łęcka",
                  PostalAddress("Rue Haute", "3", "12", "1000", "Bruxelles", "BE")),
    # Five lines: to the parents of a child living abroad.
    "parents abroad": Case("44021", (Language.NL,), "Loïc", "Straßburger-Øvrebø",
                           PostalAddress("Straße des 17. Juni", "135", None, "10623", "Berlin",
                                         "DE"),
                           kind=DocumentKind.KIDS_ID, born_on=date(2019, 8, 2)),
}  # fmt: skip
SUBJECTS = {  # the driving licence's first letter, in each language
    Language.NL: "Uw rijbewijs vervalt op 20 mei 2027",
    Language.FR: "Votre permis de conduire expire le 20 mai 2027",
    Language.DE: "Ihr Führerschein läuft am 20. Mai 2027 ab",
}
KEYWORDS = {Language.NL: "rijbewijs", Language.FR: "permis", Language.DE: "Führerschein"}


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(REPO / "config.toml", environ={})


@pytest.fixture(scope="module")
def templates(settings: Settings) -> LetterTemplates:
    return LetterTemplates(settings.template_folders)


def prepared(
    case: Case, settings: Settings, texts: LetterTemplates, *, reference: str = ""
) -> tuple[LetterSpec, list[LetterText], Municipality]:
    """The letter as the run builds it: facts → spec (address block, parents) → texts."""
    municipality = settings.municipality(case.nis_code)
    holder = Holder(PersonStatus.RESIDENT, case.nis_code, None, has_address=True)
    document = DocumentFacts(1, case.kind, EXPIRES_ON, DocumentStatus.ACTIVE, False, holder)
    facts = LetterFacts(
        decision_id=1,
        document=document,
        document_number="B1234567",
        stage="first",
        languages=case.languages,
        given_names=case.given_names,
        family_name=case.family_name,
        born_on=case.born_on,
        address=case.address,
    )
    address = case.address
    spec = letter_spec(
        facts,
        settings.policies[case.kind],
        reference=reference or f"{case.nis_code}-000007-000042",
        municipality_nis=case.nis_code,
        letter_date=LETTER_DATE,
        country_name=(
            texts.country_name(address.country, case.languages[0]) if address.is_foreign else None
        ),
    )
    return spec, [texts.text(spec, lang, municipality) for lang in spec.languages], municipality


def rendered(
    case: Case,
    settings: Settings,
    texts: LetterTemplates,
    *,
    window: AddressWindow | None = None,
    layout: LetterLayout | None = None,
) -> tuple[LetterSpec, bytes]:
    spec, letter_texts, municipality = prepared(case, settings, texts)
    layout = layout or LetterLayout(window)
    return spec, preview_pdf(layout, spec, letter_texts, municipality)


def rendered_case(name: str) -> bytes:
    """A case's PDF from scratch (what the reproducibility test runs in a fresh process)."""
    settings = load_settings(REPO / "config.toml", environ={})
    return rendered(CASES[name], settings, LetterTemplates(settings.template_folders))[1]


def sender_line(municipality: Municipality) -> str:
    return f"{municipality.name} · {municipality.sender.department}"


# -- (a) the window --------------------------------------------------------------------------

MOVED_WINDOW = "window = { left_mm = 30, top_mm = 55, width_mm = 90, height_mm = 40 }"
EXAMPLE_WINDOW = "window = { left_mm = 20, top_mm = 45, width_mm = 85, height_mm = 45 }"


@pytest.mark.parametrize("window", [EXAMPLE_WINDOW, MOVED_WINDOW], ids=["din-b", "moved"])
@pytest.mark.parametrize("name", list(CASES))
def test_every_word_of_the_recipient_lies_inside_the_window(
    config_file: Path, templates: LetterTemplates, name: str, window: str
) -> None:
    """Each word of the name and address lines, with its ascenders and descenders, lies in
    the window configured in config.toml; the lines are in the order of the address block."""
    text = config_file.read_text(encoding="utf-8")
    assert EXAMPLE_WINDOW in text
    config_file.write_text(text.replace(EXAMPLE_WINDOW, window), encoding="utf-8")
    settings = load_settings(config_file, environ={})
    box = Box.of(settings.print_options.window)
    spec, pdf = rendered(CASES[name], settings, templates, window=settings.print_options.window)
    words = page_words(pdf)
    tops = []
    for line in spec.address_lines:
        found = line_words(words, line)
        outside = [word for word in found if not box.contains(word)]
        assert not outside, f"{line!r} leaves the window {box}: {outside}"
        tops.append(found[0].top)
    assert tops == sorted(tops)
    assert 3 <= len(spec.address_lines) <= 5


WINDOWS = {
    "din-b": AddressWindow(),
    "din-a": AddressWindow(left_mm=20, top_mm=27, width_mm=85, height_mm=45),  # DIN 676 form A
    "right": AddressWindow(left_mm=95, top_mm=50, width_mm=100, height_mm=45),  # right window
    "shallow": AddressWindow(left_mm=20, top_mm=45, width_mm=85, height_mm=25),  # the minimum
}


def _overlapping(first: Word, second: Word) -> bool:
    tolerance = 0.1  # mm
    return (
        first.left < second.right - tolerance
        and second.left < first.right - tolerance
        and first.top < second.bottom - tolerance
        and second.top < first.bottom - tolerance
    )


@pytest.mark.parametrize("window", list(WINDOWS))
def test_nothing_but_the_recipient_and_the_sender_line_shows_in_the_window(
    settings: Settings, templates: LetterTemplates, window: str
) -> None:
    """Whatever window config.toml accepts, the window shows the recipient's five lines and
    the one-line sender mention only: no reference, date, phone or sender address that bpost's
    readers could take for the address (domain.md §4.1), and no line drawn over another. In
    the shallowest window the sender mention gives way to the five address lines."""
    box = Box.of(WINDOWS[window])
    case = CASES["parents abroad"]
    spec, pdf = rendered(case, settings, templates, window=WINDOWS[window])
    assert len(spec.address_lines) == 5
    words = page_words(pdf)
    mention = sender_line(settings.municipality(case.nis_code))
    if window == "shallow":
        assert mention.split(" · ")[1] not in " ".join(w.text for w in words if box.touches(w))
        expected = []
    else:
        expected = line_words(words, mention)
    for line in spec.address_lines:
        expected += line_words(words, line)
    shown = [word for word in words if box.touches(word)]
    others = [word.text for word in shown if word not in expected]
    assert not others, f"printed in the {window} window besides the address: {others}"
    collisions = [
        (first.text, second.text)
        for index, first in enumerate(expected)
        for second in expected[index + 1 :]
        if _overlapping(first, second)
    ]
    assert not collisions, f"lines drawn over each other in the {window} window: {collisions}"


# -- (b) languages, (c) accents --------------------------------------------------------------


@pytest.mark.parametrize("name", ["nl", "fr", "de", "fr+nl"])
def test_each_letter_is_in_its_own_language_and_only_in_it(
    settings: Settings, templates: LetterTemplates, name: str
) -> None:
    """The subject in the letter's language(s); no other language's subject; a bilingual
    Brussels letter has both, French first (the municipality's first language)."""
    case = CASES[name]
    spec, pdf = rendered(case, settings, templates)
    text = flat("\n".join(page_texts(pdf)))
    for language in Language:
        if language in case.languages:
            assert SUBJECTS[language] in text, (language, text[:500])
        else:
            assert KEYWORDS[language].lower() not in text.lower(), (language, name)
    if len(case.languages) == 2:
        assert text.index(SUBJECTS[Language.FR]) < text.index(SUBJECTS[Language.NL])
        assert "Madame, Monsieur," in text
        assert f"Geachte {spec.full_name}," in text


@pytest.mark.parametrize("name", list(CASES))
def test_accented_names_and_addresses_survive_extraction_exactly(
    settings: Settings, templates: LetterTemplates, name: str
) -> None:
    """é ë ç ß Ø Ł ... come back out of the PDF as the same characters (the embedded fonts map
    to Unicode), with pdfplumber, pypdf and PDFium."""
    spec, pdf = rendered(CASES[name], settings, templates)
    words = page_words(pdf)
    read = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    pdfium = page_texts(pdf)[0].splitlines()
    for line in spec.address_lines:
        assert " ".join(word.text for word in line_words(words, line)) == line
        assert line in read, (line, read[:600])
        assert line in pdfium, (line, pdfium)
    assert spec.full_name in flat(read)


def test_the_cases_cover_the_accented_letters() -> None:
    names = "".join(f"{case.given_names} {case.family_name}" for case in CASES.values())
    assert set("éëçßØŁ") <= set(names)


# -- (d) a long letter -----------------------------------------------------------------------

LONG_BODY = "\n\n".join(
    f"Alinea {number}. "
    + "Deze zin staat hier om de brief lang te maken, zodat hij over twee bladzijden loopt. " * 3
    for number in range(1, 15)
)


def test_a_long_letter_flows_onto_a_second_page_with_page_numbers(
    tmp_path: Path, settings: Settings
) -> None:
    """Fourteen paragraphs do not fit on the first page: they continue on a second one, in
    order, none lost or repeated, never into the footer, and the footer counts the pages."""
    folder = tmp_path / "templates"
    (folder / "eid").mkdir(parents=True)
    for shared in ("_base.nl.txt.j2", "_macros.nl.txt.j2"):
        (folder / shared).write_bytes((SHIPPED_TEMPLATES / shared).read_bytes())
    (folder / "eid" / "first.nl.txt.j2").write_text(
        '{% extends "_base.nl.txt.j2" %}\n'
        "{% block subject %}Uw identiteitskaart vervalt op {{ document.expires_on|date }}"
        "{% endblock %}\n"
        "{% block body %}\n" + LONG_BODY + "\n{%- endblock %}\n",
        encoding="utf-8",
    )
    case = Case("44021", (Language.NL,), "Zoë", "Van Ørsted", CASES["nl"].address,
                kind=DocumentKind.EID)  # fmt: skip
    spec, texts, gent = prepared(case, settings, LetterTemplates(TemplateFolders(folder)))
    pdf = preview_pdf(LetterLayout(), spec, texts, gent)
    pages = [flat(text) for text in page_texts(pdf)]
    assert len(pages) == 2
    assert f"Referentie {spec.reference} pagina 1/2" in pages[0]
    assert f"Referentie {spec.reference} pagina 2/2" in pages[1]
    whole = " ".join(pages)
    positions = [whole.index(f"Alinea {number}. ") for number in range(1, 15)]
    assert positions == sorted(positions)
    assert all(whole.count(f"Alinea {number}. ") == 1 for number in range(1, 15))
    assert "Alinea 14." in pages[1]
    assert "Met vriendelijke groeten," in pages[1]
    assert "Alinea 1." in pages[0]
    for page in range(2):
        footer = [word for word in page_words(pdf, page) if word.bottom > 272]
        assert {word.text for word in footer} == {
            "Referentie",
            spec.reference,
            "pagina",
            f"{page + 1}/2",
        }


# -- (e) byte reproducibility ----------------------------------------------------------------


def test_the_same_letter_gives_the_same_bytes(
    settings: Settings, templates: LetterTemplates, tmp_path: Path
) -> None:
    """Twice, with a fresh layout or one that drew other letters before, and in another
    process with another hash seed: the same bytes. Another letter gives other bytes."""
    case = CASES["fr+nl"]
    _, first = rendered(case, settings, templates)
    _, again = rendered(case, settings, templates)
    assert first == again
    shared = LetterLayout()
    rendered(CASES["de"], settings, templates, layout=shared)
    rendered(CASES["parents abroad"], settings, templates, layout=shared)
    assert rendered(case, settings, templates, layout=shared)[1] == first

    out = tmp_path / "letter.pdf"
    script = (
        "import sys; from tests.integration.test_letter_pdf import rendered_case; "
        "open(sys.argv[1], 'wb').write(rendered_case(sys.argv[2]))"
    )
    subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", script, str(out), "fr+nl"],
        cwd=REPO,
        env={**os.environ, "PYTHONHASHSEED": "4242"},
        check=True,
    )
    assert out.read_bytes() == first

    other = Case(case.nis_code, case.languages, "Çelik Noël", case.family_name, case.address)
    assert rendered(other, settings, templates)[1] != first


def _volume_job(settings: Settings, templates: LetterTemplates) -> VolumeJob:
    letters = []
    for number, name in enumerate(["fr", "fr+nl"], start=1):
        spec, _, _ = prepared(
            CASES[name], settings, templates, reference=f"21004-000007-{number:06d}"
        )
        digests = [
            templates.source_sha256(spec.document_kind, spec.stage, language, "21004")
            for language in spec.languages
        ]
        letters.append(
            LetterToPrint(
                spec,
                decision_id=number,
                document_number=f"B{number}",
                postal_code="1000",
                templates="driving_licence/first",
                template_sha256=combined_sha256(digests),
            )
        )
    return VolumeJob(
        run_id=7,
        as_of=LETTER_DATE,
        municipality=settings.municipality("21004"),
        language=None,
        sequence=1,
        print_options=print_options_key(PrintOptions()),
        letters=tuple(letters),
    )


@pytest.mark.parametrize(("volumes", "letters"), [(1, 50_000), (2, INLINE_BELOW_LETTERS - 1)])
def test_one_volume_or_few_letters_render_in_the_runs_own_process(
    templates: LetterTemplates, volumes: int, letters: int
) -> None:
    """Starting workers costs more than they save there (render_pool.INLINE_BELOW_LETTERS)."""
    with LocalRendering(templates, PrintOptions(), workers=2).open(volumes, letters) as pool:
        assert isinstance(pool, InlinePool)


def test_a_volume_rendered_in_a_worker_has_the_same_bytes_and_hash(
    settings: Settings, templates: LetterTemplates, tmp_path: Path
) -> None:
    """A volume rendered in the run's own process and the same volume rendered by worker
    processes (started afresh, with their own hash seeds) are the same bytes: where a volume
    renders does not change what is printed, or its SHA-256 in the log."""
    job = _volume_job(settings, templates)
    here = VolumeRenderer(templates, PrintOptions()).render(job)
    rendering = LocalRendering(templates, PrintOptions(), workers=2)
    with rendering.open(2, INLINE_BELOW_LETTERS) as pool:  # enough letters for workers
        assert isinstance(pool, ProcessPool)
        assert pool.workers == 2
        in_workers = [pool.submit(job).result(timeout=60) for _ in range(2)]
    assert [volume.pdf for volume in in_workers] == [here.pdf, here.pdf]
    assert {volume.sha256 for volume in in_workers} == {here.sha256}
    assert [volume.manifest_json for volume in in_workers] == [here.manifest_json] * 2
    written = VolumeFolder(tmp_path / "out").stage(job, here)
    VolumeFolder(tmp_path / "out").publish_volume(str(written.path))
    assert written.path.read_bytes() == here.pdf
    assert here.sha256 in written.path.with_name(f"{written.path.name}.sha256").read_text()


# Run as a file, as the `reminders` console script is: its workers must not run it again.
_MAIN_SCRIPT = """
import os, sys
from pathlib import Path

if __name__ == "__mp_main__":  # a spawned worker running this file again
    Path(os.environ["RUN_AGAIN_BY"], str(os.getpid())).touch()
if __name__ == "__main__":
    from reminders.adapters.printing.render_pool import INLINE_BELOW_LETTERS, LocalRendering
    from reminders.adapters.printing.text import LetterTemplates
    from reminders.config import PrintOptions, load_settings
    from tests.conftest import REPO
    from tests.integration.test_letter_pdf import _volume_job

    settings = load_settings(REPO / "config.toml", environ={})
    templates = LetterTemplates(settings.template_folders)
    job = _volume_job(settings, templates)
    with LocalRendering(templates, PrintOptions(), workers=2).open(2, INLINE_BELOW_LETTERS) as pool:
        rendered = [pool.submit(job) for _ in range(4)]
        print(len({future.result(timeout=60).sha256 for future in rendered}), len(rendered))
    print(sys.modules["__main__"].__spec__)
"""


def test_workers_started_from_a_script_do_not_run_the_script_again(tmp_path: Path) -> None:
    """A spawned worker runs the parent's main module again unless it is a package's
    ``__main__``: the console script's (the whole command line, 0.6 s of CPU a worker) is
    not, while the pool starts its workers; afterwards the main module is as it was."""
    script, again = tmp_path / "main_script.py", tmp_path / "run-again-by"
    script.write_text(_MAIN_SCRIPT, encoding="utf-8")
    again.mkdir()
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "RUN_AGAIN_BY": str(again), "PYTHONPATH": str(REPO)}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["1 4", "None"]  # one volume's bytes, four times
    assert list(again.iterdir()) == []


def test_a_worker_refuses_templates_or_options_the_run_did_not_check(
    settings: Settings, templates: LetterTemplates, tmp_path: Path
) -> None:
    """A worker whose templates differ from the ones the run checked and logged, or whose
    print options differ, renders nothing: its letters would not be the ones in the log."""
    job = _volume_job(settings, templates)
    renderer = VolumeRenderer(templates, PrintOptions())
    edited = replace(job, letters=(replace(job.letters[0], template_sha256="0" * 64),))
    with pytest.raises(RenderRefusedError, match="not the ones the run checked"):
        renderer.render(edited)
    duplex = VolumeRenderer(templates, PrintOptions(duplex=True))
    with pytest.raises(RenderRefusedError, match=r"\[print\] options"):
        duplex.render(job)


# -- (f) the page as printed -----------------------------------------------------------------

DPI = 100


def _grey_page(pdf: bytes) -> Any:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=DPI / 72).to_pil().convert("L")
    finally:
        document.close()


def _crop(image: Any, box: Box) -> Any:
    pixels = DPI / 25.4
    return image.crop(
        (
            round(box.left * pixels),
            round(box.top * pixels),
            round(box.right * pixels),
            round(box.bottom * pixels),
        )
    )


def _dark_pixels(image: Any) -> int:
    return sum(image.histogram()[:128])


def test_the_rendered_page_shows_the_address_in_the_window_and_empty_margins(
    settings: Settings, templates: LetterTemplates
) -> None:
    """Rendered by PDFium: the page is not blank, the window holds ink, the right margin
    (from 192 mm) holds none but the reference's QR code at its foot (from 266 mm down),
    the band above the letterhead none."""
    _, pdf = rendered(CASES["nl"], settings, templates)
    page = _grey_page(pdf)
    width, height = page.size
    assert abs(width - A4_WIDTH_MM * DPI / 25.4) < 1.5
    assert abs(height - A4_HEIGHT_MM * DPI / 25.4) < 1.5
    assert _dark_pixels(page) > 5_000
    assert _dark_pixels(_crop(page, Box.of(AddressWindow()))) > 500
    assert _dark_pixels(_crop(page, Box(192, 0, A4_WIDTH_MM - 192, 266))) == 0
    assert _dark_pixels(_crop(page, Box(192, 266, A4_WIDTH_MM - 192, 16))) > 300  # the code
    assert _dark_pixels(_crop(page, Box(192, 282, A4_WIDTH_MM - 192, A4_HEIGHT_MM - 282))) == 0
    assert _dark_pixels(_crop(page, Box(0, 0, A4_WIDTH_MM, 10))) == 0
    assert page.getextrema()[1] == 255  # white paper


# -- (g) fonts -------------------------------------------------------------------------------


def test_the_fonts_the_text_is_set_in_are_embedded(
    settings: Settings, templates: LetterTemplates
) -> None:
    """Every character is drawn in an embedded TrueType subset of DejaVu Sans (/FontFile2):
    the print room needs no font of its own."""
    _, pdf = rendered(CASES["fr+nl"], settings, templates)
    embedded = {
        str(font["/BaseFont"]).lstrip("/")
        for font in page_fonts(pdf)
        if "/FontFile2" in font_files(font)
    }
    assert {name.split("+")[-1] for name in embedded} == {"DejaVuSans", "DejaVuSans-Bold"}
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        used = {char["fontname"] for page in document.pages for char in page.chars}
    assert used <= embedded, used - embedded


def test_no_page_names_a_font_that_is_not_embedded(
    settings: Settings, templates: LetterTemplates
) -> None:
    """A print room's preflight (PDF/X, "all fonts embedded") checks every font a page
    names, used or not: none may be left to the printer's own fonts."""
    _, pdf = rendered(CASES["nl"], settings, templates)
    fonts = page_fonts(pdf)
    missing = sorted({str(font["/BaseFont"]) for font in fonts if not font_files(font)})
    assert not missing, f"fonts named but not embedded: {missing}"
