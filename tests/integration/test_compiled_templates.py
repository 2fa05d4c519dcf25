"""Jinja's compiled code kept for the process: a second environment built alike compiles
nothing, an edited file is compiled anew, and what is kept stays bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader

from reminders.adapters.compiled_templates import CompiledInMemory


def environment(folder: Path, code: CompiledInMemory) -> Environment:
    return Environment(loader=FileSystemLoader(folder), bytecode_cache=code, autoescape=True)


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The names of the templates Jinja compiles, in order."""
    names: list[str | None] = []
    compile_ = Environment.compile

    def counted(self: Environment, source: str, name: str | None = None, *more: Any) -> Any:
        names.append(name)
        return compile_(self, source, name, *more)

    monkeypatch.setattr(Environment, "compile", counted)
    return names


def test_an_environment_built_alike_reuses_the_code(
    tmp_path: Path, compiled: list[str | None]
) -> None:
    (tmp_path / "page.html").write_text("<p>{{ who }}</p>", encoding="utf-8")
    code = CompiledInMemory(kept=8)
    first = environment(tmp_path, code).get_template("page.html").render(who="Zoë")
    second = environment(tmp_path, code).get_template("page.html").render(who="<b>")
    assert (first, second) == ("<p>Zoë</p>", "<p>&lt;b&gt;</p>")
    assert compiled == ["page.html"]


def test_an_edited_file_is_compiled_anew(tmp_path: Path, compiled: list[str | None]) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>{{ who }}</p>", encoding="utf-8")
    code = CompiledInMemory(kept=8)
    environment(tmp_path, code).get_template("page.html")
    page.write_text("<h1>{{ who }}</h1>", encoding="utf-8")
    assert environment(tmp_path, code).get_template("page.html").render(who="A") == "<h1>A</h1>"
    assert compiled == ["page.html", "page.html"]


def test_the_oldest_code_is_dropped_beyond_what_is_kept(
    tmp_path: Path, compiled: list[str | None]
) -> None:
    for name in "abc":
        (tmp_path / name).write_text(name, encoding="utf-8")
    code = CompiledInMemory(kept=2)
    for name in "abc":
        environment(tmp_path, code).get_template(name)
    for name in "cba":  # c and b are kept; a was dropped
        environment(tmp_path, code).get_template(name)
    assert compiled == ["a", "b", "c", "a"]
