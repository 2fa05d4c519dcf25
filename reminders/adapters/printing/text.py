"""Letter texts from the Jinja2 templates (house-style.md §2): shipped with the package in
``reminders/letters/templates/``, each of which a municipality may override with a file of its
own (`TemplateFolders`).

One template per document kind, stage and language: ``<kind>/<stage>.<lang>.txt.j2``. Each
extends ``_base.<lang>.txt.j2`` and fills the blocks ``subject``, ``salutation``, ``body`` and
``closing``. Undefined variables fail (StrictUndefined), and a missing template is an error,
never a fall-back to another language: the run checks every template it may need before it
renders a single letter (`LetterTemplateError`, `lint_templates`).

Most of a letter's text is the same for thousands of letters. Its subject, body and closing are
given only what `TextKey` holds: the template (kind, stage, language), the letter's dates, the
municipality's sender fields and, in a letter to the parents, the child's names. So they are
rendered once per key, by rendering the whole template as Jinja does, and kept. The salutation,
the one line that names the holder, is rendered for each letter to the holder (a letter to the
parents keeps it with the texts: its key holds the names).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

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
from jinja2.utils import Namespace

from reminders.adapters.compiled_templates import CompiledInMemory
from reminders.config.letters import TemplateFolders
from reminders.domain.letter_language import possible_letter_languages
from reminders.domain.letters import (
    LetterMunicipality,
    LetterSpec,
    LetterText,
    Paragraph,
    one_line,
    parsed_body,
    writes_to_parents,
)
from reminders.domain.model import DocumentKind, Language
from reminders.domain.policy import ReminderPolicy
from reminders.errors import ConfigError

_TEXTS_KEPT = 1024  # keys whose texts are kept, the least recently used dropped first


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


SHIPPED_TEMPLATES = Path(__file__).resolve().parents[2] / "letters" / "templates"


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """Which file a letter's template is, and a SHA-256 over it and the shared templates
    (``_base``, ``_macros``) of its language, each the file actually used."""

    name: str  # <kind>/<stage>.<lang>.txt.j2
    path: Path  # the file used: the municipality's own, the installation's, or the shipped one
    own: bool  # from an own folder, not shipped with the package
    sha256: str
    shared_own: tuple[str, ...] = ()  # the shared templates it uses from an own folder


class LetterTemplates:
    """The letter templates of one installation, compiled once and shared by every letter.

    A municipality's letters are looked up in its own folder, then the installation's, then
    the shipped templates (`TemplateFolders`): each distinct search path is a `_TemplateSet`
    of its own, with its own compiled templates and kept outputs, so one municipality's
    override never serves another's letters.
    """

    def __init__(
        self, folders: TemplateFolders | None = None, *, shipped: Path = SHIPPED_TEMPLATES
    ) -> None:
        self.folders = folders or TemplateFolders()
        self.shipped = shipped
        self._sets: dict[tuple[Path, ...], _TemplateSet] = {}

    def _set(self, nis_code: str) -> _TemplateSet:
        search = (*self.folders.own(nis_code), self.shipped)
        found = self._sets.get(search)
        if found is None:
            found = self._sets[search] = _TemplateSet(search)
        return found

    @staticmethod
    def name(kind: DocumentKind, stage: str, language: Language) -> str:
        return f"{kind.value}/{stage}.{language.value}.txt.j2"

    def text(
        self, spec: LetterSpec, language: Language, municipality: LetterMunicipality
    ) -> LetterText:
        """The letter's text in ``language``; raises LetterTemplateError naming the template."""
        return self._set(municipality.nis_code).text(spec, language, municipality)

    @staticmethod
    def country_name(code: str, language: Language) -> str:
        """A country's name in the letter's language (bpost: the sending country's usage)."""
        return _country_name(code, language)

    def files_sha256(self, municipalities: Iterable[LetterMunicipality]) -> str:
        """A SHA-256 over every file in the municipalities' template folders, by folder and
        name: what any of their letters' texts can be made of."""
        searched = dict.fromkeys(
            folder
            for municipality in municipalities
            for folder in (*self.folders.own(municipality.nis_code), self.shipped)
        )
        digest = hashlib.sha256()
        for folder in searched:
            digest.update(str(folder).encode() + b"\0\0")
            if folder.is_dir():
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                    digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()

    def source_sha256(
        self, kind: DocumentKind, stage: str, language: Language, nis_code: str
    ) -> str:
        """A SHA-256 over the letter's template and every shared template of its language,
        each the file the municipality's letters use, so the log can tell which text a letter
        was printed from."""
        return self.source(kind, stage, language, nis_code).sha256

    def source(
        self, kind: DocumentKind, stage: str, language: Language, nis_code: str
    ) -> TemplateSource:
        """Which file the municipality's letter uses (its own or the shipped one)."""
        return self._set(nis_code).source(self.name(kind, stage, language), language)

    def path(self, kind: DocumentKind, stage: str, language: Language, nis_code: str) -> Path:
        """The file the municipality's letter is read from (where it would be, if missing)."""
        return self._set(nis_code).path(self.name(kind, stage, language))

    def source_shared(self, language: Language, nis_code: str) -> list[Path]:
        """The shared templates (``_base``, ``_macros``) of a language, each the file the
        municipality's letters use."""
        return [path for _, path in _shared(self._set(nis_code).folders, language.value)]

    def own_files(self) -> list[Path]:
        """Every template in the own folders, to tell which of them no letter uses."""
        folders = dict.fromkeys(
            [*(folder for _, folder in self.folders.municipalities), self.folders.installation]
        )
        return sorted(
            path for folder in folders if folder is not None for path in folder.rglob("*.txt.j2")
        )


class TextKey(NamedTuple):
    """Everything a letter's subject, body and closing are given, and so all they can depend
    on: letters with the same key get the same texts."""

    kind: DocumentKind
    stage: str
    language: Language
    letter_date: date
    expires_on: date
    stage_due_on: date
    is_final_stage: bool
    to_parents: bool
    # The holder's given and family names, only in a letter to the parents (whose text names
    # the child); a letter to the holder names them in its salutation alone.
    child: tuple[str, str] | None
    # The municipality's name, appointment page and sender fields.
    municipality: tuple[str | None, ...]

    @classmethod
    def of(cls, spec: LetterSpec, language: Language, municipality: LetterMunicipality) -> TextKey:
        sender = municipality.sender
        return cls(
            spec.document_kind,
            spec.stage,
            language,
            spec.letter_date,
            spec.expires_on,
            spec.stage_due_on,
            spec.is_final_stage,
            spec.to_parents,
            (spec.given_names, spec.family_name) if spec.to_parents else None,
            (
                municipality.name,
                sender.appointment_url,
                sender.department,
                sender.street,
                sender.house_number,
                sender.postal_code,
                sender.locality,
                sender.phone,
                sender.email,
            ),
        )


class HolderNotGivenError(UndefinedError):
    """A letter to the holder read ``holder`` outside its salutation."""


_NOT_GIVEN = (
    "holder is not given to the subject, body or closing of a letter to the holder, only to "
    "its salutation; in a letter to the parents it names the child "
    "(reminders/letters/templates/README.md)"
)


# How a letter template is rendered, with nothing but Jinja's inheritance: a template of the
# engine's own extends the letter, so that the letter's top level runs as in any render, and
# its blocks hand their texts over in a namespace (the printing is for a self.subject() in
# another block). Once per key, the texts its letters share; in a letter to the parents, whose
# key holds the holder's names, the salutation too:
_SHARED = """{% extends reminders_letter %}
{% block subject %}{% set reminders_texts.subject = super() %}{{ reminders_texts.subject }}{% endblock %}
{% block salutation %}{% if to_parents %}{% set reminders_texts.salutation = super() %}{% endif %}{% endblock %}
{% block body %}{% set reminders_texts.body = super() %}{{ reminders_texts.body }}{% endblock %}
{% block closing %}{% set reminders_texts.closing = super() %}{{ reminders_texts.closing }}{% endblock %}
"""  # noqa: E501
# For each letter to the holder, its salutation alone:
_SALUTATION = """{% extends reminders_letter %}
{% block subject %}{% endblock %}
{% block salutation %}{% set reminders_texts.salutation = super() %}{% endblock %}
{% block body %}{% endblock %}
{% block closing %}{% endblock %}
"""


@dataclass(frozen=True, slots=True)
class _Texts:
    """What the letters of one key share, and the variables it was rendered with."""

    subject: str
    body: tuple[Paragraph, ...]
    closing: tuple[str, ...]
    salutation: str | None  # in a letter to the parents; else each letter's own
    values: Mapping[str, Any]


# The code of the letter templates, by file and source: `_TemplateSet`s build their
# environments alike, and the code does not depend on the language's ``date`` filter.
_COMPILED = CompiledInMemory(kept=4096)  # 36 template files ship with the package


class _TemplateSet:
    """The templates of one search path (own folders first, the shipped folder last), and the
    texts kept per key."""

    def __init__(self, folders: tuple[Path, ...]) -> None:
        self.folders = folders
        self._environments = {
            language: self._environment(language) for language in Language
        }  # one per language, so that ``|date`` writes that language's dates
        self._shared = {lang: env.from_string(_SHARED) for lang, env in self._environments.items()}
        self._salutations = {
            lang: env.from_string(_SALUTATION) for lang, env in self._environments.items()
        }
        self._texts: dict[TextKey, _Texts] = {}  # the least recently used first

    def _environment(self, language: Language) -> Environment:
        environment = Environment(  # noqa: S701 - plain text for PDFs, not HTML: no escaping
            # A list of folders: the first that has a file wins, for letters, bases and macros.
            loader=FileSystemLoader(self.folders),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=-1,
            bytecode_cache=_COMPILED,
        )
        environment.filters["date"] = lambda day: long_date(day, language)
        return environment

    def path(self, name: str) -> Path:
        """The file used for ``name``; where the first folder would hold it when none does."""
        return _resolved(self.folders, name) or self.folders[0] / name

    def source(self, name: str, language: Language) -> TemplateSource:
        path = _resolved(self.folders, name)
        if path is None:
            raise LetterTemplateError(self.path(name), "no such template")
        shipped = self.folders[-1]
        shared = _shared(self.folders, language.value)
        return TemplateSource(
            name=name,
            path=path,
            own=not path.is_relative_to(shipped),
            sha256=_sources_sha256(((name, path), *shared)),
            shared_own=tuple(n for n, p in shared if not p.is_relative_to(shipped)),
        )

    def text(
        self, spec: LetterSpec, language: Language, municipality: LetterMunicipality
    ) -> LetterText:
        key = TextKey.of(spec, language, municipality)
        name = LetterTemplates.name(spec.document_kind, spec.stage, language)
        try:
            # Last in the dict: the most recently used. (A letter to the parents names its
            # child: its key is seldom used again, and makes way first.)
            texts = self._texts.pop(key, None) or self._rendered(name, key)
            self._texts[key] = texts
            salutation = texts.salutation
            if salutation is None:
                salutation = self._salutation(name, language, texts.values, spec)
        except (TemplateError, KeyError) as err:
            raise LetterTemplateError(self.path(name), _problem(err)) from err
        return LetterText(
            language=language,
            subject=texts.subject,
            salutation=salutation,
            body=texts.body,
            closing=texts.closing,
        )

    def _rendered(self, name: str, key: TextKey) -> _Texts:
        """What the key's letters share, rendered and kept."""
        self._template(name, key.language)  # a missing or broken template, named
        values = _values(key, self._environments[key.language])
        handed = Namespace()
        self._shared[key.language].render(values, reminders_letter=name, reminders_texts=handed)
        texts = _Texts(
            subject=_one_line(_handed(handed, "subject").strip()),
            body=_parsed_body(_handed(handed, "body").strip()),
            closing=_closing(_handed(handed, "closing")),
            salutation=_handed(handed, "salutation").strip() if key.to_parents else None,
            values=values,
        )
        if len(self._texts) >= _TEXTS_KEPT:
            del self._texts[next(iter(self._texts))]
        return texts

    def _salutation(
        self, name: str, language: Language, values: Mapping[str, Any], spec: LetterSpec
    ) -> str:
        """A letter's own salutation: the shared variables and the holder's names."""
        handed = Namespace()
        holder = {
            "given_names": spec.given_names,
            "family_name": spec.family_name,
            "full_name": spec.full_name,
        }
        self._salutations[language].render(
            values, holder=holder, reminders_letter=name, reminders_texts=handed
        )
        return _handed(handed, "salutation").strip()

    def _template(self, name: str, language: Language) -> Template:
        try:
            return self._environments[language].get_template(name)
        except TemplateNotFound as err:
            missing = err.name if isinstance(err.name, str) else name
            raise LetterTemplateError(self.path(missing), "no such template") from err
        except TemplateSyntaxError as err:
            where = Path(err.filename) if err.filename else self.path(name)
            problem = err.message or "syntax error"
            raise LetterTemplateError(where, problem, line=err.lineno) from err


def _resolved(folders: Sequence[Path], name: str) -> Path | None:
    """The first folder's file of that name, as the loader finds it."""
    for folder in folders:
        path = folder / name
        if path.is_file():
            return path
    return None


def _shared(folders: Sequence[Path], language: str) -> list[tuple[str, Path]]:
    """The shared templates of a language (``_base``, ``_macros``, ...), each the file used."""
    names = sorted(
        {path.name for folder in folders for path in folder.glob(f"_*.{language}.txt.j2")}
    )
    return [(name, path) for name in names if (path := _resolved(folders, name)) is not None]


# Texts that keys share (a body that names no date, the closing) are one object: the layout
# finds its kept pages by them, and compares equal objects slowly, identical ones fast.
_one_line = lru_cache(maxsize=1024)(one_line)
_parsed_body = lru_cache(maxsize=1024)(parsed_body)


@lru_cache(maxsize=1024)
def _closing(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line)


def _handed(handed: Namespace, block: str) -> str:
    """A block's text as the engine's template was handed it; KeyError when no base prints
    the block."""
    try:
        text: str = getattr(handed, block)
    except AttributeError:
        raise KeyError(block) from None
    return text


def _values(key: TextKey, environment: Environment) -> dict[str, Any]:
    """The variables of reminders/letters/templates/README.md, from the key alone."""
    name, url, department, street, house_number, postal_code, locality, phone, email = (
        key.municipality
    )
    holder: object = environment.undefined(_NOT_GIVEN, name="holder", exc=HolderNotGivenError)
    if key.child is not None:
        given_names, family_name = key.child
        holder = {
            "given_names": given_names,
            "family_name": family_name,
            "full_name": f"{given_names} {family_name}",
        }
    return {
        "letter_date": key.letter_date,
        "language": key.language.value,
        "holder": holder,
        "to_parents": key.to_parents,
        "document": {
            "kind": key.kind.value,
            "expires_on": key.expires_on,
            "has_expired": key.expires_on < key.letter_date,
        },
        "stage": {
            "name": key.stage,
            "due_on": key.stage_due_on,
            "is_final": key.is_final_stage,
        },
        "municipality": {
            "name": name,
            "appointment_url": url,
            "sender": {
                "department": department,
                "street": street,
                "house_number": house_number,
                "postal_code": postal_code,
                "locality": locality,
                "phone": phone,
                "email": email,
            },
        },
    }


def _sources_sha256(files: Sequence[tuple[str, Path]]) -> str:
    """Each file's name (as the loader knows it) and bytes: the same text gives the same digest
    wherever its folder is, so an own copy left unchanged hashes as the shipped file."""
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class LetterTemplateError(ConfigError):
    """A letter template is missing, does not parse or does not render (exit 2)."""

    def __init__(self, path: Path, problem: str, *, line: int | None = None) -> None:
        super().__init__(path, problem, line=line)


def _problem(err: Exception) -> str:
    if isinstance(err, HolderNotGivenError):
        return err.message or _NOT_GIVEN
    if isinstance(err, UndefinedError):
        return f"{err.message} (only the documented variables exist)"
    if isinstance(err, KeyError):
        return f"the block {err.args[0]!r} is missing (extend the _base template)"
    return str(err)


def lint_templates(
    templates: LetterTemplates,
    municipalities: Iterable[LetterMunicipality],
    policies: Mapping[DocumentKind, ReminderPolicy],
    sample: Sequence[LetterSpec],
) -> list[LetterTemplateError]:
    """Every problem a run would meet: each template each municipality may need, rendered
    with sample letters (adults and parents), so a run never stops halfway through.

    The check renders hundreds of texts (half a second). Its outcome is a function of the
    template files' bytes and of the arguments, so it is kept per those: a process that checks
    the same installation again (the scheduler each night, the console before each preview,
    the tests' many commands) renders nothing again, and an edited template is checked anew.
    """
    chosen = tuple(municipalities)
    key = (
        templates.folders,
        templates.shipped,
        templates.files_sha256(chosen),
        chosen,
        tuple(policies.items()),
        tuple(sample),
    )
    found = _LINTED.pop(key, None)
    if found is None:
        found = tuple(
            (problem.path, problem.problem, problem.line)
            for problem in _lint(templates, chosen, policies, sample)
        )
    _LINTED[key] = found  # the most recently used last
    while len(_LINTED) > _LINTS_KEPT:
        del _LINTED[next(iter(_LINTED))]
    # new errors each time: a raised exception keeps its traceback
    return [LetterTemplateError(path, problem, line=line) for path, problem, line in found]


_LINTS_KEPT = 64  # installations' outcomes kept, the least recently used dropped first
_LINTED: dict[Hashable, tuple[tuple[Path, str, int | None], ...]] = {}


def _lint(
    templates: LetterTemplates,
    municipalities: Iterable[LetterMunicipality],
    policies: Mapping[DocumentKind, ReminderPolicy],
    sample: Sequence[LetterSpec],
) -> list[LetterTemplateError]:
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
                            nis = municipality.nis_code
                            path = templates.path(kind, stage.name, language, nis)
                            blank = LetterTemplateError(path, f"renders an empty {empty[0]}")
                            problems.setdefault((blank.path, blank.problem), blank)
    return list(problems.values())


def _as_probe(spec: LetterSpec, kind: DocumentKind, stage: str, nis_code: str) -> LetterSpec:
    """The sample as a letter about ``kind``: to the parents if every such letter is (a Kids-ID),
    so that a template is not probed with a letter it can never print."""
    always_to_parents = writes_to_parents(kind, None, spec.letter_date)
    return replace(
        spec,
        document_kind=kind,
        stage=stage,
        municipality_nis=nis_code,
        to_parents=spec.to_parents or always_to_parents,
    )
