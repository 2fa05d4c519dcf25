"""The letter templates of templates/letters/: every one the example config needs renders, and
a missing template, a broken one or an undefined variable stops the check with the template's
path, before any letter is rendered: never a fall-back to another language or an empty text."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reminders.adapters.printing.text import LetterTemplateError, LetterTemplates
from reminders.bootstrap import checked_templates, template_samples
from reminders.config import Settings, load_settings
from reminders.domain.letter_language import possible_letter_languages
from reminders.domain.letters import LetterSpec
from reminders.domain.model import DocumentKind, Language
from reminders.errors import ConfigError
from tests.conftest import REPO

TEMPLATES = REPO / "templates" / "letters"
LEAKS = ("None", "{{", "}}", "{%", "%}", "Undefined")  # what a silent fall-back would print


def own_templates(config_file: Path) -> tuple[Path, Settings]:
    """A copy of the repository's templates next to the config, which now uses it."""
    folder = config_file.parent / "templates"
    shutil.copytree(TEMPLATES, folder)
    text = config_file.read_text(encoding="utf-8")
    repo_line = f'templates = "{TEMPLATES}"'
    assert repo_line in text
    config_file.write_text(text.replace(repo_line, 'templates = "templates"'), encoding="utf-8")
    settings = load_settings(config_file, environ={})
    assert settings.templates_dir == folder
    return folder, settings


def letters(on: date, *, to_parents: bool, final: bool) -> LetterSpec:
    """A sample letter (synthetic names) about an eID expiring on 1 June 2027."""
    return replace(
        template_samples()[0],
        given_names="Zoë",
        family_name="Van Acker",
        letter_date=on,
        to_parents=to_parents,
        is_final_stage=final,
        expires_on=date(2027, 6, 1),
    )


def test_every_template_the_example_config_needs_renders(config_file: Path) -> None:
    """Each municipality, kind, stage and needed language; to adults and to parents, before
    and after expiry: a subject, a salutation, a body and a closing, and nothing a missing
    value or a template tag would leave behind."""
    settings = load_settings(config_file, environ={})
    templates = checked_templates(settings)
    rendered = 0
    for municipality in settings.municipalities:
        for kind, policy in settings.policies.items():
            for stage in policy.stages:
                for language in possible_letter_languages(
                    municipality.letter_language, municipality.languages
                ):
                    for on in (date(2027, 4, 1), date(2027, 7, 1)):
                        for to_parents in (False, True):
                            spec = replace(
                                letters(on, to_parents=to_parents, final=stage.name == "expired"),
                                document_kind=kind,
                                stage=stage.name,
                                municipality_nis=municipality.nis_code,
                            )
                            text = templates.text(spec, language, municipality)
                            assert text.language is language
                            assert text.subject
                            assert text.salutation
                            assert text.body
                            assert text.closing
                            assert "\n" not in text.subject
                            whole = "\n".join(
                                [text.subject, text.salutation, *text.closing]
                                + [paragraph.text for paragraph in text.body]
                            )
                            assert not [leak for leak in LEAKS if leak in whole], (
                                templates.name(kind, stage.name, language),
                                whole,
                            )
                            rendered += 1
    # 9 stages x 2 dates x 2 recipients, in nl (Gent), fr and nl (Brussels) and de (Eupen)
    assert rendered == 9 * 2 * 2 * 4


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        (Language.NL, "Uw identiteitskaart vervalt op 1 juni 2027"),
        (Language.FR, "1er juin 2027"),
        (Language.DE, "1. Juni 2027"),
    ],
)
def test_a_template_writes_its_own_language_and_dates(
    config_file: Path, language: Language, subject: str
) -> None:
    """The |date filter writes the template's language; the salutation never guesses a
    gender."""
    settings = load_settings(config_file, environ={})
    templates = checked_templates(settings)
    municipality = {
        Language.NL: settings.municipality("44021"),
        Language.FR: settings.municipality("21004"),
        Language.DE: settings.municipality("63023"),
    }[language]
    spec = replace(letters(date(2027, 4, 1), to_parents=False, final=False), stage="first")
    text = templates.text(spec, language, municipality)
    assert subject in text.subject
    salutation = templates.text(replace(spec, to_parents=True), language, municipality).salutation
    dear_parents = {
        Language.NL: "Geachte ouders,",
        Language.FR: "Chers parents,",
        Language.DE: "Sehr geehrte Eltern,",
    }
    assert salutation == dear_parents[language]


@pytest.mark.parametrize(
    ("missing", "needed_by"),
    [
        ("eid/first.de.txt.j2", "Eupen"),
        ("eid/first.fr.txt.j2", "Brussels"),
        ("driving_licence/expired.nl.txt.j2", "Gent and Brussels"),
        ("kids_id/first.nl.txt.j2", "Gent and Brussels"),
    ],
)
def test_a_missing_template_for_a_needed_language_names_its_path(
    config_file: Path, missing: str, needed_by: str
) -> None:
    """The check fails with the path of the missing file: no letter falls back to another
    language (Brussels' French letters do not become Dutch ones)."""
    folder, settings = own_templates(config_file)
    (folder / missing).unlink()
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    assert isinstance(caught.value, LetterTemplateError), needed_by
    assert caught.value.path == folder / missing
    assert str(caught.value) == f"{folder / missing}: no such template"


def test_a_missing_base_template_names_the_base(config_file: Path) -> None:
    """Every French letter extends _base.fr.txt.j2: each of them fails, naming the base
    (the campaign's letter too: it is checked with the others)."""
    folder, settings = own_templates(config_file)
    (folder / "_base.fr.txt.j2").unlink()
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    message = str(caught.value)
    french = sorted(folder.rglob("*/*.fr.txt.j2"))
    assert len(french) == 10  # 9 stages and the paper-licence campaign
    assert message.startswith(f"{folder}: 10 letter templates cannot be used:")
    for path in french:
        assert f"{path}: '_base.fr.txt.j2' not found" in message


def test_several_problems_are_listed_together(config_file: Path) -> None:
    """Two missing templates: one error that names both, so one fix round is enough."""
    folder, settings = own_templates(config_file)
    for name in ("eid/first.de.txt.j2", "passport/first.nl.txt.j2"):
        (folder / name).unlink()
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    message = str(caught.value)
    assert message.startswith(f"{folder}: 2 letter templates cannot be used:")
    assert f"{folder / 'eid/first.de.txt.j2'}: no such template" in message
    assert f"{folder / 'passport/first.nl.txt.j2'}: no such template" in message


def test_a_language_no_municipality_needs_may_lack_templates(config_file: Path) -> None:
    """Without Eupen, no German template is needed: deleting them all is fine."""
    folder, _ = own_templates(config_file)
    for path in folder.rglob("*.de.txt.j2"):
        path.unlink()
    text = config_file.read_text(encoding="utf-8")
    start = text.index("# German language area")
    end = text.index("[documents.driving_licence]")
    config_file.write_text(text[:start] + text[end:], encoding="utf-8")
    settings = load_settings(config_file, environ={})
    assert [m.nis_code for m in settings.municipalities] == ["44021", "21004"]
    assert checked_templates(settings).directory == folder


def test_rendering_a_letter_in_a_language_without_template_fails(config_file: Path) -> None:
    """The renderer itself never substitutes another language either."""
    folder, settings = own_templates(config_file)
    (folder / "eid/first.fr.txt.j2").unlink()
    templates = LetterTemplates(folder)
    spec = replace(letters(date(2027, 4, 1), to_parents=False, final=False), stage="first")
    brussels = settings.municipality("21004")
    assert templates.text(spec, Language.NL, brussels).subject
    with pytest.raises(LetterTemplateError, match="no such template"):
        templates.text(spec, Language.FR, brussels)


UNDEFINED = "{{ holder.nickname }}"


@pytest.mark.parametrize(
    ("template", "condition"),
    [
        # in every letter
        ("eid/expired.nl.txt.j2", "true"),
        # only in the usual eID reminder: to an adult, after the expiry
        ("eid/expired.nl.txt.j2", "not to_parents and document.has_expired"),
        # only in the Kids-ID letter as it is always sent: to the parents, before the expiry
        ("kids_id/first.nl.txt.j2", "to_parents and not document.has_expired"),
        # only in a minor's eID convocation
        ("eid/first.nl.txt.j2", "to_parents and not document.has_expired"),
    ],
)
def test_an_undefined_variable_fails_the_check_naming_it(
    config_file: Path, template: str, condition: str
) -> None:
    """StrictUndefined: a variable the engine does not pass is an error naming the variable
    and the template, whichever kind of letter reaches it, and the check must find it before
    a run prints anything: a run must not stop halfway through (exit 1) on a template that
    `reminders check` let pass."""
    folder, settings = own_templates(config_file)
    path = folder / template
    source = path.read_text(encoding="utf-8")
    anchor = "{% block body %}\n"
    assert anchor in source
    paragraph = f"{{% if {condition} %}}\nUw bijnaam: {UNDEFINED}.\n\n{{% endif %}}\n"
    path.write_text(source.replace(anchor, anchor + paragraph), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings, [settings.municipality("44021")])
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert "nickname" in message


def test_an_undefined_top_level_name_is_named(config_file: Path) -> None:
    folder, settings = own_templates(config_file)
    path = folder / "passport" / "first.de.txt.j2"
    source = path.read_text(encoding="utf-8")
    path.write_text(
        source.replace("{% block body %}\n", "{% block body %}\n{{ gebuehr }}\n\n"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"'gebuehr' is undefined") as caught:
        checked_templates(settings)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_syntax_error_names_the_file_and_its_line(config_file: Path) -> None:
    folder, settings = own_templates(config_file)
    path = folder / "eid" / "first.fr.txt.j2"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "{% if to_parents %}")  # never closed
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    assert str(caught.value).startswith(f"{path}:"), str(caught.value)
    assert caught.value.line is not None


def test_a_template_that_renders_an_empty_subject_is_refused(config_file: Path) -> None:
    """A letter without a subject is not a letter: the check says which template."""
    folder, settings = own_templates(config_file)
    path = folder / "residence_card" / "first.nl.txt.j2"
    source = path.read_text(encoding="utf-8")
    start = source.index("{% block subject %}")
    end = source.index("{% endblock %}", start)
    path.write_text(source[: start + len("{% block subject %}")] + source[end:], encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    assert str(caught.value) == f"{path}: renders an empty subject"


def test_the_same_template_source_gives_the_same_hash(config_file: Path) -> None:
    """source_sha256 hangs on the template and the shared files of its language only: two
    copies in different folders agree; a change in the letter, or in its language's macros,
    changes it; another language's macros do not."""
    folder, _ = own_templates(config_file)
    repo, copy = LetterTemplates(TEMPLATES), LetterTemplates(folder)
    eid = DocumentKind.EID
    before = {language: copy.source_sha256(eid, "first", language) for language in Language}
    in_repo = {language: repo.source_sha256(eid, "first", language) for language in Language}
    assert before == in_repo
    assert len(set(before.values())) == 3
    assert copy.source_sha256(eid, "expired", Language.NL) != before[Language.NL]

    letter = folder / "eid" / "first.nl.txt.j2"
    letter.write_text(letter.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = copy.source_sha256(eid, "first", Language.NL)
    assert changed != before[Language.NL]
    assert copy.source_sha256(eid, "first", Language.NL) == changed  # stable

    macros = folder / "_macros.fr.txt.j2"
    macros.write_text(
        macros.read_text(encoding="utf-8").replace("guichet", "comptoir"), encoding="utf-8"
    )
    assert copy.source_sha256(eid, "first", Language.FR) != before[Language.FR]
    assert copy.source_sha256(eid, "first", Language.DE) == before[Language.DE]
    assert copy.source_sha256(eid, "first", Language.NL) == changed
