"""Letter texts from the Jinja2 templates in ``templates/letters/`` (house-style.md §2).

One template per document kind, stage and language: ``<kind>/<stage>.<lang>.txt.j2``. Each
extends ``_base.<lang>.txt.j2`` and fills the blocks ``subject``, ``salutation``, ``body`` and
``closing``. Undefined variables fail (StrictUndefined), and a missing template is an error,
never a fall-back to another language: the run checks every template it may need before it
renders a single letter (`LetterTemplateError`, `lint_templates`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.runtime import Context

from reminders.domain.letter_language import possible_letter_languages
from reminders.domain.letters import (
    LetterMunicipality,
    LetterSender,
    LetterSpec,
    LetterText,
    one_line,
    parsed_body,
)
from reminders.domain.model import DocumentKind, Language
from reminders.domain.policy import ReminderPolicy
from reminders.errors import ConfigError

_BLOCKS = ("subject", "salutation", "body", "closing")


def long_date(day: date, language: Language) -> str:
    """A date as letters write it: "1 juni 2027", "1er juin 2027", "1. Juni 2027".

    >>> long_date(date(2027, 6, 1), Language.FR), long_date(date(2027, 6, 1), Language.DE)
    ('1er juin 2027', '1. Juni 2027')
    """
    text = _format_long(day, language)
    if language is Language.FR and day.day == 1:
        return "1er" + text[1:]  # French writes the first of the month as an ordinal
    return text


@lru_cache(maxsize=4096)
def _format_long(day: date, language: Language) -> str:
    return format_date(day, "long", locale=language.value)


@lru_cache(maxsize=1024)
def _country_name(code: str, language: Language) -> str:
    names: Mapping[str, str] = Locale.parse(language.value).territories
    return names.get(code, code)


class LetterTemplates:
    """The templates of one installation, compiled once and shared by every letter."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._environments = {
            language: self._environment(language) for language in Language
        }  # one per language, so that ``|date`` writes that language's dates
        self._blocks: dict[str, dict[str, Callable[[Context], Iterator[str]]]] = {}

    def _environment(self, language: Language) -> Environment:
        environment = Environment(  # noqa: S701 - plain text for PDFs, not HTML: no escaping
            loader=FileSystemLoader(self.directory),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=-1,
        )
        environment.filters["date"] = lambda day: long_date(day, language)
        return environment

    @staticmethod
    def name(kind: DocumentKind, stage: str, language: Language) -> str:
        return f"{kind.value}/{stage}.{language.value}.txt.j2"

    def text(
        self, spec: LetterSpec, language: Language, municipality: LetterMunicipality
    ) -> LetterText:
        """The letter's text in ``language``; raises LetterTemplateError naming the template."""
        name = self.name(spec.document_kind, spec.stage, language)
        template = self._template(name, language)
        values = _values(spec, language, municipality)
        try:
            context = template.new_context(values)
            blocks = self._blocks.get(name)
            if blocks is None:
                for _ in template.root_render_func(context):
                    pass  # runs the extends: the base template's blocks join the context
                blocks = self._blocks[name] = {b: context.blocks[b][0] for b in _BLOCKS}
            # Each block alone: a whole render and then the blocks would cost twice as much.
            # Macros are therefore imported inside the blocks (templates/letters/README.md).
            rendered = {block: "".join(render(context)).strip() for block, render in blocks.items()}
        except (TemplateError, KeyError) as err:
            raise LetterTemplateError(self.directory / name, _problem(err)) from err
        return LetterText(
            language=language,
            subject=one_line(rendered["subject"]),
            salutation=rendered["salutation"],
            body=parsed_body(rendered["body"]),
            closing=tuple(line.strip() for line in rendered["closing"].splitlines() if line),
        )

    def _template(self, name: str, language: Language) -> Template:
        try:
            return self._environments[language].get_template(name)
        except TemplateNotFound as err:
            missing = self.directory / (err.name or name)
            raise LetterTemplateError(missing, "no such template") from err
        except TemplateSyntaxError as err:
            where = Path(err.filename) if err.filename else self.directory / name
            problem = err.message or "syntax error"
            raise LetterTemplateError(where, problem, line=err.lineno) from err

    @staticmethod
    def country_name(code: str, language: Language) -> str:
        """A country's name in the letter's language (bpost: the sending country's usage)."""
        return _country_name(code, language)

    def source_sha256(self, kind: DocumentKind, stage: str, language: Language) -> str:
        """A SHA-256 over the letter's template and every template it extends or imports, so
        the log can tell which text a letter was printed from."""
        return _sources_sha256(self.directory, self.name(kind, stage, language), language.value)


def _sources_sha256(directory: Path, name: str, language: str) -> str:
    digest = hashlib.sha256()
    shared = sorted(path for path in directory.glob(f"_*.{language}.txt.j2"))
    for path in (directory / name, *shared):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class LetterTemplateError(ConfigError):
    """A letter template is missing, does not parse or does not render (exit 2)."""

    def __init__(self, path: Path, problem: str, *, line: int | None = None) -> None:
        super().__init__(path, problem, line=line)


def _problem(err: Exception) -> str:
    if isinstance(err, UndefinedError):
        return f"{err.message} (only the documented variables exist)"
    if isinstance(err, KeyError):
        return f"the block {err.args[0]!r} is missing (extend the _base template)"
    return str(err)


def _values(
    spec: LetterSpec, language: Language, municipality: LetterMunicipality
) -> dict[str, Any]:
    sender: LetterSender = municipality.sender
    return {
        "letter_date": spec.letter_date,
        "language": language.value,
        "holder": {
            "given_names": spec.given_names,
            "family_name": spec.family_name,
            "full_name": spec.full_name,
        },
        "to_parents": spec.to_parents,
        "document": {
            "kind": spec.document_kind.value,
            "expires_on": spec.expires_on,
            "has_expired": spec.expires_on < spec.letter_date,
        },
        "stage": {
            "name": spec.stage,
            "due_on": spec.stage_due_on,
            "is_final": spec.is_final_stage,
        },
        "municipality": {
            "name": municipality.name,
            "appointment_url": sender.appointment_url,
            "sender": {
                "department": sender.department,
                "street": sender.street,
                "house_number": sender.house_number,
                "postal_code": sender.postal_code,
                "locality": sender.locality,
                "phone": sender.phone,
                "email": sender.email,
            },
        },
    }


def lint_templates(
    templates: LetterTemplates,
    municipalities: Iterable[LetterMunicipality],
    policies: Mapping[DocumentKind, ReminderPolicy],
    sample: Sequence[LetterSpec],
) -> list[LetterTemplateError]:
    """Every problem a run would meet: each template each municipality may need, rendered
    with sample letters (adults and parents), so a run never stops halfway through."""
    problems: dict[tuple[Path, str], LetterTemplateError] = {}
    for municipality in municipalities:
        for kind, policy in policies.items():
            for stage in policy.stages:
                for language in possible_letter_languages(
                    municipality.letter_language, municipality.languages
                ):
                    for spec in sample:
                        probe = _as_probe(spec, kind, stage.name, municipality.nis_code)
                        try:
                            text = templates.text(probe, language, municipality)
                        except LetterTemplateError as problem:
                            problems.setdefault((problem.path, problem.problem), problem)
                            break
                        empty = [n for n in ("subject", "body") if not getattr(text, n)]
                        if empty:
                            path = templates.directory / templates.name(kind, stage.name, language)
                            blank = LetterTemplateError(path, f"renders an empty {empty[0]}")
                            problems.setdefault((blank.path, blank.problem), blank)
    return list(problems.values())


def _as_probe(spec: LetterSpec, kind: DocumentKind, stage: str, nis_code: str) -> LetterSpec:
    return replace(spec, document_kind=kind, stage=stage, municipality_nis=nis_code)
