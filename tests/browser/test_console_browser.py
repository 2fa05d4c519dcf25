"""The console's main paths in Debian's Chromium: logging in, previewing a letter, the letters
due filtered in place (htmx), starting a run and watching it end, searching the log and
revealing national numbers, and an auditor of one municipality who finds nothing of another.
Under the console's Content-Security-Policy: a page that needed inline script would fail here.
(The route tests in tests/e2e/test_console.py cover both engines; these run on SQLite.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from starlette.types import ASGIApp

from tests.console_support import (
    GENT,
    PASSWORD,
    add_users,
    cheap_passwords,
    console_app,
    night_clock,
)
from tests.e2e.test_print_volumes import (  # noqa: F401 - fixture
    NUMBERS,
    RUN_DATE,
    STARTS,
    installed,
    registry,
)

MASKED = re.compile(r"\*\*\.\*\*\.\*\*-\*\*\*\.\d\d")


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
def logged(
    registry: Path,  # noqa: F811 - the fixture
    request: pytest.FixtureRequest,
) -> Path:
    """The registry with the console's users and one run of RUN_DATE, as `add_users` and
    `reminders run` make them: copied by `registry` from this session's installation of that
    start (STARTS in test_print_volumes.py), instead of running the night in each test."""
    start, _ = installed(request)
    assert start == STARTS["logged"], start
    return registry


@pytest.fixture
def logged_console_url(
    logged: Path, database_url: str, live_server: Callable[[ASGIApp], str]
) -> str:
    """The console on the registry after its users were added and the night was run."""
    return live_server(console_app(logged, database_url, night_clock(RUN_DATE)))


@pytest.fixture
def errors(page: Page) -> Iterator[list[str]]:
    """Errors the page logs (a script refused by the CSP, a failed request): none expected."""
    found: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.append(message.text)

    page.on("console", keep)
    yield found
    assert found == []


def log_in(page: Page, username: str) -> None:
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_staff_log_in_and_preview_a_letter(page: Page, console_url: str, errors: list[str]) -> None:
    page.goto(f"{console_url}/m/{GENT}/preview")
    expect(page).to_have_title(re.compile("Log in"))
    log_in(page, "staff.gent")
    expect(page).to_have_url(f"{console_url}/m/{GENT}/preview")  # back where they were going
    page.get_by_label("Document").select_option("eid")
    page.get_by_label("Number").fill("E01")
    page.get_by_label("Date").fill(RUN_DATE)
    page.get_by_role("button", name="Preview").click()
    letter = page.get_by_alt_text("First page of the letter about eid:E01")
    expect(letter).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.letter').complete")
    width = letter.evaluate("image => image.naturalWidth")
    assert width > 1000  # an A4 page at 150 dpi: 1240 pixels wide
    pdf_link = page.get_by_role("link", name="Open the PDF").get_attribute("href")
    assert pdf_link
    pdf = page.request.get(f"{console_url}{pdf_link}")  # with the browser's session cookie
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")


def test_letters_due_filtered_in_place(page: Page, console_url: str, errors: list[str]) -> None:
    page.goto(f"{console_url}/m/{GENT}/letters-due")
    log_in(page, "staff.gent")
    expect(page.get_by_role("heading", name=re.compile(r"^Tonight"))).to_contain_text("letters")
    page.get_by_label("Outcome").select_option("skip")  # htmx swaps the lists, no reload
    expect(page.locator("#nights")).to_contain_text("no letter: deceased")
    expect(page.locator("#nights")).not_to_contain_text("letter (nl)")
    expect(page).to_have_url(re.compile(r"outcome=skip"))


def test_staff_start_a_run_and_watch_it_end(
    page: Page, console_url: str, errors: list[str]
) -> None:
    page.goto(f"{console_url}/m/{GENT}/runs")
    log_in(page, "staff.gent")
    page.get_by_label("Run the night of").fill(RUN_DATE)
    page.get_by_role("button", name="Prepare a run…").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Start the run for the night of .*\?$"))
    page.get_by_role("button", name=re.compile("^Start the run for the night of")).click()
    expect(page).to_have_url(re.compile(f"/m/{GENT}/runs"))
    # The page polls while the run goes; it ends with the run and its volume listed.
    volume = page.get_by_role("link", name="volume-001.pdf")
    expect(volume).to_be_visible(timeout=90_000)
    expect(page.locator("#runs")).to_contain_text("staff.gent")
    expect(page.locator("#runs")).to_contain_text("succeeded")


def test_an_auditor_searches_the_log_and_reveals(
    page: Page, logged_console_url: str, errors: list[str]
) -> None:
    page.goto(logged_console_url)
    log_in(page, "audit.gent")
    page.get_by_role("link", name="auditor: dispatch log").click()
    page.get_by_label("Document number").fill("E01")
    page.get_by_role("button", name="Search", exact=True).click()
    rows = page.locator("#entries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("E01")
    expect(rows).to_contain_text(MASKED)
    page.get_by_role("button", name=re.compile("Reveal national numbers")).click()
    number = NUMBERS["G01"]
    shown = f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}"
    expect(page.locator("#entries")).to_contain_text(shown)
    expect(page.locator("#entries")).to_contain_text("written to the dispatch log")


def test_an_auditor_of_brussels_finds_nothing_of_gent(
    page: Page, console_url: str, errors: list[str]
) -> None:
    page.goto(console_url)
    log_in(page, "audit.brussels")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your municipalities")
    expect(page.locator("main")).to_contain_text("Bruxelles / Brussel")
    expect(page.locator("main")).not_to_contain_text("Gent")
    response = page.goto(f"{console_url}/m/{GENT}/log")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main")).to_have_text(re.compile("There is no such page"))
    expect(page.locator("main")).not_to_contain_text("Gent")
    errors.clear()  # the 404 itself is logged by Chromium as a failed resource
