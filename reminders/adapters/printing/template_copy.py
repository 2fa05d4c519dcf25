"""Copying the shipped letter templates into a folder of own templates, to start editing.

A file already in the folder is never replaced: it may be a municipality's edited text.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reminders.adapters.printing.text import SHIPPED_TEMPLATES
from reminders.errors import UsageError


@dataclass(frozen=True, slots=True)
class CopiedTemplates:
    copied: tuple[Path, ...]  # written into the folder
    kept: tuple[Path, ...]  # already there: left as they are


def copy_shipped_templates(
    target: Path, names: Sequence[str] = (), *, shipped: Path = SHIPPED_TEMPLATES
) -> CopiedTemplates:
    """Copy the shipped templates (all, or those ``names`` gives: a file such as
    ``eid/first.nl.txt.j2``, a kind's folder such as ``eid``, or a shared file such as
    ``_base.nl.txt.j2``) into ``target``, keeping the shipped folder layout."""
    every = sorted(
        path.relative_to(shipped)
        for path in shipped.rglob("*")
        if path.is_file() and (path.suffix == ".j2" or path.name == "README.md")
    )
    chosen = every
    if names:
        chosen = []
        for name in names:
            wanted = Path(name.strip("/"))
            matches = [p for p in every if p == wanted or wanted in p.parents]
            if not matches:
                raise UsageError(
                    f"{name}: no shipped template or folder of that name (e.g. "
                    "eid/first.nl.txt.j2, eid or _base.nl.txt.j2)"
                )
            chosen += [p for p in matches if p not in chosen]
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: not a folder")
    copied: list[Path] = []
    kept: list[Path] = []
    for relative in chosen:
        destination = target / relative
        if destination.exists():
            kept.append(destination)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shipped / relative, destination)
        copied.append(destination)
    return CopiedTemplates(tuple(copied), tuple(kept))
