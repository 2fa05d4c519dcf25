"""The package as a municipality installs it: the wheel is built from this tree, installed
into a fresh virtual environment outside the repository, and a night is run there from a
folder `reminders init` makes, with the shipped templates: init, import, run, audit verify.

No file of the repository may be read: an audit hook (sitecustomize in the new environment)
records every file a `reminders` process opens inside the repository, other than the
dependencies' folder; the test fails on any. To stay fast, the new environment takes the
dependencies from this one's site-packages (a .pth line, which does not run this one's
editable install of the repository) and installs only the wheel, with pip, from the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.test_print_volumes import LETTERS, RUN_DATE, registry_files
from tests.pdf_reading import flat, page_texts

SITECUSTOMIZE = '''\
"""Test hook: records each file opened inside a tree it must not read."""
import os
import sys

_TREE = os.environ.get("FORBIDDEN_TREE")
_ALLOWED = os.environ.get("ALLOWED_TREE", "")
_LOG = os.environ.get("FORBIDDEN_LOG")


def _hook(event, args):
    if event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if path.startswith(_TREE + os.sep) and not path.startswith(_ALLOWED + os.sep):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(path + "\\n")


if _TREE and _LOG:
    sys.addaudithook(_hook)
'''


def _run(command: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - our own commands
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment (outside the repository) with the wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    wheels = root / "dist"
    subprocess.run(  # noqa: S603 - pip, building this tree as a user would
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = wheels.glob("reminders-*.whl")
    venv = root / "venv"
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(  # noqa: S603
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n", "utf-8")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    subprocess.run(  # noqa: S603 - pip installing the wheel file, nothing from an index
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return venv


def test_the_installed_wheel_runs_a_night_without_the_repository(
    installed: Path, tmp_path: Path
) -> None:
    work = tmp_path / "municipality"
    work.mkdir()
    log = tmp_path / "repository-files-read.txt"
    env = {
        "PATH": f"{installed / 'bin'}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "FORBIDDEN_TREE": str(REPO),
        "ALLOWED_TREE": os.path.commonpath(
            [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
        ),
        "FORBIDDEN_LOG": str(log),
    }
    reminders = str(installed / "bin" / "reminders")
    where = _run(
        [str(installed / "bin" / "python"), "-c",
         "import reminders, reminders.adapters.printing.text as t; "
         "print(reminders.__file__); print(t.SHIPPED_TEMPLATES)"],
        cwd=work, env=env,
    ).stdout.split()  # fmt: skip
    assert all(Path(path).is_relative_to(installed) for path in where), where
    assert (Path(where[1]) / "eid" / "first.nl.txt.j2").is_file()
    console = _run(  # the console's compiled catalogs come with the package
        [str(installed / "bin" / "python"), "-c",
         "from reminders.entrypoints.console import i18n; i18n.use('de'); "
         "print(i18n._('Log out')); print(i18n.LOCALE_DIR)"],
        cwd=work, env=env,
    ).stdout.split()  # fmt: skip
    assert console[0] == "Abmelden"
    assert Path(console[1]).is_relative_to(installed)

    _run([reminders, "init", "gent", "--nis", "44021", "--name", "Gent", "--street",
          "Botermarkt", "--house-number", "1", "--postal-code", "9000", "--locality", "Gent"],
         cwd=work, env=env)  # fmt: skip
    config = ["--config", "gent/config.toml"]
    check = _run([reminders, "check", *config], cwd=work, env=env).stdout
    assert "every letter template renders" in check
    assert " own " not in check
    persons, documents = registry_files()
    (work / "persons.csv").write_text(persons, encoding="utf-8")
    (work / "documents.csv").write_text(documents, encoding="utf-8")
    for kind in ("persons", "documents"):
        _run([reminders, "import", kind, f"{kind}.csv", *config], cwd=work, env=env)
    summary = json.loads(
        _run([reminders, "run", "--date", RUN_DATE, "--json", *config], cwd=work, env=env).stdout
    )
    assert summary["letters"] == len(LETTERS["44021"])  # the others are not configured here
    (volume,) = (Path(path) for path in summary["volumes"])
    assert volume.is_relative_to(work / "gent" / "var" / "out" / "44021")
    assert "Uw identiteitskaart vervalt op 15 april 2027" in flat("\n".join(page_texts(volume)))
    verify = _run([reminders, "audit", "verify", *config], cwd=work, env=env).stdout
    assert "44021" in verify
    assert "intact" in verify.lower()
    read = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    assert read == [], f"files of the repository were read: {sorted(set(read))[:20]}"

    # The hook sees what it must: a process of the new environment reading a repository file.
    _run([str(installed / "bin" / "python"), "-c",
          f"open({str(REPO / 'config.toml')!r}).close()"], cwd=work, env=env)  # fmt: skip
    assert log.read_text(encoding="utf-8").splitlines() == [str(REPO / "config.toml")]
