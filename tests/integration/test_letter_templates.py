"""The letter templates shipped in reminders/letters/templates/: every one the example config
needs renders; a municipality's own templates replace them file by file, for that municipality
only; a missing template, a broken one or an undefined variable stops the check with the
template's path, before any letter is rendered: never a fall-back to another language or an
empty text."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reminders.adapters.printing.template_copy import copy_shipped_templates
from reminders.adapters.printing.text import SHIPPED_TEMPLATES, LetterTemplateError, LetterTemplates
from reminders.bootstrap import checked_templates, template_samples
from reminders.config import Settings, load_settings
from reminders.domain.letter_language import possible_letter_languages
from reminders.domain.letters import LetterSpec
from reminders.domain.model import DocumentKind, Language
from reminders.errors import ConfigError

LEAKS = ("None", "{{", "}}", "{%", "%}", "Undefined")  # what a silent fall-back would print
LETTERS_TABLE = '# [letters]\n# templates = "letters"\n'


def own_templates(config_file: Path, *names: str) -> tuple[Path, Settings]:
    """The installation's own template folder next to the config (``[letters] templates``),
    with copies of the shipped templates ``names``."""
    folder = config_file.parent / "letters"
    folder.mkdir()
    copy_shipped_templates(folder, names)
    text = config_file.read_text(encoding="utf-8")
    assert LETTERS_TABLE in text
    config_file.write_text(
        text.replace(LETTERS_TABLE, '[letters]\ntemplates = "letters"\n'), encoding="utf-8"
    )
    settings = load_settings(config_file, environ={})
    assert settings.templates_dir == folder
    return folder, settings


def with_eid_stage(config_file: Path, name: str = "reminder") -> None:
    """An eID stage between the two shipped ones: no template ships for it."""
    text = config_file.read_text(encoding="utf-8")
    first = (
        '  { name = "first",   offset = "-2 months" },\n  { name = "expired", offset = "+1 month"'
    )
    assert first in text
    config_file.write_text(
        text.replace(
            first,
            f'  {{ name = "first",   offset = "-2 months" }},\n'
            f'  {{ name = "{name}", offset = "-1 month" }},\n'
            f'  {{ name = "expired", offset = "+1 month"',
        ),
        encoding="utf-8",
    )


def written(folder: Path, name: str, like: str) -> Path:
    """An own template ``name`` with the text of the shipped ``like``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHIPPED_TEMPLATES / like, path)
    return path


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
                            # A Kids-ID's letters all go to the parents (writes_to_parents).
                            to_parents = to_parents or kind is DocumentKind.KIDS_ID
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
    ("given", "missing"),
    [
        (("nl", "fr"), ("de",)),  # Eupen's
        (("nl", "de"), ("fr",)),  # Brussels' French letters do not become Dutch ones
        (("fr", "de"), ("nl",)),  # Gent's and Brussels'
    ],
)
def test_a_missing_template_for_a_needed_language_names_its_path(
    config_file: Path, given: tuple[str, ...], missing: tuple[str, ...]
) -> None:
    """A stage no template ships for: the own folder must have it in every language a
    municipality may write in, and the check names the path of each missing file."""
    with_eid_stage(config_file)
    folder, settings = own_templates(config_file)
    for language in given:
        written(folder, f"eid/reminder.{language}.txt.j2", f"eid/first.{language}.txt.j2")
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    (language,) = missing
    path = folder / f"eid/reminder.{language}.txt.j2"
    assert isinstance(caught.value, LetterTemplateError)
    assert caught.value.path == path
    assert str(caught.value) == f"{path}: no such template"


def test_an_own_base_that_breaks_names_every_letter_it_breaks(config_file: Path) -> None:
    """Every French letter extends _base.fr.txt.j2: an own base with an undefined variable
    fails each of them (the campaign's letter too: it is checked with the others)."""
    folder, settings = own_templates(config_file, "_base.fr.txt.j2")
    base = folder / "_base.fr.txt.j2"
    source = base.read_text(encoding="utf-8")
    anchor = "{% block closing %}"
    assert anchor in source
    base.write_text(source.replace(anchor, anchor + "{{ signature }}\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    message = str(caught.value)
    french = sorted(SHIPPED_TEMPLATES.rglob("*/*.fr.txt.j2"))
    assert len(french) == 10  # 9 stages and the paper-licence campaign
    assert message.startswith(f"{folder}: 10 letter templates cannot be used:"), message
    for path in french:
        assert f"{path}: 'signature' is undefined" in message


def test_several_problems_are_listed_together(config_file: Path) -> None:
    """Two missing templates: one error that names both, so one fix round is enough."""
    with_eid_stage(config_file)
    folder, settings = own_templates(config_file)
    written(folder, "eid/reminder.nl.txt.j2", "eid/first.nl.txt.j2")
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    message = str(caught.value)
    assert message.startswith(f"{folder}: 2 letter templates cannot be used:")
    assert f"{folder / 'eid/reminder.fr.txt.j2'}: no such template" in message
    assert f"{folder / 'eid/reminder.de.txt.j2'}: no such template" in message


def test_a_language_no_municipality_needs_may_lack_templates(config_file: Path) -> None:
    """Without Eupen, no German template is needed for the new stage."""
    with_eid_stage(config_file)
    folder, _ = own_templates(config_file)
    for language in ("nl", "fr"):
        written(folder, f"eid/reminder.{language}.txt.j2", f"eid/first.{language}.txt.j2")
    text = config_file.read_text(encoding="utf-8")
    start = text.index("# German language area")
    end = text.index("[documents.driving_licence]")
    config_file.write_text(text[:start] + text[end:], encoding="utf-8")
    settings = load_settings(config_file, environ={})
    assert [m.nis_code for m in settings.municipalities] == ["44021", "21004"]
    assert checked_templates(settings).folders.installation == folder


def test_rendering_a_letter_in_a_language_without_template_fails(config_file: Path) -> None:
    """The renderer itself never substitutes another language either."""
    with_eid_stage(config_file)
    folder, settings = own_templates(config_file)
    written(folder, "eid/reminder.nl.txt.j2", "eid/first.nl.txt.j2")
    templates = LetterTemplates(settings.template_folders)
    spec = replace(letters(date(2027, 4, 1), to_parents=False, final=False), stage="reminder")
    brussels = settings.municipality("21004")
    assert templates.text(spec, Language.NL, brussels).subject
    with pytest.raises(LetterTemplateError, match="no such template"):
        templates.text(spec, Language.FR, brussels)


UNDEFINED = "{{ document.nickname }}"


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
    folder, settings = own_templates(config_file, template)
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


def test_a_letter_to_the_holder_names_them_only_in_its_salutation(config_file: Path) -> None:
    """The subject, body and closing of a letter to the holder are shared by many letters, so
    they are not given the holder: a template that names the holder there fails the check,
    saying so, before a run prints anything. In a letter to the parents it names the child."""
    folder, settings = own_templates(config_file, "eid/first.nl.txt.j2")
    path = folder / "eid" / "first.nl.txt.j2"
    source = path.read_text(encoding="utf-8")
    anchor = "{% block body %}\n"
    path.write_text(
        source.replace(anchor, anchor + "Beste {{ holder.given_names }}.\n\n"), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings, [settings.municipality("44021")])
    message = str(caught.value)
    assert (
        f"{path}: holder is not given to the subject, body or closing of a letter to the "
        "holder, only to its salutation" in message
    )
    templates = LetterTemplates(settings.template_folders)
    child = replace(letters(date(2027, 4, 1), to_parents=True, final=False), stage="first")
    text = templates.text(child, Language.NL, settings.municipality("44021"))
    assert text.body[0].text == "Beste Zoë."


def test_an_undefined_top_level_name_is_named(config_file: Path) -> None:
    folder, settings = own_templates(config_file, "passport/first.de.txt.j2")
    path = folder / "passport" / "first.de.txt.j2"
    source = path.read_text(encoding="utf-8")
    path.write_text(
        source.replace("{% block body %}\n", "{% block body %}\n{{ gebuehr }}\n\n"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"'gebuehr' is undefined") as caught:
        checked_templates(settings)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_template_edited_after_a_check_is_checked_anew(config_file: Path) -> None:
    """The check's outcome is kept per the template files' bytes: the same process checking
    again after an edit (the scheduler's next night) sees the new text, each time."""
    folder, settings = own_templates(config_file, "passport/first.de.txt.j2")
    path = folder / "passport" / "first.de.txt.j2"
    source = path.read_text(encoding="utf-8")
    checked_templates(settings)
    path.write_text(source.replace("{% block body %}\n", "{% block body %}\n{{ x }}\n\n"))
    for _ in range(2):  # the second time from what was kept: the same error, raised again
        with pytest.raises(ConfigError, match=r"'x' is undefined") as caught:
            checked_templates(settings)
        assert str(caught.value).startswith(f"{path}: ")
    path.write_text(source, encoding="utf-8")
    checked_templates(settings)


def test_a_syntax_error_names_the_file_and_its_line(config_file: Path) -> None:
    folder, settings = own_templates(config_file, "eid/first.fr.txt.j2")
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
    folder, settings = own_templates(config_file, "residence_card/first.nl.txt.j2")
    path = folder / "residence_card" / "first.nl.txt.j2"
    source = path.read_text(encoding="utf-8")
    start = source.index("{% block subject %}")
    end = source.index("{% endblock %}", start)
    path.write_text(source[: start + len("{% block subject %}")] + source[end:], encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        checked_templates(settings)
    assert str(caught.value) == f"{path}: renders an empty subject"


def test_the_same_template_source_gives_the_same_hash(config_file: Path) -> None:
    """source_sha256 hangs on the files used, the template and the shared files of its
    language: an own copy left unchanged hashes as the shipped file; a change in the letter,
    or in its language's macros, changes it; another language's macros do not."""
    folder, settings = own_templates(config_file, "eid", "_macros.fr.txt.j2")
    shipped, own = LetterTemplates(), LetterTemplates(settings.template_folders)
    eid, gent = DocumentKind.EID, "44021"
    before = {lang: own.source_sha256(eid, "first", lang, gent) for lang in Language}
    in_package = {lang: shipped.source_sha256(eid, "first", lang, gent) for lang in Language}
    assert before == in_package
    assert len(set(before.values())) == 3
    assert own.source_sha256(eid, "expired", Language.NL, gent) != before[Language.NL]

    letter = folder / "eid" / "first.nl.txt.j2"
    letter.write_text(letter.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = own.source_sha256(eid, "first", Language.NL, gent)
    assert changed != before[Language.NL]
    assert own.source_sha256(eid, "first", Language.NL, gent) == changed  # stable
    assert own.source(eid, "first", Language.NL, gent).own
    assert not shipped.source(eid, "first", Language.NL, gent).own

    macros = folder / "_macros.fr.txt.j2"
    macros.write_text(
        macros.read_text(encoding="utf-8").replace("guichet", "comptoir"), encoding="utf-8"
    )
    assert own.source_sha256(eid, "first", Language.FR, gent) != before[Language.FR]
    assert own.source(eid, "first", Language.FR, gent).shared_own == ("_macros.fr.txt.j2",)
    assert own.source_sha256(eid, "first", Language.DE, gent) == before[Language.DE]
    assert own.source_sha256(eid, "first", Language.NL, gent) == changed


def test_a_municipalitys_own_template_serves_its_letters_only(config_file: Path) -> None:
    """Gent's own eID letter in its own folder: Gent's letters say it, with its file's
    SHA-256; Brussels' Dutch letters keep the shipped text and hash, from the same
    LetterTemplates (no kept output of one serves the other)."""
    folder = config_file.parent / "gent-letters"
    path = written(folder, "eid/first.nl.txt.j2", "eid/first.nl.txt.j2")
    source = path.read_text(encoding="utf-8")
    anchor = "{% block body %}\n"
    assert anchor in source
    path.write_text(
        source.replace(anchor, anchor + "Gent zegt het op zijn eigen manier.\n\n"), "utf-8"
    )
    text = config_file.read_text(encoding="utf-8")
    name = 'name = "Gent"\n'
    config_file.write_text(
        text.replace(name, name + 'templates = "gent-letters"\n'), encoding="utf-8"
    )
    settings = load_settings(config_file, environ={})
    templates = checked_templates(settings)
    gent, brussels = settings.municipality("44021"), settings.municipality("21004")
    spec = replace(letters(date(2027, 4, 1), to_parents=False, final=False), stage="first")
    for _ in range(2):  # the second time from the kept outputs
        for municipality in (gent, brussels, gent):
            body = templates.text(spec, Language.NL, municipality).body
            said = any("eigen manier" in paragraph.text for paragraph in body)
            assert said is (municipality is gent)
    eid = DocumentKind.EID
    own = templates.source(eid, "first", Language.NL, gent.nis_code)
    shipped = templates.source(eid, "first", Language.NL, brussels.nis_code)
    assert (own.own, own.path) == (True, path)
    assert (shipped.own, shipped.path) == (False, SHIPPED_TEMPLATES / "eid/first.nl.txt.j2")
    assert own.sha256 != shipped.sha256
    assert shipped.sha256 == LetterTemplates().source_sha256(eid, "first", Language.NL, "44021")
    # Gent's other letters are the shipped ones
    expired = templates.source(eid, "expired", Language.NL, gent.nis_code)
    assert not expired.own


def test_a_missing_own_folder_is_a_config_error(config_file: Path) -> None:
    """A mistyped folder would silently print the shipped texts: it is refused, naming the
    key."""
    text = config_file.read_text(encoding="utf-8")
    name = 'name = "Gent"\n'
    config_file.write_text(text.replace(name, name + 'templates = "gnet"\n'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"municipalities\[0\]\.templates: no such folder"):
        load_settings(config_file, environ={})
