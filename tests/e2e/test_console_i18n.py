"""The console's languages: every message the code and templates use is in each catalog
(extracted as `pybabel extract` does), each committed .mo is its .po compiled, and a page is
in the user's chosen language (kept per user) or else the browser's, with Belgian formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from reminders.entrypoints.console import i18n
from tests.console_support import GENT, csrf_of, log_in
from tests.e2e.test_console import Console, console  # noqa: F401 - fixture
from tests.e2e.test_print_volumes import registry  # noqa: F401 - fixture

CONSOLE = Path(i18n.__file__).parent
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.DEFAULT]


def _extracted() -> set[str | tuple[str, str]]:
    with open(i18n.LOCALE_DIR / "babel.cfg", encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)  # type: ignore[no-untyped-call]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        CONSOLE, method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def _key(text: object) -> str | tuple[str, ...]:
    return text if isinstance(text, str) else tuple(text)  # type: ignore[arg-type]


def _catalog(language: str) -> Catalog:
    with open(i18n.LOCALE_DIR / language / "LC_MESSAGES" / "console.po", "rb") as po:
        return read_po(po, locale=language)


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_has_every_message(language: str) -> None:
    wanted = _extracted()
    assert len(wanted) > 100  # the extraction found the templates and the code
    catalog = _catalog(language)
    translated = {
        message.id if isinstance(message.id, str) else tuple(message.id)
        for message in catalog
        if message.id and message.string and not message.fuzzy and all(message.string)
    }
    assert sorted(map(str, wanted - translated)) == []
    problems = [(message.id, errors) for message, errors in catalog.check()]
    assert problems == []  # placeholders the same as the English ones


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_compiled_catalog_is_its_po(language: str) -> None:
    with open(i18n.LOCALE_DIR / language / "LC_MESSAGES" / "console.mo", "rb") as mo:
        compiled = read_mo(mo)
    expected = {_key(m.id): _key(m.string) for m in _catalog(language) if m.id and not m.fuzzy}
    assert {_key(m.id): _key(m.string) for m in compiled if m.id} == expected, (
        "run: pybabel compile -D console -d reminders/entrypoints/console/locale"
    )


def test_accept_language_and_belgian_formats() -> None:
    assert i18n.chosen(None, "de-BE,de;q=0.9,en;q=0.5") == "de"
    assert i18n.chosen(None, "en;q=0.1, fr-BE") == "fr"
    assert i18n.chosen(None, "es, it") == "en"
    assert i18n.chosen("nl", "de-BE") == "nl"
    i18n.use("nl")
    assert i18n.number(2424) == "2.424"
    i18n.use("de")
    assert i18n.number(1437) == "1.437"
    i18n.use("en")


def test_a_page_in_the_browsers_language_until_the_user_chooses(console: Console) -> None:  # noqa: F811 - fixture
    german = {"Accept-Language": "de-BE,de;q=0.9"}
    login = console.client.get("/login", headers=german)
    assert '<html lang="de">' in login.text
    assert "Benutzername" in login.text
    log_in(console.client, "staff.gent")
    page = console.client.get(f"/m/{GENT}/letters-due", headers=german)
    assert '<html lang="de">' in page.text
    assert "Fällige Briefe heute Nacht und morgen" in page.text
    assert 'title="eid">Personalausweis</span>' in page.text
    chosen = console.client.post(
        "/language",
        data={"csrf_token": csrf_of(page.text), "language": "fr", "back": f"/m/{GENT}/runs"},
        headers=german,
    )
    assert chosen.url.path == f"/m/{GENT}/runs"
    assert '<html lang="fr">' in chosen.text  # the choice wins over the browser's
    assert "Passages" in chosen.text
    refused = console.client.post(
        "/language", data={"csrf_token": csrf_of(page.text), "language": "xx"}
    )
    assert refused.status_code == 400
