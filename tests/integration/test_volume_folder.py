"""The volume folder's staged files: what a stopped attempt wrote but never recorded is deleted
before the run resumes, what it recorded waits to be published, and published files stay.

Orphans are rare in real runs (a resumed attempt cuts the same volumes and overwrites them),
but a resume cuts with the config in force then: with `volume_max_letters` raised between the
attempts, a series has fewer volumes the second time, and the first attempt's last staged
volume would stay behind, recorded, sealed and published by no one.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from reminders.adapters.printing.print_volume import (
    VolumeFolder,
    publish_files,
    staged_name,
    volume_files,
    write_staged,
)

NIS = "44021"
RUN = 7
AS_OF = date(2027, 3, 1)


def _stage_volume(folder: VolumeFolder, name: str) -> Path:
    pdf = folder.run_directory(NIS, RUN, AS_OF) / name
    for file in volume_files(pdf):
        write_staged(file, f"{file.name}\n".encode())
    return pdf


def test_only_the_unrecorded_volumes_staged_files_are_deleted(tmp_path: Path) -> None:
    folder = VolumeFolder(tmp_path / "out")
    recorded = _stage_volume(folder, "volume-001.pdf")
    published = _stage_volume(folder, "volume-002.pdf")
    publish_files(volume_files(published))
    orphan = _stage_volume(folder, "volume-003.pdf")

    forgotten = folder.forget_unrecorded(NIS, RUN, AS_OF, [str(recorded), str(published)])

    assert forgotten == 4  # the orphan's PDF, two manifests and checksum
    assert not any(staged_name(file).exists() for file in volume_files(orphan))
    assert all(staged_name(file).exists() for file in volume_files(recorded))
    assert all(file.exists() for file in volume_files(published))
    folder.publish_volume(str(recorded))  # still publishable after the clean-up
    assert all(file.exists() for file in volume_files(recorded))


def test_other_runs_and_a_run_without_a_folder_are_left_alone(tmp_path: Path) -> None:
    folder = VolumeFolder(tmp_path / "out")
    other_run = VolumeFolder(tmp_path / "out").run_directory(NIS, RUN + 1, AS_OF)
    write_staged(other_run / "volume-001.pdf", b"%PDF")

    assert folder.forget_unrecorded(NIS, RUN, AS_OF, []) == 0
    assert staged_name(other_run / "volume-001.pdf").exists()
