"""The kept block outputs of LetterTemplates give exactly what rendering every block afresh
gives, for the real templates and for templates that use their variables in every way the
analysis has to see (printed whole, a dict method, an alias, filters over a macro's output,
filter and set blocks, self)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from reminders.adapters.printing import text as text_module
from reminders.adapters.printing.text import LetterTemplates
from reminders.bootstrap import template_samples
from reminders.config import load_settings
from reminders.config.letters import TemplateFolders
from reminders.domain.letters import LetterText, one_line, parsed_body
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
MACROS = """{% macro naam() %}{{ holder.full_name }}{% endmacro %}
{% macro alles() %}{{ holder }}{% endmacro %}
"""
INCLUDED = "inc {{ holder.given_names }} {{ document.expires_on }}\n"
EID = """{% extends "_base.nl.txt.j2" %}
{% block subject %}S {{ holder.full_name|upper }} {{ holder.full_name }} {{ holder["family_name"] }}{% endblock %}
{% block salutation %}{{ holder.given_names }} X {{ holder.full_name }}{% endblock %}
{% block body %}
{% import "_macros.nl.txt.j2" as m with context %}
A {{ m.naam()|upper }} {{ m.naam() }} {{ m.alles()|length }}
{% set h = holder %}B {{ h.given_names }}
{% for k, v in document.items() %}{{ k }}={{ v }} {% endfor %}

{% filter upper %}C {{ holder.given_names }}{% endfilter %}
{% set x %}{{ holder.family_name }}{% endset %}D {{ x|lower }}
{% if holder.family_name|length > 6 %}long{% else %}short{% endif %} {{ holder.family_name }}
E {{ municipality.sender }}
{% include "_inc.nl.txt.j2" %}
{%- endblock %}
"""  # noqa: E501
PASSPORT = """{% extends "_base.nl.txt.j2" %}
{% block subject %}{{ holder.full_name }}{% endblock %}
{% block body %}
{{ self.subject() }}
{% include "_inc." ~ language ~ ".txt.j2" %}
G {{ holder.given_names }} H {{ holder.family_name }} {{ stage.name }} {{ holder }}
{%- endblock %}
"""


def fresh(templates: LetterTemplates, spec, language, municipality) -> LetterText:  # type: ignore[no-untyped-def]
    """Every block rendered afresh, as the engine did before it kept outputs."""
    name = templates.name(spec.document_kind, spec.stage, language)
    values = text_module._values(spec, language, municipality)
    template = templates._set(municipality.nis_code)._template(name, language)
    context = template.new_context(dict(values))
    for _ in template.root_render_func(context):
        pass
    out = {
        block: "".join(context.blocks[block][0](template.new_context(dict(values)))).strip()
        for block in ("subject", "salutation", "body", "closing")
    }
    return LetterText(
        language=language,
        subject=one_line(out["subject"]),
        salutation=out["salutation"],
        body=parsed_body(out["body"]),
        closing=tuple(line.strip() for line in out["closing"].splitlines() if line),
    )


@pytest.mark.parametrize("own", [False, True], ids=["real templates", "tricky templates"])
def test_kept_outputs_are_what_a_fresh_render_gives(tmp_path: Path, own: bool) -> None:
    settings = load_settings(REPO / "config.toml", environ={})
    folders = TemplateFolders()
    if own:
        folders = TemplateFolders(tmp_path)
        (tmp_path / "eid").mkdir()
        (tmp_path / "passport").mkdir()
        for name, source in {"_base.nl.txt.j2": BASE, "_macros.nl.txt.j2": MACROS,
                             "_inc.nl.txt.j2": INCLUDED, "eid/first.nl.txt.j2": EID,
                             "passport/first.nl.txt.j2": PASSPORT}.items():  # fmt: skip
            (tmp_path / name).write_text(source, encoding="utf-8")
    kept, reference = LetterTemplates(folders), LetterTemplates(folders)
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
        assert kept.text(spec, language, municipality) == fresh(
            reference, spec, language, municipality
        )
