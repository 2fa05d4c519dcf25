"""Issue 23 in Chromium: a clerk of Eupen sees German from login to a finished run, which
they follow on its own page; a bad search keeps the form with an error summary that leads
to the field; and axe-core (bundled with axe-playwright-python) finds no violation of any
impact on each of these pages and states, the pages after the print (release, a letter's
life, reprint) included."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from weakref import WeakSet

import pytest
from axe_playwright_python.base import AXE_SCRIPT, AxeResults
from playwright.sync_api import Browser, BrowserContext, Page, expect
from starlette.types import ASGIApp

from reminders.entrypoints.console import signer_child
from tests.browser.test_console_browser import (  # noqa: F401 - fixtures
    log_in,
    logged,
    logged_console_url,
)
from tests.console_support import (
    EUPEN,
    GENT,
    PASSWORD,
    add_users,
    cheap_passwords,
    console_app,
    night_clock,
)
from tests.e2e.after_print_support import run_night, stored_volumes, with_approval
from tests.e2e.installed import install
from tests.e2e.test_input_properties import SignerInThisProcess
from tests.e2e.test_print_volumes import (  # noqa: F401 - fixture
    RUN_DATE,
    import_registry,
    registry,
)

# What axe-playwright-python's Axe.run asks of axe-core: every rule enabled by default, with
# the details of the violations only (the other results count each rule's first node).
AXE_OPTIONS = {"resultTypes": ["violations"]}
# Contexts given axe-core's source (axe.min.js, bundled with axe-playwright-python) as an init
# script: it is in each of their documents from its start, instead of being sent (570 KB)
# through page.evaluate before every check.
_WITH_AXE: WeakSet[BrowserContext] = WeakSet()


# axe.run and the document's language in one call to the page (null: no axe-core in it yet).
_CHECK = """options => typeof axe === 'undefined' ? null : axe.run(options).then(
    results => ({lang: document.documentElement.lang, violations: results.violations}))"""


def assert_accessible(page: Page, *, lang: str | None = None) -> None:
    """axe-core finds no violation of any impact on the page as it stands; else the report of
    axe-playwright-python: each violation, its rule, impact, help and the elements. With
    ``lang``, the page's html element has that language too (read in the same call, after the
    page loaded: a separate `expect` on the locator costs a round trip and Playwright's
    selector engine in each new document, 30-50 ms a page)."""
    checked: dict[str, Any] | None = page.evaluate(_CHECK, AXE_OPTIONS)
    if checked is None:  # a context's first check
        if page.context not in _WITH_AXE:
            page.context.add_init_script(AXE_SCRIPT)  # its documents to come
            _WITH_AXE.add(page.context)
        page.evaluate(AXE_SCRIPT)  # this one
        checked = page.evaluate(_CHECK, AXE_OPTIONS)
        assert checked is not None
    if lang is not None:
        assert checked["lang"] == lang, f"{page.url}: lang {checked['lang']!r}, not {lang!r}"
    violations: list[dict[str, Any]] = checked["violations"]
    found = [(v["id"], v["impact"], len(v["nodes"])) for v in violations]
    assert found == [], AxeResults({"violations": violations}).generate_report()


def test_the_check_fails_on_a_page_with_a_violation(page: Page) -> None:
    """An image without alternative text fails `assert_accessible` with axe's report, in a
    document opened after the context's first check (axe-core came with the init script); a
    page in another language than the one asked for fails it too."""
    head = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>T</title></head>'
    picture = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
    page.goto(f"data:text/html,{head}<body><main><h1>Fine</h1></main></body></html>")
    assert_accessible(page, lang="en")
    with pytest.raises(AssertionError, match="lang 'en', not 'de'"):
        assert_accessible(page, lang="de")
    page.goto(f'data:text/html,{head}<body><main><img src="{picture}"></main></body></html>')
    assert page.evaluate("typeof axe.run") == "function"  # the init script's
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page)
    report = str(failed.value)
    assert "image-alt - Ensure <img> elements have alternative text" in report
    assert "Impact Level: critical" in report
    assert "Target: img" in report


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the browser paths do not depend on the engine."""
    return f"sqlite:///{tmp_path / 'registry.sqlite3'}"


@pytest.fixture
def console_url(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    live_server: Callable[[ASGIApp], str],
) -> str:
    add_users(database_url, cheap_passwords())
    return live_server(console_app(registry, database_url, night_clock(RUN_DATE)))


@pytest.fixture
def german(browser: Browser) -> Iterator[Page]:
    """A page of a browser set to German (Belgium): it sends Accept-Language de-BE."""
    context = browser.new_context(locale="de-BE")
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_clerk_of_eupen_sees_german_from_login_to_a_finished_run(
    german: Page, console_url: str
) -> None:
    page = german
    page.goto(f"{console_url}/m/{EUPEN}/runs")
    expect(page).to_have_title(re.compile("Anmelden"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert_accessible(page)
    page.get_by_label("Benutzername").fill("staff.eupen")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Läufe")
    assert_accessible(page)
    page.get_by_label("Die Nacht laufen lassen vom").fill(RUN_DATE)
    page.get_by_role("button", name="Einen Lauf vorbereiten…").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Den Lauf für die Nacht vom 01.03.2027 starten?")
    expect(page.locator("main")).to_contain_text("Briefe")
    assert_accessible(page)
    page.get_by_role("button", name="Den Lauf für die Nacht vom 01.03.2027 starten").click()
    finished = page.locator("#runs .run-succeeded")
    expect(finished).to_contain_text("erfolgreich", timeout=90_000)
    assert_accessible(page)
    finished.get_by_role("link", name=re.compile("^Lauf ")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Lauf \d+, Nacht vom 01\.03\.2027$")
    )
    expect(page.locator("#progress")).to_contain_text("Versiegeln im Versandprotokoll ✓")
    expect(page.locator("#progress")).to_contain_text("(belgische Zeit)")
    assert_accessible(page)


def test_a_bad_search_keeps_the_form_and_leads_to_the_field(
    page: Page,
    logged_console_url: str,  # noqa: F811 - the fixture
) -> None:
    page.goto(f"{logged_console_url}/m/{GENT}/log")
    log_in(page, "audit.gent")
    expect(page.locator("#entries tbody tr").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Run", exact=True).fill("4a")
    page.get_by_role("button", name="Search", exact=True).click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(page.locator("#entries table")).to_have_count(0)  # no stale results
    expect(page.get_by_label("Run", exact=True)).to_have_value("4a")
    assert_accessible(page)
    summary.get_by_role("link", name="Enter a whole number, such as 12.").click()
    expect(page.get_by_label("Run", exact=True)).to_be_focused()
    page.keyboard.press("Tab")  # the focus ring: 3 px, more than the 2 px asked for
    width = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert width == "3px"


PAGES = (
    "/",
    "/m/{nis}/letters-due",
    "/m/{nis}/letters-due?outcome=skip",
    "/m/{nis}/preview?kind=eid&number=E01",
    "/m/{nis}/preview?kind=eid&number=NONE",  # an error at the number
    "/m/{nis}/configuration",
    "/m/{nis}/runs",
    "/m/{nis}/runs/1",
    "/m/{nis}/runs/start",
    "/m/{nis}/runs/start?date=2099-01-01",  # a night to come: the error summary
    "/m/{nis}/usage",
    "/m/{nis}/log",
    "/m/{nis}/log?document=NONE",  # empty results
    "/m/{nis}/log?run=4a",  # an error
    "/m/{nis}/verification",
    "/m/{nis}/activity",
    "/m/{nis}/letter",
    "/m/{nis}/reprint",
    "/m/{nis}/returned",
    "/m/{nis}/no-such-page",
)


@pytest.mark.parametrize("language", ["nl", "fr", "de", "en"])
def test_every_page_in_each_language_passes_axe(
    page: Page,
    logged_console_url: str,  # noqa: F811 - the fixture
    language: str,
) -> None:
    console_url = logged_console_url
    page.goto(console_url)
    log_in(page, "both.gent")
    page.locator("#f-language").select_option(language)
    page.locator("form.language button").click()
    for path in PAGES:
        page.goto(console_url + path.format(nis=GENT))
        assert_accessible(page, lang=language)


def _held(config_file: Path, database_url: str) -> None:
    """The registry imported, Gent's volumes to be held for approval (`with_approval`), and
    a run of RUN_DATE that the approver "an" started from the console."""
    import_registry(config_file, database_url)
    with_approval(config_file, database_url)
    run_night(config_file, database_url, RUN_DATE, started_by="console:an")


# The language whose pages after the print are signed by `reminders console-signer` in a child
# process, as in production; in the other three the console's signer runs in this process
# (SignerInThisProcess: the same command, request and answer, without starting Python and the
# application twice a test, 1.5-3 s of CPU each). The child is tested in tests/e2e/test_console*.py
# and tests/unit/test_signer_child.py too.
SIGNER_CHILD_LANGUAGE = "nl"


@pytest.fixture
def held_console_url(
    config_file: Path,
    database_url: str,
    live_server: Callable[[ASGIApp], str],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
) -> str:
    """Gent's volumes held for approval after a run that the approver "an" started from the
    console; "bert" is the other approver. Made once in the test session (`_held`) and
    copied into the test's folder and database (tests/e2e/installed.py): the test releases
    and cancels in its own copy."""
    install(request, "held-for-approval", _held, config_file, database_url, runs=True)
    if language != SIGNER_CHILD_LANGUAGE:
        monkeypatch.setattr(signer_child, "subprocess", SignerInThisProcess)
    return live_server(console_app(config_file, database_url, night_clock(RUN_DATE)))


def _in_language(page: Page, console_url: str, username: str, language: str) -> None:
    page.context.clear_cookies()
    page.goto(console_url)
    log_in(page, username)
    page.locator("#f-language").select_option(language)
    page.locator("form.language button").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def _swept(page: Page, url: str, language: str) -> None:
    page.goto(url)
    assert_accessible(page, lang=language)


@pytest.mark.parametrize("language", ["nl", "fr", "de", "en"])
def test_the_pages_after_the_print_in_each_language_pass_axe(
    page: Page, held_console_url: str, database_url: str, language: str
) -> None:
    """The release page in each of its states (four eyes, filtered, nothing found, with its
    forms, after a cancellation and after a release), a letter's life and the reprint form
    with a reference, and a refused reference: no violation of any impact."""
    gent = f"{held_console_url}/m/{GENT}"
    first = stored_volumes(database_url, GENT)[0]
    reference = first.references[0]
    _in_language(page, held_console_url, "an", language)  # started the run: four eyes
    _swept(page, f"{gent}/release", language)
    expect(page.locator(".volume .problem").first).to_be_visible()
    _swept(page, f"{gent}/release?number=NONE", language)
    _swept(page, f"{gent}/letter?reference={reference}", language)
    expect(page.locator("main table tbody tr").first).to_be_visible()
    _swept(page, f"{gent}/letter?reference=44021-999999-000001", language)  # none such
    _swept(page, f"{gent}/reprint?reference={reference}", language)
    _in_language(page, held_console_url, "bert", language)  # may release and cancel
    _swept(page, f"{gent}/release", language)
    volume = page.locator("section.volume").first
    volume.locator("details summary").click()
    letter = volume.locator("tbody tr").first
    letter.locator('input[name="note"]').fill("renewed the day after the run")
    letter.locator('button[type="submit"]').click()
    expect(page.locator("p.ok")).to_be_visible(timeout=60_000)
    assert_accessible(page)
    page.locator("section.volume").first.locator(
        f'form[action="/m/{GENT}/release/{first.volume_id}"] button'
    ).click()
    expect(page.locator("p.ok")).to_be_visible(timeout=60_000)
    assert_accessible(page)
    _swept(page, f"{gent}/letter?reference={reference}", language)  # cancelled, re-cut
    assert stored_volumes(database_url, GENT)[0].state != "held"
