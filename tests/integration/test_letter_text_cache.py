"""The texts LetterTemplates keeps per TextKey are what rendering the template afresh gives, for
the real templates and for templates that use Jinja freely: macros imported and names set at
the top of the letter, an include, filters over a macro's output, filter and set blocks, a dict
method, self.subject() in the body, the child's names in a letter to the parents. The
reference renders the whole template with plain Jinja, each letter on its own."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from reminders.adapters.printing.text import (
    SHIPPED_TEMPLATES,
    LetterTemplates,
    TextKey,
    long_date,
)
from reminders.bootstrap import template_samples
from reminders.config import Municipality, load_settings
from reminders.config.letters import TemplateFolders
from reminders.domain.letters import LetterSpec, LetterText, one_line, parsed_body
from reminders.domain.model import DocumentKind, Language
from tests.conftest import REPO

NAMES = ["Jan", "An", " Piet ", "Zoë", "x\x00y", "Marie-Claire", "Ö", "Jo ", "Wim", "Van Acker"]

BASE = """{% block subject %}{% endblock %}
{% block salutation %}{% if to_parents %}Geachte ouders,{% else %}Geachte {{ holder.full_name }},{% endif %}{% endblock %}
{% block body %}{% endblock %}
{% block closing %}
Groeten,
{{ municipality.name }}
{%- endblock %}
"""  # noqa: E501
MACROS = """{% macro kind() %}{{ holder.given_names if to_parents else "u" }}{% endmacro %}
{% macro adres() %}{{ municipality.sender.street }} {{ municipality.sender.house_number }}{% endmacro %}
"""  # noqa: E501
INCLUDED = "inc {{ document.expires_on }} {{ stage.name }}\n"
EID = """{% extends "_base.nl.txt.j2" %}
{% import "_macros.nl.txt.j2" as m with context %}
{% set groet = "Hallo" if to_parents else "Dag" %}
{% block subject %}S {{ m.kind()|upper }} {{ document.expires_on|date }}{% endblock %}
{% block body %}
{{ groet }} {{ self.subject() }}
A {{ m.kind()|upper }} {{ m.adres() }} {{ m.adres()|length }}
{% for k, v in document.items() %}{{ k }}={{ v }} {% endfor %}

{% filter upper %}C {{ municipality.name }}{% endfilter %}
{% set x %}{{ m.kind() }}{% endset %}D {{ x|lower }}
{% if to_parents and holder.family_name|length > 6 %}long {{ holder.full_name }}{% endif %}
E {{ municipality.sender }}
{% include "_inc.nl.txt.j2" %}
{%- endblock %}
"""
PASSPORT = """{% extends "_base.nl.txt.j2" %}
{% block subject %}{{ "Paspoort van " ~ holder.given_names if to_parents else "Uw paspoort" }}{% endblock %}
{% block salutation %}{{ super() }} ({{ language }}){% endblock %}
{% block body %}
{% include "_inc." ~ language ~ ".txt.j2" %}
G {{ stage.is_final }} {{ letter_date }} {{ municipality.appointment_url }}
{%- endblock %}
"""  # noqa: E501


@cache
def _environment(directory: tuple[Path, ...], language: Language) -> Environment:
    environment = Environment(  # noqa: S701 - plain text, as the engine's
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters["date"] = lambda day: long_date(day, language)
    return environment


@cache
def _marking(directory: tuple[Path, ...], language: Language, name: str, block: str) -> Template:
    """The letter, with one block marked where it is printed."""
    source = (
        f'{{% extends "{name}" %}}{{% block {block} %}}\x01{{{{ super() }}}}\x02{{% endblock %}}'
    )
    return _environment(directory, language).from_string(source)


def reference(
    directory: tuple[Path, ...], spec: LetterSpec, language: Language, municipality: Municipality
) -> LetterText:
    """The letter as plain Jinja renders the whole template, with every variable given; each
    block read back where the template prints it."""
    sender = municipality.sender
    values: dict[str, Any] = {
        "letter_date": spec.letter_date,
        "language": language.value,
        "holder": {"given_names": spec.given_names, "family_name": spec.family_name,
                   "full_name": spec.full_name},
        "to_parents": spec.to_parents,
        "document": {"kind": spec.document_kind.value, "expires_on": spec.expires_on,
                     "has_expired": spec.expires_on < spec.letter_date},
        "stage": {"name": spec.stage, "due_on": spec.stage_due_on,
                  "is_final": spec.is_final_stage},
        "municipality": {"name": municipality.name, "appointment_url": sender.appointment_url,
                         "sender": {"department": sender.department, "street": sender.street,
                                    "house_number": sender.house_number,
                                    "postal_code": sender.postal_code,
                                    "locality": sender.locality, "phone": sender.phone,
                                    "email": sender.email}},
    }  # fmt: skip
    name = LetterTemplates.name(spec.document_kind, spec.stage, language)
    out = {}
    for block in ("subject", "salutation", "body", "closing"):
        whole = _marking(directory, language, name, block).render(values)
        out[block] = whole.split("\x01", 1)[1].split("\x02", 1)[0].strip()
    return LetterText(
        language=language,
        subject=one_line(out["subject"]),
        salutation=out["salutation"],
        body=parsed_body(out["body"]),
        closing=tuple(line.strip() for line in out["closing"].splitlines() if line),
    )


@pytest.mark.parametrize("own", [False, True], ids=["real templates", "free-style templates"])
def test_kept_texts_are_what_a_fresh_render_gives(tmp_path: Path, own: bool) -> None:
    settings = load_settings(REPO / "config.toml", environ={})
    directory: tuple[Path, ...] = (SHIPPED_TEMPLATES,)
    if own:
        directory = (tmp_path, SHIPPED_TEMPLATES)
        (tmp_path / "eid").mkdir()
        (tmp_path / "passport").mkdir()
        for name, source in {"_base.nl.txt.j2": BASE, "_macros.nl.txt.j2": MACROS,
                             "_inc.nl.txt.j2": INCLUDED, "eid/first.nl.txt.j2": EID,
                             "passport/first.nl.txt.j2": PASSPORT}.items():  # fmt: skip
            (tmp_path / name).write_text(source, encoding="utf-8")
    kept = LetterTemplates(TemplateFolders(tmp_path) if own else TemplateFolders())
    draw = random.Random(8)
    sample = template_samples()[0]
    for _ in range(1500):
        municipality = draw.choice(settings.municipalities)
        language = Language.NL if own else draw.choice(municipality.languages)
        kind = draw.choice([DocumentKind.EID, DocumentKind.PASSPORT])
        spec = replace(
            sample,
            document_kind=kind,
            stage="first",
            given_names=draw.choice(NAMES),
            family_name=draw.choice(NAMES),
            to_parents=draw.random() < 0.3,
            is_final_stage=draw.random() < 0.5,
            expires_on=sample.expires_on.replace(day=draw.randint(1, 3)),
            languages=(language,),
        )
        assert kept.text(spec, language, municipality) == reference(
            directory, spec, language, municipality
        )


def test_letters_to_their_holders_share_a_key_and_letters_to_parents_do_not() -> None:
    """Two adults' letters about the same document and dates have one key, so the same kept
    texts (only their salutations differ); two children's letters have one key each."""
    settings = load_settings(REPO / "config.toml", environ={})
    municipality = settings.municipality("44021")
    templates = LetterTemplates(settings.template_folders)
    adult = replace(template_samples()[0], stage="first")
    other = replace(adult, given_names="Wim", family_name="Claes")
    assert TextKey.of(adult, Language.NL, municipality) == TextKey.of(
        other, Language.NL, municipality
    )
    first, second = (templates.text(s, Language.NL, municipality) for s in (adult, other))
    assert first.body is second.body
    assert (first.salutation, second.salutation) == (
        "Geachte Sample Citizen,",
        "Geachte Wim Claes,",
    )
    child, sibling = (replace(s, to_parents=True) for s in (adult, other))
    assert TextKey.of(child, Language.NL, municipality) != TextKey.of(
        sibling, Language.NL, municipality
    )
    assert "Sample" in templates.text(child, Language.NL, municipality).body[0].text
    assert "Wim" in templates.text(sibling, Language.NL, municipality).body[0].text
