"""Least privilege for files (issue 18): under the usual umask (022) every file the product
writes, the database, keys, volumes, manifests, checksums, checkpoints, the published log,
exports, reports, proofs and backups, is owner-only (0600, folders 0700); with `[print] group`
the output folder's are readable by that group (0640, folders 0750) and belong to it."""

from __future__ import annotations

import grp
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reminders.config import load_settings
from tests.e2e.test_campaigns import invoke_group
from tests.e2e.test_cli import invoke
from tests.e2e.test_print_volumes import RUN_DATE, registry, with_print  # noqa: F401 - fixture
from tests.e2e.test_run import run

GROUP_READ = stat.S_IRGRP | stat.S_IXGRP


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask of most shells and service managers: others may read what is created."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _modes(root: Path) -> dict[str, int]:
    """Every file and folder under ``root`` (itself included): its permission bits."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def _wrong(modes: dict[str, int], root: Path, file_mode: int, folder_mode: int) -> list[str]:
    return [
        f"{name}: {mode:o}"
        for name, mode in modes.items()
        if mode != (folder_mode if (root / name).is_dir() else file_mode)
    ]


def _product_files(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
) -> tuple[list[Path], Path]:
    """Run a night and every command that writes a file; the files and folders made, and the
    output folder."""
    folder = registry.parent
    summary = run(registry, database_url, "--date", RUN_DATE)
    reference = summary["checkpoints"]  # a run was sealed
    assert reference
    exports = folder / "exports"
    exports.mkdir(mode=0o700)
    for args in (
        ("audit", "export", "--out", str(exports / "log.csv")),
        ("audit", "report", "--run", str(summary["run_id"]), "--out", str(exports / "r.pdf")),
    ):
        result = invoke_group(registry, database_url, *args)
        assert result.exit_code == 0, result.output
    letter = (
        Path(summary["volumes"][0]).with_suffix(".csv").read_text().splitlines()[1].split(",")[0]
    )
    proved = invoke_group(
        registry, database_url, "audit", "prove", "--letter", letter, "--out",
        str(exports / "proof.json"),
    )  # fmt: skip
    assert proved.exit_code == 0, proved.output
    preview = invoke(
        registry, database_url, "preview", "--document", "eid:E01", "--out",
        str(exports / "preview.pdf"), "--png",
    )  # fmt: skip
    assert preview.exit_code == 0, preview.output
    settings = load_settings(registry, environ={"REMINDERS_DATABASE_URL": database_url})
    made = [settings.audit.public_key.parent]
    if database_url.startswith("sqlite"):
        backup = invoke(registry, database_url, "backup", "--to", str(folder / "b" / "copy.db"))
        assert backup.exit_code == 0, backup.output
        database = folder / "registry.sqlite3"
        made += [folder / "b", *folder.glob("registry.sqlite3*")]
        assert database in made
    return [*made, exports], settings.output_dir


def test_every_file_written_is_owner_only_under_umask_022(
    usual_umask: None,
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
) -> None:
    made, output_dir = _product_files(registry, database_url)
    made.append(output_dir)
    wrong = []
    for path in made:
        if path.is_dir():
            modes = _modes(path)
            assert len(modes) > 1, path
            wrong += [f"{path.name}/{w}" for w in _wrong(modes, path, 0o600, 0o700)]
        elif stat.S_IMODE(path.stat().st_mode) != 0o600:
            wrong.append(f"{path.name}: {stat.S_IMODE(path.stat().st_mode):o}")
    assert not wrong, wrong
    # What was looked at: the volumes, their manifests and checksums, the published log.
    names = {p.name for p in output_dir.rglob("*")}
    assert {"volume-001.pdf", "volume-001.csv", "volume-001.json", "volume-001.pdf.sha256"} <= names
    assert "checkpoint" in names
    assert any(name.startswith("checkpoint-") for name in names)


def _print_group() -> str:
    """A group this process may give files to: any as root, else its own."""
    if os.geteuid() == 0:
        for name in ("daemon", "nogroup", "users"):
            try:
                grp.getgrnam(name)
            except KeyError:
                continue
            return name
    return grp.getgrgid(os.getgid()).gr_name


def test_the_print_operators_group_reads_the_output_folder(
    usual_umask: None,
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
) -> None:
    group = _print_group()
    with_print(registry, f'group = "{group}"')
    summary = run(registry, database_url, "--date", RUN_DATE)
    output_dir = load_settings(registry).output_dir
    modes = _modes(output_dir)
    assert not _wrong(modes, output_dir, 0o640, 0o750)
    gid = grp.getgrnam(group).gr_gid
    assert {p.stat().st_gid for p in output_dir.rglob("*")} == {gid}
    # The keys and the database stay the owner's.
    settings = load_settings(registry, environ={"REMINDERS_DATABASE_URL": database_url})
    assert stat.S_IMODE(settings.audit.public_key.stat().st_mode) == 0o600
    assert summary["volumes"]


def test_an_unknown_print_group_is_bad_configuration(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
) -> None:
    with_print(registry, 'group = "no-such-group-here"')
    result = invoke(registry, database_url, "run", "--date", RUN_DATE)
    assert result.exit_code == 2, result.output
    assert "[print] group: no group 'no-such-group-here'" in result.output
    with_print(registry, 'group = "Print Shop!"')
    result = invoke(registry, database_url, "run", "--date", RUN_DATE)
    assert result.exit_code == 2, result.output
    assert "group" in result.output
