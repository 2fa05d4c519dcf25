"""The auditor's report as PDF, read back with pypdf, pdfplumber and PDFium: one section per
municipality on pages of its own and in its language, every hash whole and copyable, the
verdict as the report says it, tables that flow over pages without leaving the page, the same
bytes for the same report, and the fonts inside the file. Synthetic data only."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC, date, datetime

import pdfplumber
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from reminders.adapters.printing.audit_report_pdf import audit_report_pdf
from reminders.domain.audit_report import (
    MunicipalityRunReport,
    ReportImport,
    ReportVolume,
    RunAuditReport,
)
from reminders.domain.checkpoint import Checkpoint, signed_checkpoint
from reminders.domain.model import Language
from tests.pdf_reading import A4_WIDTH_MM, MM, flat, font_files, page_fonts, page_texts

RUN_ID = 12
SIGNED_AT = datetime(2027, 3, 1, 2, 14, 5, tzinfo=UTC)
KEY_NAME = "reminders.example/audit-test-key"  # long: the signature line must wrap
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: Ed25519 is deterministic


def _sha(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def municipality(
    nis_code: str,
    name: str,
    language: Language,
    *,
    volumes: int = 2,
    empty: bool = False,
    verified: bool = True,
) -> MunicipalityRunReport:
    """A municipality's part of run 12 with a real signed checkpoint; ``empty``: no letters,
    no skips, no volumes."""
    root = hashlib.sha256(f"root {nis_code}".encode()).digest()
    signed = signed_checkpoint(Checkpoint(nis_code, 250, root, SIGNED_AT, RUN_ID), KEY, KEY_NAME)
    folder = f"/srv/reminders/volumes/{nis_code}/run-{RUN_ID}-2027-03-01"
    return MunicipalityRunReport(
        nis_code=nis_code,
        name=name,
        language=language,
        run_id=RUN_ID,
        as_of=date(2027, 3, 1),
        started_at="2027-03-01T02:00:00Z",
        started_by="scheduler",
        config_sha256=_sha(f"config {nis_code}"),
        code_version="0.1.0+g1a2b3c4",
        imports=(
            ReportImport(
                7,
                "persons",
                "persons-2027-02-28.csv",
                _sha(f"persons {nis_code}"),
                "2027-02-28T23:10:00Z",
            ),
            ReportImport(
                8,
                "documents",
                "documents-2027-02-28.csv",
                _sha(f"docs {nis_code}"),
                "2027-02-28T23:20:00Z",
            ),
        ),
        first_seq=101,
        last_seq=100 if empty else 250,
        letters_by_stage=() if empty else (("driving_licence/first", 12), ("eid/first", 30)),
        letters_by_language=() if empty else (("fr+nl", 2), (language.value, 40)),
        skips_by_reason=() if empty else (("deceased", 2), ("emigrated", 1)),
        volumes=()
        if empty
        else tuple(
            ReportVolume(
                f"{folder}/volume-{language.value}-{n:03}.pdf",
                _sha(f"volume {nis_code} {n}"),
                letters=21,
                pages=23,
                language=language.value,
            )
            for n in range(1, volumes + 1)
        ),
        checkpoint_note=signed.note(),
        checkpoint_size=250,
        checkpoint_root=root.hex(),
        checkpoint_signed_at="2027-03-01T02:14:05Z",
        key_id=signed.key_id.hex(),
        verified=verified,
        verification=(
            f"Verification sentence one for {nis_code}.",
            f"Verification sentence two for {nis_code}.",
        ),
    )


LONG_NAME = "volume-" + "-".join(["nl"] * 60) + ".pdf"  # wraps, however wide the column
GENT = municipality("44021", "Gent", Language.NL)
GENT = replace(GENT, volumes=(*GENT.volumes, replace(GENT.volumes[0], path=f"/x/{LONG_NAME}",
                                                     sha256=_sha("long"))))  # fmt: skip
NAMUR = municipality("92094", "Namur", Language.FR, volumes=40)
EUPEN = municipality("63023", "Eupen", Language.DE, empty=True, verified=False)


def report(*municipalities: MunicipalityRunReport) -> RunAuditReport:
    generated_at = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
    return RunAuditReport(RUN_ID, generated_at, municipalities)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return audit_report_pdf(report(GENT, NAMUR, EUPEN))


@pytest.fixture(scope="module")
def texts(pdf: bytes) -> list[str]:
    return page_texts(pdf)


def _sections(texts: list[str]) -> dict[str, list[str]]:
    """The pages of each municipality's section, by NIS code (read from the footers)."""
    sections: dict[str, list[str]] = {}
    for text in texts:
        nis = next(m.nis_code for m in (GENT, NAMUR, EUPEN) if f"({m.nis_code})" in text)
        sections.setdefault(nis, []).append(text)
    return sections


def test_it_is_a_pdf_of_a4_pages_with_every_section_starting_a_page(
    pdf: bytes, texts: list[str]
) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(texts) >= 4  # Namur's 40 volumes take a second page
    for page in reader.pages:
        assert (
            round(float(page.mediabox.width) / MM),
            round(float(page.mediabox.height) / MM),
        ) == (
            210,
            297,
        )
    titles = {
        "44021": "Auditrapport van run 12",
        "92094": "Rapport d'audit de l'exécution 12",
        "63023": "Prüfbericht zum Lauf 12",
    }
    sections = _sections(texts)
    assert list(sections) == list(titles)  # in the report's order
    for nis, pages in sections.items():
        assert pages[0].lstrip().startswith(titles[nis]), pages[0][:200]
        assert sum(titles[nis] in page for page in texts) == 1  # the title only once
    assert len(sections["92094"]) >= 2


PHRASES = {
    "44021": ["Gemeente Gent — NIS-code 44021", "Peildatum 2027-03-01", "Gestart door scheduler",
              "Gelezen registerimporten", "Brieven per fase", "Brieven per taal",
              "Overgeslagen, per reden", "Printvolumes", "Ondertekende notitie", "Totaal 42",
              "deceased 2", "eid/first 30", "logboek van de gemeente: 101-250 (150)"],
    "92094": ["Commune Namur — Code INS 92094", "Date de référence 2027-03-01",
              "Imports de registre lus", "Lettres par étape", "Omissions par motif",
              "Volumes d'impression", "Point de contrôle", "Hash racine", "Total 3"],
    "63023": ["Gemeinde Eupen — NIS-Code 63023", "Stichtag 2027-03-01", "Briefe pro Stufe",
              "keine", "Druckbände", "Prüfpunkt", "Wurzel-Hash", "Überprüfung"],
}  # fmt: skip


@pytest.mark.parametrize("nis", list(PHRASES))
def test_each_section_is_in_its_municipality_s_language(texts: list[str], nis: str) -> None:
    section = flat("\n".join(_sections(texts)[nis]))
    for phrase in PHRASES[nis]:
        assert phrase in section, (phrase, section[:3000])
    foreign = {"44021": "Prüfpunkt", "92094": "Printvolumes", "63023": "Point de contrôle"}
    assert foreign[nis] not in section


def test_footers_number_the_pages_in_the_section_s_language(texts: list[str]) -> None:
    total = len(texts)
    words = {"44021": "pagina", "92094": "page", "63023": "Seite"}
    runs = {"44021": "Run 12", "92094": "Exécution 12", "63023": "Lauf 12"}
    number = 0
    for nis, pages in _sections(texts).items():
        for page in pages:
            number += 1
            assert f"{words[nis]} {number}/{total}" in page
            assert runs[nis] in page


def test_a_municipality_without_letters_says_none_in_every_table(texts: list[str]) -> None:
    section = flat("\n".join(_sections(texts)["63023"]))
    headings = ("Briefe pro Stufe", "Briefe pro Sprache", "Übersprungen, nach Grund", "Druckbände")
    for heading in headings:
        after = section.split(heading, 1)[1]
        assert after.split()[0] == "keine", (heading, after[:40])
    assert "Einträge dieses Laufs im Protokoll der Gemeinde: keine" in section


def test_every_hash_is_one_piece_of_text(texts: list[str]) -> None:
    """Volumes', imports' and configuration hashes and the checkpoint's root come out of the
    PDF whole, as do the note's root line and signature (each on a line of its own)."""
    lines = {line.strip() for text in texts for line in text.split("\n")}
    everything = "\n".join(texts)
    for m in (GENT, NAMUR, EUPEN):
        hashes = [m.config_sha256, m.checkpoint_root, *(i.file_sha256 for i in m.imports)]
        hashes += [v.sha256 for v in m.volumes]
        for digest in hashes:
            assert len(digest) == 64
            assert digest in everything, digest
        note = m.checkpoint_note.rstrip("\n").split("\n")
        root_line, signature = note[2], note[-1].rsplit(" ", 1)[1]
        assert root_line in lines
        assert signature in lines  # wrapped after the key name, not inside the base64
        assert note[0] in lines
        assert f"time {SIGNED_AT:%Y-%m-%dT%H:%M:%SZ}" in lines
    assert len(NAMUR.volumes) == 40
    assert sum(NAMUR.volumes[0].sha256 in text for text in texts) == 1


def test_volumes_show_their_file_and_folder_only(texts: list[str]) -> None:
    section = "\n".join(_sections(texts)["92094"])
    assert "/srv/reminders" not in section
    assert "run-12-2027-03-01/" in section  # the folder, broken after its slash
    assert "volume-fr-040.pdf (fr)" in section
    assert "Total 840 920" in flat(section)  # 40 volumes of 21 letters and 23 pages
    # Wrapped over lines, but all there (PDFium marks a line that ends in "-" with U+FFFE).
    gent = "".join("\n".join(_sections(texts)["44021"]).replace("\ufffe", "-").split())
    assert f"x/{LONG_NAME}(nl)" in gent


def test_the_verdict_follows_verified(texts: list[str]) -> None:
    sections = {nis: flat("\n".join(pages)) for nis, pages in _sections(texts).items()}
    assert "OK — de verificatie is geslaagd" in sections["44021"]
    assert "OK — la vérification a réussi" in sections["92094"]
    assert "GEBROCHEN — die Überprüfung ist fehlgeschlagen" in sections["63023"]
    assert "GEBROCHEN" not in sections["44021"] + sections["92094"]
    assert "OK —" not in sections["63023"]
    assert "Verification sentence two for 63023." in sections["63023"]
    broken = flat("\n".join(page_texts(audit_report_pdf(report(replace(GENT, verified=False))))))
    assert "GEBROKEN — de verificatie is mislukt" in broken
    assert "OK —" not in broken


LEFT = 19.5  # mm: the 20 mm margin, less a little for glyphs' side bearings


def test_nothing_is_drawn_outside_the_margins(pdf: bytes) -> None:
    """Long file names wrap and the hash columns fit: no character leaves the 20 mm margins."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, 1):
            outside = [
                c["text"]
                for c in page.chars
                if float(c["x0"]) < LEFT * MM or float(c["x1"]) > (A4_WIDTH_MM - LEFT) * MM
            ]
            assert not outside, (number, "".join(outside))
            assert page.chars


def test_a_run_without_municipalities_still_gives_a_pdf() -> None:
    empty = audit_report_pdf(report())
    assert len(PdfReader(io.BytesIO(empty)).pages) == 1
    assert "geen" in page_texts(empty)[0]


def test_the_same_report_gives_the_same_bytes(pdf: bytes) -> None:
    assert audit_report_pdf(report(GENT, NAMUR, EUPEN)) == pdf
    assert audit_report_pdf(report(GENT, NAMUR, replace(EUPEN, verified=True))) != pdf


def test_every_font_is_embedded(pdf: bytes) -> None:
    fonts = page_fonts(pdf)
    assert fonts
    names = {str(font["/BaseFont"]).lstrip("/").split("+")[-1] for font in fonts}
    assert names == {"DejaVuSans", "DejaVuSans-Bold"}
    assert all("/FontFile2" in font_files(font) for font in fonts)
