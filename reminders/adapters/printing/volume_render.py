"""Rendering a print volume: the letters' texts from the templates, laid out for the window
envelope, drawn into one PDF after a cover sheet, with the volume's manifests (CSV and JSON).

Pure work on a `VolumeJob`: no database and no files written, so it runs in the run's own
process or in any worker (reminders/adapters/printing/render_pool.py, render_queue.py) and gives the
same bytes wherever it runs. A worker renders only with the templates the run logged and the
print options it decided with; anything else would print letters the log does not describe.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Sequence

from reminders.adapters.printing.pdf import LetterLayout, PreparedLetter
from reminders.adapters.printing.text import LetterTemplates, long_date
from reminders.adapters.spreadsheet_csv import SpreadsheetCsv
from reminders.config import PrintOptions
from reminders.domain.letter_language import language_label
from reminders.domain.letters import PrintedLetter, address_sha256
from reminders.domain.model import DocumentKind, Language
from reminders.domain.volume_job import LetterToPrint, RenderedVolume, VolumeJob, combined_sha256
from reminders.errors import RemindersError

MANIFEST_COLUMNS = (
    "reference",
    "document_kind",
    "document_number",
    "stage",
    "language",
    "postal_code",
    "first_page",
    "page_count",
)
_COVER: dict[Language, dict[str, str]] = {
    Language.NL: {"title": "Printvolume", "municipality": "Gemeente", "run": "Run",
                  "volume": "Volume", "letters": "Brieven", "pages": "Pagina's van de brieven",
                  "postal_codes": "Postcodes", "duplex": "Recto verso", "yes": "ja", "no": "nee",
                  "language": "Taal"},
    Language.FR: {"title": "Volume d'impression", "municipality": "Commune", "run": "Exécution",
                  "volume": "Volume", "letters": "Lettres", "pages": "Pages des lettres",
                  "postal_codes": "Codes postaux", "duplex": "Recto verso", "yes": "oui",
                  "no": "non", "language": "Langue"},
    Language.DE: {"title": "Druckband", "municipality": "Gemeinde", "run": "Lauf",
                  "volume": "Band", "letters": "Briefe", "pages": "Seiten der Briefe",
                  "postal_codes": "Postleitzahlen", "duplex": "Beidseitig", "yes": "ja",
                  "no": "nein", "language": "Sprache"},
}  # fmt: skip


class RenderRefusedError(RemindersError):
    """A worker's templates or print options are not the run's (exit 1): restart the workers
    with the installation's current templates and config.toml."""


def print_options_key(options: PrintOptions) -> str:
    """The print options that change a volume's bytes, as a job carries them."""
    return repr((options.duplex, options.window))


class VolumeRenderer:
    """Renders volumes with one installation's templates, fonts and print options."""

    def __init__(self, templates: LetterTemplates, options: PrintOptions) -> None:
        self.templates, self.options = templates, options
        self.layout = LetterLayout(options.window)
        self._options_key = print_options_key(options)
        self._checked: set[tuple[str, DocumentKind, str, tuple[Language, ...], str]] = set()

    def render(self, job: VolumeJob) -> RenderedVolume:
        if job.print_options != self._options_key:
            raise RenderRefusedError(
                f"{job.file_name} of run {job.run_id}: this worker's [print] options "
                f"({self._options_key}) are not the run's ({job.print_options})"
            )
        prepared = [self._prepared(job, letter) for letter in job.letters]
        cover_pages = 2 if self.options.duplex else 1
        page = cover_pages + 1
        placed: list[PrintedLetter] = []
        for letter, laid_out in zip(job.letters, prepared, strict=True):
            count = laid_out.page_count
            placed.append(_printed(letter, page, count))
            page += count + (count % 2 if self.options.duplex else 0)  # duplex: next on a recto
        last_page = page - 1
        pdf = self._pdf(job, prepared, placed, cover_pages, last_page)
        sha256 = hashlib.sha256(pdf).hexdigest()
        letters = tuple(placed)
        return RenderedVolume(
            file_name=job.file_name,
            sha256=sha256,
            pages=last_page,
            letters=letters,
            pdf=pdf,
            manifest_csv=_manifest_csv(letters),
            manifest_json=self._manifest_json(job, sha256, last_page, letters),
        )

    def _prepared(self, job: VolumeJob, letter: LetterToPrint) -> PreparedLetter:
        spec = letter.spec
        self._check_templates(job, letter)
        texts = [
            self.templates.text(spec, language, job.municipality) for language in spec.languages
        ]
        contacts = bool(job.municipality.letterhead.contacts_for(spec.languages))
        return self.layout.prepared(texts, contacts=contacts)

    def _check_templates(self, job: VolumeJob, letter: LetterToPrint) -> None:
        spec = letter.spec
        nis = job.municipality.nis_code  # its own templates, if it has any
        key = (nis, spec.document_kind, spec.stage, spec.languages, letter.template_sha256)
        if key in self._checked:
            return
        digests = [
            self.templates.source_sha256(spec.document_kind, spec.stage, language, nis)
            for language in spec.languages
        ]
        if combined_sha256(digests) != letter.template_sha256:
            raise RenderRefusedError(
                f"{job.file_name} of run {job.run_id}: this worker's templates {letter.templates} "
                f"are not the ones the run checked and logged (SHA-256 {letter.template_sha256})"
            )
        self._checked.add(key)

    def _pdf(
        self,
        job: VolumeJob,
        prepared: Sequence[PreparedLetter],
        placed: Sequence[PrintedLetter],
        cover_pages: int,
        last_page: int,
    ) -> bytes:
        buffer = io.BytesIO()
        canvas = self.layout.canvas(buffer, title=job.file_name)
        self.layout.draw_cover(
            canvas, _cover_lines(job, placed, cover_pages, last_page, self.options.duplex),
            _cover_title(job),
        )  # fmt: skip
        if self.options.duplex:
            self.layout.draw_blank(canvas)
        for letter, laid_out in zip(job.letters, prepared, strict=True):
            self.layout.draw_letter(canvas, letter.spec, laid_out, job.municipality)
            if self.options.duplex and laid_out.page_count % 2:
                self.layout.draw_blank(canvas)
        canvas.save()
        return buffer.getvalue()

    def _manifest_json(
        self, job: VolumeJob, sha256: str, pages: int, letters: Sequence[PrintedLetter]
    ) -> bytes:
        document = {
            "volume": job.file_name,
            "sha256": sha256,
            "municipality_nis": job.municipality.nis_code,
            "municipality": job.municipality.name,
            "run_id": job.run_id,
            "date": job.as_of.isoformat(),
            "sequence": job.sequence,
            "language": job.language,
            "duplex": self.options.duplex,
            "letters": len(letters),
            "pages": pages,
            "letters_per_postal_code": dict(
                sorted(Counter(letter.postal_code for letter in letters).items())
            ),
            "entries": [
                dict(zip(MANIFEST_COLUMNS, _manifest_row(letter), strict=True))
                for letter in letters
            ],
        }
        return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode()


def _printed(letter: LetterToPrint, first_page: int, page_count: int) -> PrintedLetter:
    spec = letter.spec
    return PrintedLetter(
        decision_id=letter.decision_id,
        reference=spec.reference,
        document_kind=spec.document_kind.value,
        document_number=letter.document_number,
        stage=spec.stage,
        language=language_label(spec.languages),
        postal_code=letter.postal_code,
        first_page=first_page,
        page_count=page_count,
        templates=letter.templates,
        template_sha256=letter.template_sha256,
        address_sha256=address_sha256(spec.address_lines),
    )


def _cover_title(job: VolumeJob) -> str:
    title = f"{_COVER[job.municipality.languages[0]]['title']} {job.sequence}"
    return f"{title} ({job.file_stem})" if job.file_stem else title


def _cover_lines(
    job: VolumeJob,
    letters: Sequence[PrintedLetter],
    cover_pages: int,
    last_page: int,
    duplex: bool,
) -> list[tuple[str, str]]:
    municipality = job.municipality
    language = municipality.languages[0]
    labels = _COVER[language]
    codes = [letter.postal_code for letter in letters]
    lines = [
        (labels["municipality"], f"{municipality.name} ({municipality.nis_code})"),
        (labels["run"], f"{job.run_id} · {long_date(job.as_of, language)}"),
        (labels["volume"], str(job.sequence)),
        (labels["letters"], str(len(letters))),
        (labels["pages"], f"{cover_pages + 1}-{last_page}"),
        (labels["postal_codes"], f"{codes[0]} - {codes[-1]}"),
        (labels["duplex"], labels["yes" if duplex else "no"]),
    ]
    if job.language:
        lines.append((labels["language"], job.language))
    return lines


def _manifest_csv(letters: Sequence[PrintedLetter]) -> bytes:
    buffer = io.StringIO()
    writer = SpreadsheetCsv(buffer, MANIFEST_COLUMNS)
    writer.header()
    for letter in letters:
        writer.row(_manifest_row(letter))
    return buffer.getvalue().encode()


def _manifest_row(letter: PrintedLetter) -> list[object]:
    """A letter's manifest fields, in MANIFEST_COLUMNS order (the CSV's and the JSON's)."""
    return [getattr(letter, column) for column in MANIFEST_COLUMNS]
