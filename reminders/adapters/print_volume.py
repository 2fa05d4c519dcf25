"""Print-ready volumes: a run's letters for one municipality (and language) in PDFs of at most
N letters, each with a cover sheet, a manifest (CSV and JSON) and its SHA-256.

A volume's files are written under hidden staged names (``.<name>.part``, synced to disk)
before the volume is recorded, and renamed to their final names only once the run is sealed
into the dispatch log (`VolumeFolder.publish_volume`): no half-written volume, and no volume
whose letters are not logged, is ever visible under a real name. The database says which
staged files belong to a run, so a run stopped in between is finished by renaming them, and
staged files it never recorded are deleted (`VolumeFolder.forget_unrecorded`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reminders.adapters.pdf import LetterLayout, PreparedLetter
from reminders.adapters.text import long_date
from reminders.config import PrintOptions
from reminders.domain.letter_language import language_label
from reminders.domain.letters import (
    LetterMunicipality,
    LetterSpec,
    LetterText,
    PrintedLetter,
    WrittenVolume,
    address_sha256,
)
from reminders.domain.model import Language
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


def staged_name(final: Path) -> Path:
    """Where a file waits, hidden from the print room, until it is published."""
    return final.with_name(f".{final.name}.part")


def volume_files(pdf: Path) -> tuple[Path, ...]:
    """A volume's files: the PDF, its manifests and its checksum."""
    return (pdf, pdf.with_suffix(".csv"), pdf.with_suffix(".json"),
            pdf.with_name(f"{pdf.name}.sha256"))  # fmt: skip


def write_staged(final: Path, content: bytes) -> None:
    """Write ``content`` under the staged name of ``final``, synced to disk."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with staged_name(final).open("wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def publish_files(finals: Sequence[Path]) -> None:
    """Rename staged files to their final names (atomic per file on one file system), then
    sync the directories so the renames survive a power cut. A file already renamed (by an
    attempt that stopped half-way) is left as it is; one that is neither staged nor final was
    lost, and publishing stops there."""
    for final in finals:
        staged = staged_name(final)
        if staged.exists():
            os.replace(staged, final)
        elif not final.exists():
            raise VolumeMissingError(f"{final}: neither the file nor its staged copy exists")
    for directory in {final.parent for final in finals}:
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class VolumeMissingError(RemindersError):
    """A recorded volume's file is gone from the output directory (exit 1)."""


@dataclass(slots=True)
class _Pending:
    spec: LetterSpec
    letter: PreparedLetter
    document_number: str
    postal_code: str
    decision_id: int
    templates: str
    template_sha256: str


class VolumeSeries:
    """The volumes of one municipality (and language) in a run, filled in sorting order."""

    def __init__(
        self,
        layout: LetterLayout,
        *,
        directory: Path,
        municipality: LetterMunicipality,
        run_id: int,
        as_of: date,
        language: str | None,
        max_letters: int,
        duplex: bool,
        volumes_before: int = 0,
    ) -> None:
        self.layout, self.directory = layout, directory
        self.municipality, self.run_id, self.as_of = municipality, run_id, as_of
        self.language, self.max_letters, self.duplex = language, max_letters, duplex
        self._pending: list[_Pending] = []
        self._sequence = volumes_before  # a resumed run continues its series

    def add(
        self,
        spec: LetterSpec,
        texts: Sequence[LetterText],
        *,
        decision_id: int,
        document_number: str,
        postal_code: str,
        templates: str,
        template_sha256: str,
    ) -> WrittenVolume | None:
        """Adds a letter; returns the volume it completed, if it was the last that fits."""
        self._pending.append(
            _Pending(
                spec,
                self.layout.prepared(texts),
                document_number,
                postal_code,
                decision_id,
                templates,
                template_sha256,
            )
        )
        if len(self._pending) >= self.max_letters:
            return self.close()
        return None

    def close(self) -> WrittenVolume | None:
        """Writes the letters added since the last volume, if any, as the next volume."""
        if not self._pending:
            return None
        self._sequence += 1
        pending, self._pending = self._pending, []
        series = f"volume-{self.language}" if self.language else "volume"
        name = f"{series}-{self._sequence:03d}"
        path = self.directory / f"{name}.pdf"
        content, letters, pages = self._pdf(pending, path.name)
        sha256 = hashlib.sha256(content).hexdigest()
        volume = WrittenVolume(
            path, self.municipality.nis_code, self._sequence, self.language, sha256, pages, letters
        )
        pdf, csv_file, json_file, checksum = volume_files(path)
        write_staged(pdf, content)
        write_staged(csv_file, _manifest_csv(letters))
        write_staged(json_file, self._manifest_json(volume))
        write_staged(checksum, f"{sha256}  {path.name}\n".encode())
        return volume

    def _pdf(
        self, pending: Sequence[_Pending], file_name: str
    ) -> tuple[bytes, tuple[PrintedLetter, ...], int]:
        cover_pages = 2 if self.duplex else 1
        page = cover_pages + 1
        placed: list[PrintedLetter] = []
        for item in pending:
            count = item.letter.page_count
            placed.append(
                PrintedLetter(
                    decision_id=item.decision_id,
                    reference=item.spec.reference,
                    document_kind=item.spec.document_kind.value,
                    document_number=item.document_number,
                    stage=item.spec.stage,
                    language=language_label(item.spec.languages),
                    postal_code=item.postal_code,
                    first_page=page,
                    page_count=count,
                    templates=item.templates,
                    template_sha256=item.template_sha256,
                    address_sha256=address_sha256(item.spec.address_lines),
                )
            )
            page += count + (count % 2 if self.duplex else 0)  # duplex: the next on a recto
        last_page = page - 1
        buffer = io.BytesIO()
        canvas = self.layout.canvas(buffer, title=file_name)
        self.layout.draw_cover(canvas, self._cover_lines(placed, cover_pages, last_page),
                               self._cover_title())  # fmt: skip
        if self.duplex:
            self.layout.draw_blank(canvas)
        for item in pending:
            self.layout.draw_letter(canvas, item.spec, item.letter, self.municipality)
            if self.duplex and item.letter.page_count % 2:
                self.layout.draw_blank(canvas)
        canvas.save()
        return buffer.getvalue(), tuple(placed), last_page

    def _cover_title(self) -> str:
        labels = _COVER[self.municipality.languages[0]]
        return f"{labels['title']} {self._sequence}"

    def _cover_lines(
        self, letters: Sequence[PrintedLetter], cover_pages: int, last_page: int
    ) -> list[tuple[str, str]]:
        language = self.municipality.languages[0]
        labels = _COVER[language]
        codes = [letter.postal_code for letter in letters]
        lines = [
            (labels["municipality"], f"{self.municipality.name} ({self.municipality.nis_code})"),
            (labels["run"], f"{self.run_id} · {long_date(self.as_of, language)}"),
            (labels["volume"], str(self._sequence)),
            (labels["letters"], str(len(letters))),
            (labels["pages"], f"{cover_pages + 1}-{last_page}"),
            (labels["postal_codes"], f"{codes[0]} - {codes[-1]}"),
            (labels["duplex"], labels["yes" if self.duplex else "no"]),
        ]
        if self.language:
            lines.append((labels["language"], self.language))
        return lines

    def _manifest_json(self, volume: WrittenVolume) -> bytes:
        document = {
            "volume": volume.path.name,
            "sha256": volume.sha256,
            "municipality_nis": self.municipality.nis_code,
            "municipality": self.municipality.name,
            "run_id": self.run_id,
            "date": self.as_of.isoformat(),
            "sequence": volume.sequence,
            "language": volume.language,
            "duplex": self.duplex,
            "letters": len(volume.letters),
            "pages": volume.pages,
            "letters_per_postal_code": dict(
                sorted(Counter(letter.postal_code for letter in volume.letters).items())
            ),
            "entries": [
                dict(zip(MANIFEST_COLUMNS, _manifest_row(letter), strict=True))
                for letter in volume.letters
            ],
        }
        return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode()


def _manifest_csv(letters: Sequence[PrintedLetter]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(_manifest_row(letter) for letter in letters)
    return buffer.getvalue().encode()


def _manifest_row(letter: PrintedLetter) -> list[object]:
    """A letter's manifest fields, in MANIFEST_COLUMNS order (the CSV's and the JSON's)."""
    return [getattr(letter, column) for column in MANIFEST_COLUMNS]


def preview_pdf(
    layout: LetterLayout,
    spec: LetterSpec,
    texts: Sequence[LetterText],
    municipality: LetterMunicipality,
) -> bytes:
    """One letter exactly as a volume prints it, without cover sheet, as PDF bytes."""
    buffer = io.BytesIO()
    canvas = layout.canvas(buffer, title=spec.reference)
    layout.draw_letter(canvas, spec, layout.prepared(texts), municipality)
    canvas.save()
    return buffer.getvalue()


class VolumeFolder:
    """Writes a run's volumes under ``output_dir/<NIS>/<date>-run-<id>/`` (a PrintShop)."""

    def __init__(self, layout: LetterLayout, output_dir: Path, options: PrintOptions) -> None:
        self.layout, self.output_dir, self.options = layout, output_dir.resolve(), options

    def series(
        self,
        municipality: LetterMunicipality,
        run_id: int,
        as_of: date,
        language: str | None,
        *,
        volumes_before: int = 0,
    ) -> VolumeSeries:
        return VolumeSeries(
            self.layout,
            directory=self.run_directory(municipality.nis_code, run_id, as_of),
            municipality=municipality,
            run_id=run_id,
            as_of=as_of,
            language=language,
            max_letters=self.options.volume_max_letters,
            duplex=self.options.duplex,
            volumes_before=volumes_before,
        )

    def run_directory(self, municipality_nis: str, run_id: int, as_of: date) -> Path:
        return self.output_dir / municipality_nis / f"{as_of}-run-{run_id:06d}"

    def forget_unrecorded(
        self, municipality_nis: str, run_id: int, as_of: date, recorded: Collection[str]
    ) -> int:
        """Delete the staged files of volumes a stopped attempt wrote but never recorded;
        returns how many. The staged files of recorded volumes wait to be published."""
        directory = self.run_directory(municipality_nis, run_id, as_of)
        if not directory.is_dir():
            return 0
        kept = {staged_name(file) for path in recorded for file in volume_files(Path(path))}
        orphans = [staged for staged in directory.glob(".*.part") if staged not in kept]
        for staged in orphans:
            staged.unlink()
        return len(orphans)

    def publish_volume(self, path: str) -> None:
        """Give a recorded volume's files their final names (the run is sealed)."""
        publish_files(volume_files(Path(path)))

    def write_checkpoint(
        self, municipality_nis: str, run_id: int, as_of: date, tree_size: int, note: str
    ) -> Path:
        """The run's signed checkpoint beside its volumes, for auditors to keep outside the
        database; written again, identically, by an attempt that resumes publishing."""
        path = self.run_directory(municipality_nis, run_id, as_of) / f"checkpoint-{tree_size}.txt"
        write_staged(path, note.encode())
        publish_files([path])
        return path
