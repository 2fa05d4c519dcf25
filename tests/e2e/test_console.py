"""The web console, every route through Starlette's test client, on SQLite and PostgreSQL:
logging in and out, sessions that expire, CSRF, roles per municipality (an auditor of one
sees nothing of another), and each page against what the command line gives for the same
question (the console has no rule of its own)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from starlette.testclient import TestClient

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import ConsoleActionRow, NightlyRunRow
from reminders.adapters.db.run_lock import RunLocks
from reminders.adapters.printing.text import LetterTemplates
from reminders.config import load_settings
from reminders.domain.model import DocumentKind, Language
from reminders.entrypoints.cli import main
from tests.console_support import (
    BRUSSELS,
    EUPEN,
    GENT,
    PASSWORD,
    Clock,
    add_users,
    cheap_passwords,
    console_app,
    csrf_of,
    log_in,
    night_clock,
    private_key_unreadable,
)
from tests.e2e.test_campaigns import invoke_group
from tests.e2e.test_cli import NATIONAL_NUMBER, invoke
from tests.e2e.test_print_volumes import (  # noqa: F401 - fixture
    NUMBERS,
    OWN_SENTENCE,
    RUN_DATE,
    installed,
    registry,
    with_own_template,
)
from tests.e2e.test_run import run
from tests.pdf_reading import page_texts


@dataclass(slots=True)
class Console:
    client: TestClient
    clock: Clock
    config_file: Path
    database_url: str


@pytest.fixture
def console(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
    request: pytest.FixtureRequest,
) -> Iterator[Console]:
    """The console on the test registry, with its users, on the morning of RUN_DATE (the
    users came with the registry's copy, see `registry`, unless the test changed its config)."""
    if not installed(request)[0].users:
        add_users(database_url, cheap_passwords())
    clock = night_clock(RUN_DATE)
    app = console_app(registry, database_url, clock)
    with TestClient(app) as client:
        yield Console(client, clock, registry, database_url)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page_texts(pdf))


def actions(database_url: str) -> list[tuple[str, str | None, str, str, dict[str, object]]]:
    """(user, municipality, action, outcome, details) of the console's activity log."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(ConsoleActionRow).order_by(ConsoleActionRow.id))
            return [
                (r.username, r.municipality_nis, r.action, r.outcome, json.loads(r.details))
                for r in rows
            ]
    finally:
        engine.dispose()


# -- logging in ------------------------------------------------------------------------------


def test_pages_ask_for_a_login_first(console: Console) -> None:
    response = console.client.get(f"/m/{GENT}/log", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/m/{GENT}/log"
    htmx = console.client.get(f"/m/{GENT}/log", headers={"HX-Request": "true"})
    assert htmx.status_code == 204
    assert htmx.headers["hx-redirect"].startswith("/login")


def test_a_login_leads_back_to_the_page_asked_for(console: Console) -> None:
    form = console.client.get(f"/login?next=/m/{GENT}/log")
    response = console.client.post(
        "/login",
        data={
            "username": "audit.gent",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": f"/m/{GENT}/log",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/m/{GENT}/log"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie.replace("Strict", "strict")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_no_redirect_elsewhere_after_login(console: Console, target: str) -> None:
    form = console.client.get("/login")
    response = console.client.post(
        "/login",
        data={
            "username": "audit.gent",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_a_wrong_password_is_refused_and_logged(console: Console) -> None:
    form = console.client.get("/login")
    response = console.client.post(
        "/login",
        data={
            "username": "staff.gent",
            "password": "wrong password!",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert response.status_code == 401
    assert "Unknown user name or wrong password." in response.text
    unknown = console.client.post(
        "/login",
        data={"username": "nobody", "password": PASSWORD, "csrf_token": csrf_of(response.text)},
    )
    assert unknown.status_code == 401
    assert "Unknown user name or wrong password." in unknown.text
    logged = [(a[0], a[2], a[3], a[4].get("why")) for a in actions(console.database_url)]
    assert ("staff.gent", "login", "refused", "wrong password") in logged
    assert ("nobody", "login", "refused", "unknown user") in logged


def test_too_many_failed_logins_refuse_even_the_right_password(console: Console) -> None:
    page = console.client.get("/login").text
    for _ in range(5):  # max_failed_logins in the example config
        page = console.client.post(
            "/login",
            data={"username": "staff.gent", "password": "x" * 12, "csrf_token": csrf_of(page)},
        ).text
    refused = console.client.post(
        "/login", data={"username": "staff.gent", "password": PASSWORD, "csrf_token": csrf_of(page)}
    )
    assert refused.status_code == 401
    assert "Too many failed logins" in refused.text
    console.clock.advance(timedelta(minutes=16))
    log_in(console.client, "staff.gent")


def test_a_login_without_the_forms_token_is_refused(console: Console) -> None:
    console.client.get("/login")
    response = console.client.post(
        "/login", data={"username": "staff.gent", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert console.client.get("/", follow_redirects=False).status_code == 303


def test_sessions_end_when_idle_and_after_a_working_day(console: Console) -> None:
    log_in(console.client, "staff.gent")
    console.clock.advance(timedelta(minutes=29))
    assert console.client.get("/").status_code == 200
    console.clock.advance(timedelta(minutes=31))  # idle 31 minutes > 30
    assert console.client.get("/", follow_redirects=False).status_code == 303
    log_in(console.client, "staff.gent")
    for _ in range(21):  # active every 29 minutes, for more than 10 hours
        console.clock.advance(timedelta(minutes=29))
        last = console.client.get("/", follow_redirects=False)
    assert last.status_code == 303


def test_logging_out_ends_the_session_for_good(console: Console) -> None:
    csrf = log_in(console.client, "staff.gent")
    cookie = console.client.cookies.get("reminders_session")
    assert cookie
    response = console.client.post("/logout", data={"csrf_token": csrf})
    assert response.url.path == "/login"
    console.client.cookies.set("reminders_session", cookie)  # a copy kept somewhere
    assert console.client.get("/", follow_redirects=False).status_code == 303
    assert [a[2] for a in actions(console.database_url)][-2:] == ["login", "logout"]


def test_a_disabled_user_is_logged_out_at_once(console: Console) -> None:
    log_in(console.client, "staff.gent")
    result = invoke_group(
        console.config_file, console.database_url, "console-user", "disable", "staff.gent"
    )
    assert result.exit_code == 0, result.output
    assert console.client.get("/", follow_redirects=False).status_code == 303


def test_forms_without_the_sessions_token_or_from_elsewhere_are_refused(console: Console) -> None:
    csrf = log_in(console.client, "audit.gent")
    assert console.client.post(f"/m/{GENT}/verification", data={}).status_code == 403
    assert (
        console.client.post(f"/m/{GENT}/verification", data={"csrf_token": "x"}).status_code == 403
    )
    other = console.client.post(
        f"/m/{GENT}/verification",
        data={"csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert other.status_code == 403
    assert (
        console.client.post(f"/m/{GENT}/verification", data={"csrf_token": csrf}).status_code == 200
    )


def test_every_page_has_the_security_headers(console: Console) -> None:
    log_in(console.client, "staff.gent")
    for path in ("/login", "/", f"/m/{GENT}/configuration", "/static/console.css"):
        headers = console.client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
    assert console.client.get("/").headers["cache-control"] == "no-store"


HUGE = "9999999999999999999999999"
# What a probe found as staff or auditor: each was a traceback and a 500 (issue 18, item 3).
OUT_OF_RANGE = {
    f"/m/{GENT}/volumes/{HUGE}": 404,
    f"/m/{GENT}/volumes/3000000000": 404,  # beyond PostgreSQL's INTEGER
    f"/m/{GENT}/volumes/%C2%B2": 404,
    f"/m/{GENT}/runs/{HUGE}/report.pdf": 404,
    f"/m/{GENT}/log?run={HUGE}": 400,
    f"/m/{GENT}/log?before={HUGE}": 400,
    f"/m/{GENT}/log?run=%C2%B2": 400,  # "²".isdigit() is true, int("²") fails
    f"/m/{GENT}/log?to=9999-12-31": 400,
    f"/m/{GENT}/log?from=0001-01-01": 400,
    f"/m/{GENT}/log?document=E01%00": 400,  # PostgreSQL refuses NUL in text
    f"/m/{GENT}/export?run={HUGE}": 400,
    f"/m/{GENT}/runs/start?date=9999-12-31": 400,
    f"/m/{GENT}/preview?kind=eid&number=E01&date=9999-12-31": 400,
    "/no/such/page": 404,
}


def assert_security_headers(response: httpx2.Response) -> None:
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_out_of_range_input_is_a_page_not_a_failure(console: Console) -> None:
    log_in(console.client, "both.gent")
    for path, status in OUT_OF_RANGE.items():
        response = console.client.get(path)
        assert response.status_code == status, path
        assert 'class="problem"' in response.text or 'class="error-summary"' in response.text, path
        assert_security_headers(response)
    assert "log_exported" not in [action[2] for action in actions(console.database_url)]


def test_error_responses_carry_the_security_headers(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_allowed = console.client.put("/login")
    assert not_allowed.status_code == 405
    assert not_allowed.headers["allow"]
    assert 'class="problem"' in not_allowed.text
    assert_security_headers(not_allowed)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("reminders.entrypoints.console.audit_pages.ConsoleStore.actions", broken)
    client = TestClient(console.client.app, raise_server_exceptions=False)
    log_in(client, "audit.gent")
    failed = client.get(f"/m/{GENT}/activity")
    assert failed.status_code == 500
    assert "could not answer this request" in failed.text
    assert "Traceback" not in failed.text
    assert "a bug" not in failed.text
    assert_security_headers(failed)


def test_an_export_is_logged_once_it_was_sent(
    logged: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in(logged.client, "audit.gent")
    assert logged.client.get(f"/m/{GENT}/export?format=jsonl&run=1").status_code == 200
    exported = [a[3:] for a in actions(logged.database_url) if a[2] == "log_exported"]
    assert exported == [("ok", {"run_id": 1, "format": "jsonl", "revealed": False})]

    def cut_off(*_args: object, **_kwargs: object) -> Iterator[dict[str, object]]:
        yield {"event": "letter"}
        raise RuntimeError("the database went away")

    monkeypatch.setattr("reminders.entrypoints.console.audit_pages.export_rows", cut_off)
    client = TestClient(logged.client.app, raise_server_exceptions=False)
    log_in(client, "audit.gent")
    client.get(f"/m/{GENT}/export?format=jsonl")
    outcomes = [a[3] for a in actions(logged.database_url) if a[2] == "log_exported"]
    assert outcomes == ["ok", "failed"]


# -- roles per municipality --------------------------------------------------------------------

STAFF_PAGES = ("configuration", "letters-due", "preview", "runs/start")
AUDITOR_PAGES = ("log", "verification", "activity", "export", "checkpoint.txt")


def test_an_auditor_of_one_municipality_sees_nothing_of_another(console: Console) -> None:
    log_in(console.client, "audit.brussels")
    home = console.client.get("/").text
    assert "Bruxelles" in home
    assert "Gent" not in home
    assert GENT not in home
    for page in (*STAFF_PAGES, *AUDITOR_PAGES, "runs", "volumes/1", "runs/1/report.pdf"):
        response = console.client.get(f"/m/{GENT}/{page}")
        assert response.status_code == 404, page
        assert "Gent" not in response.text, page
    assert console.client.get(f"/m/{EUPEN}/log").status_code == 404
    assert console.client.get("/m/99999/log").status_code == 404  # unknown: the same answer
    assert console.client.get(f"/m/{BRUSSELS}/log").status_code == 200


def test_roles_decide_the_pages_within_a_municipality(console: Console) -> None:
    log_in(console.client, "staff.gent")
    for page in AUDITOR_PAGES:
        assert console.client.get(f"/m/{GENT}/{page}").status_code == 403, page
    for page in STAFF_PAGES:
        assert console.client.get(f"/m/{GENT}/{page}").status_code == 200, page
    console.client.cookies.clear()
    log_in(console.client, "audit.gent")
    for page in STAFF_PAGES:
        assert console.client.get(f"/m/{GENT}/{page}").status_code == 403, page


# -- staff ------------------------------------------------------------------------------------


def test_the_configuration_in_force(console: Console) -> None:
    log_in(console.client, "staff.gent")
    page = console.client.get(f"/m/{GENT}/configuration").text
    for shown in (
        "Dienst Burgerzaken",
        "Botermarkt",
        "-3 months from expiry",
        "60 days after",
        "driving_licence/first.nl.txt.j2",
        "paper-licences-2033",
        "01:30",
    ):
        assert shown in page, shown
    assert "driving_licence/first.fr.txt.j2" not in page  # Gent writes Dutch only
    shipped = LetterTemplates().source(DocumentKind.EID, "first", Language.NL, GENT)
    assert f'title="{shipped.sha256}"' in page
    assert "own:" not in page


def test_the_configuration_says_which_templates_are_the_municipalitys_own(
    registry: Path,  # noqa: F811 - fixture
    database_url: str,
) -> None:
    """Gent's own eID letter is shown as its own file with that file's SHA-256."""
    own = with_own_template(registry, GENT, "eid/first.nl.txt.j2", OWN_SENTENCE)
    add_users(database_url, cheap_passwords())
    app = console_app(registry, database_url, night_clock(RUN_DATE))
    with TestClient(app) as client:
        log_in(client, "staff.gent")
        page = client.get(f"/m/{GENT}/configuration").text
    settings = load_settings(registry, environ={})
    source = LetterTemplates(settings.template_folders).source(
        DocumentKind.EID, "first", Language.NL, GENT
    )
    assert source.own
    assert f"own: <code>{own}</code>" in page
    assert f'title="{source.sha256}"' in page
    assert page.count("own: <code>") == 1  # every other letter is shipped


def test_letters_due_are_the_dry_run_of_the_night(console: Console) -> None:
    log_in(console.client, "staff.gent")
    dry_run = run(
        console.config_file,
        console.database_url,
        "--dry-run",
        "--date",
        RUN_DATE,
        "--municipality",
        GENT,
    )
    gent = dry_run["municipalities"][GENT]
    page = console.client.get(f"/m/{GENT}/letters-due").text
    skips = sum(gent["skipped"].values())
    assert f"Tonight (01 Mar 2027): {gent['letters']} letters, {skips} skips" in page
    assert "E01" in page
    assert "E21" not in page  # Brussels' documents are not Gent's
    assert not NATIONAL_NUMBER.search(page)
    only_skips = console.client.get(f"/m/{GENT}/letters-due?outcome=skip").text
    assert 'no letter: <span class="code" title="deceased">deceased</span>' in only_skips
    assert 'title="no_address">no address</span>' in only_skips
    assert "letter (nl)" not in only_skips
    one = console.client.get(f"/m/{GENT}/letters-due?number=e07&outcome=letter")
    assert "E07" in one.text
    assert "E01" not in one.text
    assert "1 matches the filters" in one.text
    fragment = console.client.get(f"/m/{GENT}/letters-due?kind=eid", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert "Tonight" in fragment.text
    assert console.client.get(f"/m/{GENT}/letters-due?reason=bored").status_code == 400


def test_tomorrow_lists_only_what_tonights_run_leaves(console: Console) -> None:
    log_in(console.client, "staff.gent")
    page = console.client.get(f"/m/{GENT}/letters-due").text
    tomorrow = page.split("Tomorrow (")[1]
    assert "0 letters" in tomorrow.split("</h2>")[0]  # nothing new falls due the next day


def test_a_preview_is_the_letter_the_command_line_previews(
    console: Console, tmp_path: Path
) -> None:
    log_in(console.client, "staff.gent")
    page = console.client.get(f"/m/{GENT}/preview?kind=eid&number=e01&date={RUN_DATE}")
    assert page.status_code == 200
    assert "eid:E01" in page.text
    assert "preview.png?" in page.text
    pdf = console.client.get(f"/m/{GENT}/preview.pdf?kind=eid&number=E01&date={RUN_DATE}")
    assert pdf.headers["content-type"] == "application/pdf"
    out = tmp_path / "cli.pdf"
    result = invoke(
        console.config_file,
        console.database_url,
        "preview",
        "--document",
        "eid:E01",
        "--date",
        RUN_DATE,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert pdf_text(pdf.content) == pdf_text(out.read_bytes())
    assert "Peeters" in pdf_text(pdf.content)
    png = console.client.get(f"/m/{GENT}/preview.png?kind=eid&number=E01&date={RUN_DATE}")
    assert png.content.startswith(b"\x89PNG")
    logged = [a for a in actions(console.database_url) if a[2] == "preview"]
    assert logged
    assert logged[0][:2] == ("staff.gent", GENT)
    assert logged[0][4]["document"] == "eid:E01"


def test_no_preview_of_another_municipalitys_letters(console: Console) -> None:
    log_in(console.client, "staff.gent")
    response = console.client.get(f"/m/{GENT}/preview?kind=eid&number=E21")  # a Brussels card
    assert response.status_code == 400
    assert "There is no document eid:E21 in the registry of Gent." in response.text
    assert BRUSSELS not in response.text
    missing = console.client.get(f"/m/{GENT}/preview?kind=eid&number=NOPE")
    assert missing.status_code == 400  # the same answer as for a card held elsewhere
    assert "There is no document eid:NOPE in the registry of Gent." in missing.text
    assert (
        console.client.get(f"/m/{GENT}/preview?kind=eid&number=E01&date=tomorrow").status_code
        == 400
    )


def wait_for_run(console: Console, timeout: float = 120.0) -> None:
    launcher = console.client.app.state.console.launcher  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while launcher.going(GENT) is not None:
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.2)


def test_a_run_started_from_the_console(console: Console) -> None:
    csrf = log_in(console.client, "staff.gent")
    confirm = console.client.get(f"/m/{GENT}/runs/start?date={RUN_DATE}")
    assert "Start the run for" in confirm.text
    assert "letters" in confirm.text
    unconfirmed = console.client.post(
        f"/m/{GENT}/runs/start", data={"csrf_token": csrf, "date": RUN_DATE}
    )
    assert unconfirmed.status_code == 400
    started = console.client.post(
        f"/m/{GENT}/runs/start", data={"csrf_token": csrf, "date": RUN_DATE, "confirm": "yes"}
    )
    assert started.status_code == 200
    assert started.url.path == f"/m/{GENT}/runs"
    again = console.client.post(
        f"/m/{GENT}/runs/start", data={"csrf_token": csrf, "date": RUN_DATE, "confirm": "yes"}
    )
    wait_for_run(console)
    assert again.status_code == 400
    assert "still going" in again.text
    logged = [(a[2], a[3]) for a in actions(console.database_url) if a[1] == GENT]
    assert logged[-3:] == [
        ("run_started", "started"),
        ("run_started", "refused"),
        ("run_ended", "ok"),
    ]
    ended = next(a for a in actions(console.database_url) if a[2] == "run_ended")
    engine = make_engine(console.database_url)
    try:
        with engine.connect() as connection:
            recorded = connection.execute(select(NightlyRunRow)).one()
    finally:
        engine.dispose()
    assert recorded.started_by == "console:staff.gent"
    assert recorded.outcome == "succeeded"
    assert ended[4]["run_id"] == recorded.id
    runs = console.client.get(f"/m/{GENT}/runs").text
    assert "staff.gent" in runs
    assert "volume-001.pdf" in runs
    download = console.client.get(f"/m/{GENT}/volumes/1")
    assert download.content.startswith(b"%PDF")
    assert "Peeters" in pdf_text(download.content)
    # The same night again: shown as done, with no button to start it, and refused
    done = console.client.get(f"/m/{GENT}/runs/start?date={RUN_DATE}").text
    assert f"Run {recorded.id} (night of" in done
    assert "Start the run" not in done
    refused = console.client.post(
        f"/m/{GENT}/runs/start", data={"csrf_token": csrf, "date": RUN_DATE, "confirm": "yes"}
    )
    assert refused.status_code == 400
    assert "has been run already" in refused.text
    assert console.client.get(f"/m/{GENT}/runs").text.count('class="run-succeeded"') == 1


def test_a_run_refused_because_another_holds_the_municipality(console: Console) -> None:
    csrf = log_in(console.client, "staff.gent")
    engine = make_engine(console.database_url)
    try:
        with RunLocks(engine, wait_seconds=0)([GENT]):  # the scheduler's run, say
            console.client.post(
                f"/m/{GENT}/runs/start",
                data={"csrf_token": csrf, "date": RUN_DATE, "confirm": "yes"},
            )
            wait_for_run(console)
    finally:
        engine.dispose()
    ended = [a for a in actions(console.database_url) if a[2] == "run_ended"]
    assert ended[0][3] == "refused"
    assert ended[0][4]["exit_status"] == 3


def test_volumes_of_another_municipality_are_not_served(console: Console) -> None:
    run(console.config_file, console.database_url, "--date", RUN_DATE)
    log_in(console.client, "staff.gent")
    engine = make_engine(console.database_url)
    try:
        with engine.connect() as connection:
            query = "SELECT municipality_nis, min(id) FROM print_volume GROUP BY 1"
            ids = {str(nis): int(first) for nis, first in connection.execute(text(query))}
    finally:
        engine.dispose()
    assert console.client.get(f"/m/{GENT}/volumes/{ids[GENT]}").status_code == 200
    assert console.client.get(f"/m/{GENT}/volumes/{ids[BRUSSELS]}").status_code == 404


# -- auditors -------------------------------------------------------------------------------


@pytest.fixture
def logged(console: Console, request: pytest.FixtureRequest) -> Console:
    """The console after one run of RUN_DATE for every municipality (the run came with the
    registry's copy, see `registry`, unless the test changed its config first)."""
    if not installed(request)[0].ran:
        run(console.config_file, console.database_url, "--date", RUN_DATE)
    return console


def test_the_log_searched(logged: Console) -> None:
    log_in(logged.client, "audit.gent")
    page = logged.client.get(f"/m/{GENT}/log").text
    assert "letter" in page
    assert "skip" in page
    assert "sealed" in page
    assert not NATIONAL_NUMBER.search(page)
    assert f"**.**.**-***.{NUMBERS['G01'][-2:]}" in page  # masked to its check digits
    one = logged.client.get(f"/m/{GENT}/log?document=e01").text
    assert "E01" in one
    assert "E02" not in one
    skips = logged.client.get(f"/m/{GENT}/log?reason=deceased").text
    assert "E15" in skips
    assert "E01" not in skips
    assert "No entry matches." in logged.client.get(f"/m/{GENT}/log?run=99").text
    assert "E01" in logged.client.get(f"/m/{GENT}/log?run=1&event=letter").text
    # The run's entries are stamped when the test ran (the log's clock is the real one).
    today = datetime.now(UTC).date()
    around = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    assert "E01" in logged.client.get(f"/m/{GENT}/log?{around}").text
    before = f"to={today - timedelta(days=2)}"
    assert "No entry matches." in logged.client.get(f"/m/{GENT}/log?{before}").text
    fragment = logged.client.get(f"/m/{GENT}/log?stage=first", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert "<table" in fragment.text
    assert logged.client.get(f"/m/{GENT}/log?from=yesterday").status_code == 400


def test_the_log_is_paged(logged: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    import reminders.entrypoints.console.audit_pages as pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 5)
    log_in(logged.client, "audit.gent")
    first = logged.client.get(f"/m/{GENT}/log?event=letter").text
    assert "Older entries" in first
    before = first.split("before=")[1].split('"')[0]
    second = logged.client.get(f"/m/{GENT}/log?event=letter&before={before}").text

    def seqs(html: str) -> set[str]:
        return {line.split("<td>")[1].split("</td>")[0] for line in html.split("<tr class=")[1:]}

    assert seqs(first).isdisjoint(seqs(second))
    assert len(seqs(second)) == 5


def test_revealing_national_numbers_is_logged_first(logged: Console) -> None:
    csrf = log_in(logged.client, "audit.gent")
    assert "Reveal national numbers" in logged.client.get(f"/m/{GENT}/log?document=E01").text
    with private_key_unreadable():  # sealed by the console's signer process (issue 18)
        page = logged.client.post(
            f"/m/{GENT}/log", data={"csrf_token": csrf, "document": "E01"}
        ).text
    number = NUMBERS["G01"]
    assert f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}" in page
    engine = make_engine(logged.database_url)
    try:
        with engine.connect() as connection:
            written = connection.execute(
                text("SELECT municipality_nis, details FROM audit_entry WHERE event = 'revealed'")
            ).all()
    finally:
        engine.dispose()
    assert [(nis, json.loads(details)["by"]) for nis, details in written] == [
        (GENT, "console:audit.gent")
    ]
    shown = logged.client.get(f"/m/{GENT}/log?event=revealed").text
    assert "revealed" in shown
    assert "console log search" not in shown  # an entry, not its facts
    verify = invoke_group(
        logged.config_file, logged.database_url, "audit", "verify", "--municipality", GENT, "--json"
    )
    assert json.loads(verify.output)["logs"][0]["intact"]
    assert [a[2:4] for a in actions(logged.database_url)][-1] == ("national_numbers_revealed", "ok")


def test_an_auditor_without_the_right_cannot_reveal(logged: Console) -> None:
    csrf = log_in(logged.client, "both.gent")
    assert "Reveal national numbers" not in logged.client.get(f"/m/{GENT}/log").text
    refused = logged.client.post(f"/m/{GENT}/log", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert not NATIONAL_NUMBER.search(refused.text)
    export = logged.client.post(f"/m/{GENT}/export", data={"csrf_token": csrf, "format": "csv"})
    assert export.status_code == 403
    assert [a[2:4] for a in actions(logged.database_url)][-2:] == [
        ("national_numbers_revealed", "refused"),
        ("log_exported", "refused"),
    ]


def test_verification_and_the_newest_checkpoint(logged: Console) -> None:
    csrf = log_in(logged.client, "audit.gent")
    page = logged.client.get(f"/m/{GENT}/verification").text
    assert "never" in page
    assert "sealed by run 1" in page
    verified = logged.client.post(f"/m/{GENT}/verification", data={"csrf_token": csrf}).text
    assert "Verified just now: intact" in verified
    assert "audit.gent:" in verified
    note = logged.client.get(f"/m/{GENT}/checkpoint.txt")
    checkpoint = invoke_group(
        logged.config_file, logged.database_url, "audit", "checkpoint", "--municipality", GENT
    )
    assert note.text.strip() == checkpoint.output.strip()


def test_the_export_is_the_command_lines(logged: Console) -> None:
    csrf = log_in(logged.client, "audit.gent")
    ours = logged.client.get(f"/m/{GENT}/export?format=csv&run=1").text
    cli = invoke_group(
        logged.config_file,
        logged.database_url,
        "audit",
        "export",
        "--run",
        "1",
        "--municipality",
        GENT,
    )
    assert ours == cli.output
    rows = list(csv.DictReader(io.StringIO(ours)))
    assert rows
    assert all(r["municipality_nis"] == GENT for r in rows)
    assert not NATIONAL_NUMBER.search(ours)
    lines = logged.client.get(f"/m/{GENT}/export?format=jsonl").text.splitlines()
    assert len(lines) == len(rows)
    assert json.loads(lines[0])["run_id"] == 1
    with private_key_unreadable():  # sealed by the console's signer process (issue 18)
        revealed = logged.client.post(
            f"/m/{GENT}/export", data={"csrf_token": csrf, "format": "csv"}
        )
    assert NATIONAL_NUMBER.search(revealed.text)
    assert logged.client.get(f"/m/{GENT}/export?format=xml").status_code == 400


def test_the_auditors_report_on_a_run(logged: Console) -> None:
    log_in(logged.client, "both.gent")
    runs = logged.client.get(f"/m/{GENT}/runs").text
    assert f"/m/{GENT}/runs/1/report.pdf" in runs
    report = logged.client.get(f"/m/{GENT}/runs/1/report.pdf")
    assert report.headers["content-type"] == "application/pdf"
    words = pdf_text(report.content)
    assert "Gent" in words
    assert "Bruxelles" not in words
    assert logged.client.get(f"/m/{GENT}/runs/7/report.pdf").status_code == 400


def test_the_console_activity_log_is_append_only(logged: Console) -> None:
    csrf = log_in(logged.client, "audit.gent")
    logged.client.post(f"/m/{GENT}/verification", data={"csrf_token": csrf})
    page = logged.client.get(f"/m/{GENT}/activity").text
    assert "log_verified" in page
    assert "role_granted" in page
    assert "audit.brussels" not in page  # another municipality's roles
    engine = make_engine(logged.database_url)
    try:
        for statement in ("UPDATE console_action SET outcome = 'ok'", "DELETE FROM console_action"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()


# -- console-user ---------------------------------------------------------------------------


def test_console_users_are_managed_from_the_command_line(registry: Path, database_url: str) -> None:  # noqa: F811
    def cli(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(
            main,
            ["console-user", args[0], "--config", str(registry), *args[1:]],
            env={"REMINDERS_DATABASE_URL": database_url},
            input=stdin,
        )
        return result.exit_code, result.output

    assert cli("add", "Jan Peeters", "--password-stdin", stdin=PASSWORD + "\n")[0] == 2
    assert cli("add", "jan", "--password-stdin", stdin="short\n")[0] == 2
    assert cli("add", "jan", "--password-stdin", stdin=PASSWORD + "\n") == (
        0,
        "Added console user jan.\n",
    )
    assert cli("add", "jan", "--password-stdin", stdin=PASSWORD + "\n")[0] == 2
    assert cli("grant", "jan", "--municipality", GENT, "--role", "staff", "--reveal")[0] == 2
    assert cli("grant", "jan", "--municipality", "12345", "--role", "staff")[0] == 2
    assert cli("grant", "jan", "--municipality", GENT, "--role", "auditor", "--reveal")[0] == 0
    assert cli("grant", "jan", "--municipality", BRUSSELS, "--role", "staff")[0] == 0
    assert cli("list")[1] == f"jan: staff {BRUSSELS}, auditor {GENT} (reveal)\n"
    assert cli("revoke", "jan", "--municipality", BRUSSELS, "--role", "staff")[0] == 0
    assert cli("revoke", "jan", "--municipality", BRUSSELS, "--role", "staff")[0] == 2
    assert cli("disable", "nobody")[0] == 2
    assert cli("disable", "jan")[0] == 0
    assert cli("list")[1] == f"jan [disabled]: auditor {GENT} (reveal)\n"
    assert cli("password", "jan", "--password-stdin", stdin="another long password\n")[0] == 0
    done = [(a[0].startswith("cli:"), a[2]) for a in actions(database_url)]
    assert done == [
        (True, name)
        for name in (
            "user_added",
            "role_granted",
            "role_granted",
            "role_revoked",
            "user_disabled",
            "password_set",
        )
    ]
