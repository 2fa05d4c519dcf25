"""Print-ready volumes on disk: a run's rendered volumes (adapters/printing/volume_render.py)
written under the output directory, each PDF with its manifests (CSV and JSON) and SHA-256.

A volume's files are written under hidden staged names (``.<name>.part``, synced to disk)
before the volume is recorded, and renamed to their final names only once the run is sealed
into the dispatch log (`VolumeFolder.publish_volume`): no half-written volume, and no volume
whose letters are not logged, is ever visible under a real name. The database says which
staged files belong to a run, so a run stopped in between is finished by renaming them, and
staged files it never recorded are deleted (`VolumeFolder.forget_unrecorded`).

With a pick-up folder of its own for the print shop (``[print] pickup_dir``, issue 21), the
output folder is the installation's own: a volume is copied to the pick-up folder once it is
released (at once with its run, or by an approver), under the same path below the folder and
again staged first, so the print shop never sees a volume that is half there or still held.
"""

from __future__ import annotations

import io
import os
from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path

from reminders.adapters.printing.pdf import LetterLayout
from reminders.adapters.private_files import OWNER_ONLY, FileModes
from reminders.domain.letters import LetterMunicipality, LetterSpec, LetterText, WrittenVolume
from reminders.domain.volume_job import RenderedVolume, VolumeJob
from reminders.errors import RemindersError


def staged_name(final: Path) -> Path:
    """Where a file waits, hidden from the print room, until it is published."""
    return final.with_name(f".{final.name}.part")


def volume_files(pdf: Path) -> tuple[Path, ...]:
    """A volume's files: the PDF, its manifests and its checksum."""
    return (pdf, pdf.with_suffix(".csv"), pdf.with_suffix(".json"),
            pdf.with_name(f"{pdf.name}.sha256"))  # fmt: skip


def write_staged(final: Path, content: bytes, modes: FileModes = OWNER_ONLY) -> None:
    """Write ``content`` under the staged name of ``final``, synced to disk, with ``modes``'
    file mode (its folders with theirs): the rename keeps it."""
    modes.make_folders(final.parent)
    modes.write_bytes(staged_name(final), content, sync=True)


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


def preview_pdf(
    layout: LetterLayout,
    spec: LetterSpec,
    texts: Sequence[LetterText],
    municipality: LetterMunicipality,
) -> bytes:
    """One letter exactly as a volume prints it, without cover sheet, as PDF bytes."""
    buffer = io.BytesIO()
    canvas = layout.canvas(buffer, title=spec.reference)
    contacts = bool(municipality.letterhead.contacts_for(spec.languages))
    layout.draw_letter(canvas, spec, layout.prepared(texts, contacts=contacts), municipality)
    canvas.save()
    return buffer.getvalue()


class VolumeFolder:
    """Writes a run's volumes under ``output_dir/<NIS>/<date>-run-<id>/`` (a PrintShop)."""

    def __init__(
        self, output_dir: Path, pickup_dir: Path | None = None, modes: FileModes = OWNER_ONLY
    ) -> None:
        self.output_dir = output_dir.resolve()
        self.pickup_dir = None if pickup_dir is None else pickup_dir.resolve()
        self.modes = modes  # owner-only, or readable by the print operator's group

    def stage(self, job: VolumeJob, rendered: RenderedVolume) -> WrittenVolume:
        """Write a rendered volume's files under their staged names, synced to disk."""
        directory = self.run_directory(job.municipality.nis_code, job.run_id, job.as_of)
        volume = WrittenVolume(
            directory / rendered.file_name,
            job.municipality.nis_code,
            job.sequence,
            job.language,
            rendered.sha256,
            rendered.pages,
            rendered.letters,
        )
        pdf, csv_file, json_file, checksum = volume_files(volume.path)
        write_staged(pdf, rendered.pdf, self.modes)
        write_staged(csv_file, rendered.manifest_csv, self.modes)
        write_staged(json_file, rendered.manifest_json, self.modes)
        write_staged(checksum, f"{rendered.sha256}  {rendered.file_name}\n".encode(), self.modes)
        return volume

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

    def deliver(self, path: str) -> None:
        """Copy a published volume's files to the pick-up folder, each staged then renamed;
        again after a stop, identically. Without a pick-up folder the print shop reads the
        output folder: nothing to do."""
        if self.pickup_dir is None:
            return
        source = Path(path)
        try:
            relative = source.relative_to(self.output_dir)
        except ValueError as err:
            raise VolumeMissingError(
                f"{source} is not in the output folder {self.output_dir}"
            ) from err
        targets = []
        for file in volume_files(source):
            if not file.exists():
                raise VolumeMissingError(
                    f"{file}: the volume's file is gone from the output folder"
                )
            target = self.pickup_dir / relative.parent / file.name
            if not target.exists() or target.read_bytes() != file.read_bytes():
                write_staged(target, file.read_bytes(), self.modes)
            targets.append(target)
        publish_files(targets)

    def delivered(self, path: str) -> Path:
        """Where a volume is for the print shop: in the pick-up folder, or where it is."""
        if self.pickup_dir is None:
            return Path(path)
        return self.pickup_dir / Path(path).relative_to(self.output_dir)

    def write_checkpoint(
        self, municipality_nis: str, run_id: int, as_of: date, tree_size: int, note: str
    ) -> Path:
        """The run's signed checkpoint beside its volumes, for auditors to keep outside the
        database; written again, identically, by an attempt that resumes publishing."""
        path = self.run_directory(municipality_nis, run_id, as_of) / f"checkpoint-{tree_size}.txt"
        write_staged(path, note.encode(), self.modes)
        publish_files([path])
        return path
