"""``[letters]`` and a municipality's ``templates``: where a municipality's own letter
templates are, if it has any.

The templates ship with the package (``reminders/letters/templates``) and are the default.
An installation may override any of them, file by file, from a folder of its own
(``[letters] templates``), and a municipality from its own folder (``templates`` in its
``[[municipalities]]`` entry); a file found in neither is the shipped one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reminders.config.table import Table


@dataclass(frozen=True, slots=True)
class TemplateFolders:
    """The folders of own letter templates, searched before the shipped ones."""

    installation: Path | None = None  # [letters] templates
    municipalities: tuple[tuple[str, Path], ...] = ()  # (NIS code, its own folder)

    def own(self, nis_code: str) -> tuple[Path, ...]:
        """The folders a municipality's letters are looked up in before the shipped ones:
        its own, then the installation's."""
        folders = [folder for nis, folder in self.municipalities if nis == nis_code]
        if self.installation is not None:
            folders.append(self.installation)
        return tuple(folders)


def own_templates(table: Table, name: str, base: Path) -> Path | None:
    """A folder of own templates named by ``name`` in ``table`` (relative to config.toml); it
    must exist: a mistyped folder would silently print the shipped texts."""
    value = table.text(name, required=False)
    if value is None:
        return None
    folder = base / value
    if not folder.is_dir():
        raise table.error(
            name,
            f"no such folder: {folder} (own letter templates; `reminders templates copy "
            f"{value}` starts one from the shipped templates)",
        )
    return folder


def letters_folder_of(root: Table, base: Path) -> Path | None:
    """``[letters] templates``: the installation's own templates, or None."""
    letters = root.table("letters", required=False)
    if letters is None:
        return None
    folder = own_templates(letters, "templates", base)
    letters.finish()
    return folder
