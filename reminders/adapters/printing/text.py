"""Letter texts from the Jinja2 templates (house-style.md §2): shipped with the package in
``reminders/letters/templates/``, each of which a municipality may override with a file of its
own (`TemplateFolders`).

One template per document kind, stage and language: ``<kind>/<stage>.<lang>.txt.j2``. Each
extends ``_base.<lang>.txt.j2`` and fills the blocks ``subject``, ``salutation``, ``body`` and
``closing``. Undefined variables fail (StrictUndefined), and a missing template is an error,
never a fall-back to another language: the run checks every template it may need before it
renders a single letter (`LetterTemplateError`, `lint_templates`).

Most of a letter's text is the same for thousands of letters: a body depends on the kind, the
stage, the dates and the municipality, and on the holder's name only in a letter to the
parents. So each block's output is kept, keyed by the values the block actually read when it
was rendered: the reads are recorded (in order; a render is a function of what it reads), and
a later letter whose values agree on each of them gets the kept text (`_Outputs`). A block is
read in its syntax tree first, with the templates it imports or includes, for what recording
cannot see: a variable used whole (``{{ holder }}``, ``holder.items()``) is recorded whole, and
a block that uses ``self`` or ``super()``, or a template chosen at render time, is rendered for
every letter.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
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
    nodes,
)
from jinja2.runtime import Context
from jinja2.utils import missing

from reminders.config.letters import TemplateFolders
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
_KEPT_PER_BLOCK = 512  # outputs kept per block: bounded memory whatever the run's size


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


class _TemplateSet:
    """The templates of one search path (own folders first, the shipped folder last)."""

    def __init__(self, folders: tuple[Path, ...]) -> None:
        self.folders = folders
        self._environments = {
            language: self._environment(language) for language in Language
        }  # one per language, so that ``|date`` writes that language's dates
        self._blocks: dict[str, dict[str, _Block]] = {}

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
        )
        environment.filters["date"] = lambda day: long_date(day, language)
        environment.context_class = _RecordingContext
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
        name = LetterTemplates.name(spec.document_kind, spec.stage, language)
        values = _values(spec, language, municipality)
        try:
            blocks = self._blocks.get(name) or self._analysed(name, language, values)
            rendered: dict[str, str] = {}
            for block_name, block in blocks.items():
                text = None if block.reading is None else block.outputs.found(values)
                if text is None:
                    text = self._rendered(name, language, block, values)
                rendered[block_name] = text
        except (TemplateError, KeyError) as err:
            raise LetterTemplateError(self.path(name), _problem(err)) from err
        return LetterText(
            language=language,
            subject=_one_line(rendered["subject"]),
            salutation=rendered["salutation"],
            body=_parsed_body(rendered["body"]),
            closing=_closing(rendered["closing"]),
        )

    def _analysed(
        self, name: str, language: Language, values: Mapping[str, Any]
    ) -> dict[str, _Block]:
        """The template's blocks, each with what its syntax tree says of its reads."""
        template = self._template(name, language)
        context = template.new_context(dict(values))
        for _ in template.root_render_func(context):
            pass  # runs the extends: the base template's blocks join the context
        environment = self._environments[language]
        blocks = {
            block: _Block(
                context.blocks[block][0],
                _reading(environment, name, block, frozenset(values)),
                _Outputs(),
            )
            for block in _BLOCKS
        }
        self._blocks[name] = blocks
        return blocks

    def _rendered(
        self, name: str, language: Language, block: _Block, values: Mapping[str, Any]
    ) -> str:
        """The block rendered for these values, and kept with the reads it made."""
        reads = None if block.reading is None else _Reads(block.reading)
        context = self._template(name, language).new_context(_recorded(values, reads))
        # Each block alone: a whole render and then the blocks would cost twice as much.
        # Macros are therefore imported inside the blocks (letters/templates/README.md).
        raw = "".join(block.render(context))
        if reads is None:
            return raw.strip()
        block.outputs.keep(reads, raw)
        return reads.filled(raw).strip()

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


_Path = tuple[str, ...]
_READS = "reminders.reads"  # a context key no template can name: where reads are recorded


@dataclass(frozen=True, slots=True)
class _Reading:
    """What a block's syntax tree (with the templates it imports or includes) says of what
    it reads, for what the recording of a render cannot see."""

    # Variables used other than by reading an item (printed, passed, iterated, a dict method
    # such as ``holder.items()``): recorded whole.
    used_whole: frozenset[str]
    # Items the block only ever prints as they are, straight into its own output (not in a
    # macro, a call, a filter block or a block set, whose output a template may transform):
    # rendered as a marker that the kept output has in place of the value.
    printed: Mapping[_Path, str]


@dataclass(frozen=True, slots=True)
class _Block:
    render: Callable[[Context], Iterator[str]]
    reading: _Reading | None  # None: the block may read what no recording sees; not kept
    outputs: _Outputs


class _Reads:
    """What one render read: each path once, in the order it first read it, and the printed
    items it rendered as markers."""

    __slots__ = ("holes", "reading", "seen")

    def __init__(self, reading: _Reading) -> None:
        self.reading = reading
        self.seen: dict[_Path, Hashable] = {}
        self.holes: dict[_Path, tuple[str, str]] = {}  # path: (marker, value)

    def read(self, path: _Path, value: Any) -> Any:
        marker = self.reading.printed.get(path)
        if marker is not None and _fits_hole(value):
            self.holes[path] = (marker, value)
            return marker
        if path not in self.seen:
            self.seen[path] = _frozen(value)
        return value

    def filled(self, raw: str) -> str:
        for marker, value in self.holes.values():
            raw = raw.replace(marker, value)
        return raw


_MARK = "\x00"  # no value with it is rendered as a marker


def _fits_hole(value: Any) -> bool:
    return type(value) is str and _MARK not in value


class _RecordingContext(Context):
    """Records the variables a template resolves, when the render records its reads."""

    def resolve_or_missing(self, key: str) -> Any:
        value = super().resolve_or_missing(key)
        if value is missing or key == _READS:
            return value
        reads: _Reads | None = self.parent.get(_READS)
        if reads is None:
            return value
        if isinstance(value, _RecordingDict) and key not in reads.reading.used_whole:
            return value  # read item by item, each recorded by the dict
        return reads.read((key,), value)


class _RecordingDict(dict[str, Any]):
    """A template variable that is a dict: records each item a template reads (Jinja reads
    ``holder.full_name`` as ``holder["full_name"]`` once the dict has no such attribute). An
    item that is itself a dict is recorded whole."""

    __slots__ = ("_reminders_path", "_reminders_reads")

    def __init__(self, items: Mapping[str, Any], path: _Path, reads: _Reads) -> None:
        super().__init__(items)
        self._reminders_path, self._reminders_reads = path, reads

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        return self._reminders_reads.read((*self._reminders_path, key), value)


def _recorded(values: Mapping[str, Any], reads: _Reads | None) -> dict[str, Any]:
    """The values to render with, recording what is read into ``reads`` (if given)."""
    if reads is None:
        return dict(values)
    recorded: dict[str, Any] = {
        key: _RecordingDict(value, (key,), reads) if isinstance(value, dict) else value
        for key, value in values.items()
    }
    recorded[_READS] = reads
    return recorded


class _Outputs:
    """A block's kept outputs as a decision tree: each node holds the path the block reads
    next, and its children the outputs for each value read there. A render is a function of
    the values it reads, so values that agree with a kept render on each of its reads give
    its output. Bounded: a block that reads the holder's name other than by printing it
    makes a leaf for every letter, so the tree is started afresh past a number of outputs."""

    __slots__ = ("_root", "_size")

    def __init__(self) -> None:
        self._root = _Node()
        self._size = 0

    def found(self, values: Mapping[str, Any]) -> str | None:
        node: _Node | None = self._root
        try:
            while node is not None and node.path is not None:
                node = node.children.get(_read(values, node.path))
        except TypeError:  # an unhashable value
            return None
        if node is None or node.text is None:
            return None
        if not node.holes:
            return node.text
        text = node.text
        for marker, path in node.holes:
            value = _read(values, path)
            if not _fits_hole(value):
                return None
            text = text.replace(marker, value)  # type: ignore[arg-type]  # a str: _fits_hole
        return text.strip()

    def keep(self, reads: _Reads, raw: str) -> None:
        if self._size >= _KEPT_PER_BLOCK:
            self._root, self._size = _Node(), 0
        node = self._root
        try:
            for path, value in reads.seen.items():
                if node.path is None:
                    if node.text is not None:
                        return  # read more than a render that read the same: keep nothing
                    node.path = path
                elif node.path != path:
                    return  # another read after the same values: not a function of them
                child = node.children.get(value)
                if child is None:
                    child = node.children[value] = _Node()
                node = child
        except TypeError:  # an unhashable value
            return
        if node.path is None and node.text is None:
            node.holes = tuple((marker, path) for path, (marker, _) in reads.holes.items())
            node.text = raw if node.holes else raw.strip()
            self._size += 1


class _Node:
    __slots__ = ("children", "holes", "path", "text")

    def __init__(self) -> None:
        self.path: _Path | None = None  # what the block reads next
        self.children: dict[Hashable, _Node] = {}
        self.text: str | None = None  # at a leaf: the output, unstripped if it has holes
        self.holes: tuple[tuple[str, _Path], ...] = ()


def _read(values: Mapping[str, Any], path: _Path) -> Hashable:
    value: Any = values[path[0]]
    for part in path[1:]:
        value = value[part]
    return _frozen(value)


def _frozen(value: Any) -> Hashable:
    if isinstance(value, _Constant):
        return value.key
    if isinstance(value, dict):  # built by _values: always the same keys in the same order
        return tuple((key, _frozen(item)) for key, item in value.items())
    return value  # type: ignore[no-any-return]


def _reading(
    environment: Environment, name: str, block: str, variables: frozenset[str]
) -> _Reading | None:
    """What the syntax trees of block ``block`` of template ``name`` and of the templates it
    imports or includes say of its reads; None when it may read what no recording sees."""
    node = _block_node(environment, name, block)
    if node is None or next(node.find_all(nodes.Block), None) is not None:
        return None  # a block inside: a child template may replace it
    whole: set[str] = set()
    items: Counter[_Path] = Counter()
    seen: set[str] = set()
    pending: list[nodes.Node] = [node]
    while pending:
        current = pending.pop()
        if not _collect(current, variables, whole, items):
            return None
        for used in current.find_all((nodes.Import, nodes.FromImport, nodes.Include)):
            template = used.template  # type: ignore[attr-defined]
            if not isinstance(template, nodes.Const) or not isinstance(template.value, str):
                return None  # a template chosen at render time
            if template.value not in seen:
                seen.add(template.value)
                pending.append(_parsed(environment, template.value))
    printed: Counter[_Path] = Counter()
    _count_printed(node, variables, printed)
    return _Reading(
        frozenset(whole),
        {
            path: f"{_MARK}{'.'.join(path)}{_MARK}"
            for path, count in printed.items()
            if count == items[path] and path[0] not in whole
        },
    )


def _block_node(environment: Environment, name: str, block: str) -> nodes.Block | None:
    """The block as the template renders it: its own, or the one it inherits."""
    seen: set[str] = set()
    while name not in seen:
        seen.add(name)
        tree = _parsed(environment, name)
        for found in tree.find_all(nodes.Block):
            if found.name == block:
                return found
        extends = next(tree.find_all(nodes.Extends), None)
        if extends is None:
            return None
        parent = extends.template
        if not isinstance(parent, nodes.Const) or not isinstance(parent.value, str):
            return None
        name = parent.value
    return None


@lru_cache(maxsize=256)  # a block's analysis reads the base and the macros again and again
def _parsed(environment: Environment, name: str) -> nodes.Template:
    loader = environment.loader
    assert loader is not None  # noqa: S101 - set in LetterTemplates._environment
    source, filename, _ = loader.get_source(environment, name)
    return environment.parse(source, name, filename)


def _collect(
    node: nodes.Node, variables: frozenset[str], whole: set[str], items: Counter[_Path]
) -> bool:
    """Adds the variables used under ``node`` other than as ``var.item`` or ``var["item"]``
    to ``whole``, and counts the items read; False when the node uses ``self`` or
    ``super()``, which reach other blocks. A local name that shadows a variable counts as
    the variable: more reads recorded, never fewer."""
    if isinstance(node, nodes.Name):
        if node.name in ("self", "super"):
            return False
        if node.name in variables:
            whole.add(node.name)
        return True
    path = _item_path(node, variables)
    if path is not None:
        items[path] += 1
        if isinstance(node, nodes.Getattr) and hasattr(dict, path[1]):
            whole.add(path[0])  # a dict method: the recording sees no item read
        return True
    return all(_collect(child, variables, whole, items) for child in node.iter_child_nodes())


def _count_printed(node: nodes.Node, variables: frozenset[str], printed: Counter[_Path]) -> None:
    """Counts the items printed as they are into the block's own output."""
    if isinstance(node, nodes.Macro | nodes.CallBlock | nodes.FilterBlock | nodes.AssignBlock):
        return  # output that a template may transform before it is printed
    if isinstance(node, nodes.Output):
        for expression in node.nodes:
            path = _item_path(expression, variables)
            if path is not None:
                printed[path] += 1
    for child in node.iter_child_nodes():
        _count_printed(child, variables, printed)


def _item_path(node: nodes.Node, variables: frozenset[str]) -> _Path | None:
    """``("holder", "full_name")`` for ``holder.full_name`` or ``holder["full_name"]``."""
    if not isinstance(node, nodes.Getattr | nodes.Getitem):
        return None
    owner = node.node
    if not isinstance(owner, nodes.Name) or owner.name not in variables:
        return None
    item = _item(node)
    return None if item is None else (owner.name, item)


def _item(node: nodes.Getattr | nodes.Getitem) -> str | None:
    """The name in ``x.name`` or ``x["name"]``."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


# The same rendered block is the same object on every letter that shares it; these return one
# shared result for it too (and the layout recognises the paragraphs it has laid out).
_one_line = lru_cache(maxsize=1024)(one_line)
_parsed_body = lru_cache(maxsize=1024)(parsed_body)


@lru_cache(maxsize=1024)
def _closing(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line)


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
    if isinstance(err, UndefinedError):
        return f"{err.message} (only the documented variables exist)"
    if isinstance(err, KeyError):
        return f"the block {err.args[0]!r} is missing (extend the _base template)"
    return str(err)


def _values(
    spec: LetterSpec, language: Language, municipality: LetterMunicipality
) -> dict[str, Any]:
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
        "municipality": _municipality_values(municipality),
    }


class _Constant(dict[str, Any]):
    """A dict of values that are the same for many letters, with its key made once."""

    __slots__ = ("key",)

    def __init__(self, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self.key = _frozen(dict(items))


_MUNICIPALITIES: dict[int, tuple[LetterMunicipality, _Constant]] = {}


def _municipality_values(municipality: LetterMunicipality) -> _Constant:
    """The municipality's variables, made once per municipality object (held, so that its id
    is not reused while it is in here)."""
    found = _MUNICIPALITIES.get(id(municipality))
    if found is not None and found[0] is municipality:
        return found[1]
    if len(_MUNICIPALITIES) >= 1024:
        _MUNICIPALITIES.clear()
    sender: LetterSender = municipality.sender
    values = _Constant(
        {
            "name": municipality.name,
            "appointment_url": sender.appointment_url,
            "sender": _Constant(
                {
                    "department": sender.department,
                    "street": sender.street,
                    "house_number": sender.house_number,
                    "postal_code": sender.postal_code,
                    "locality": sender.locality,
                    "phone": sender.phone,
                    "email": sender.email,
                }
            ),
        }
    )
    _MUNICIPALITIES[id(municipality)] = (municipality, values)
    return values


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
                            nis = municipality.nis_code
                            path = templates.path(kind, stage.name, language, nis)
                            blank = LetterTemplateError(path, f"renders an empty {empty[0]}")
                            problems.setdefault((blank.path, blank.problem), blank)
    return list(problems.values())


def _as_probe(spec: LetterSpec, kind: DocumentKind, stage: str, nis_code: str) -> LetterSpec:
    return replace(spec, document_kind=kind, stage=stage, municipality_nis=nis_code)
