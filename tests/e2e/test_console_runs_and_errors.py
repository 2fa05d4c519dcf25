"""Issue 23's problems of the console, through Starlette's test client: runs refused, failed
or killed stay visible with their reason; a run starts only for tonight or a missed past
night (a night run is done, an unfinished run is resumed first); counts are the
municipality's own; a preview is logged once; a bad filter keeps the form and shows no stale
results; one time zone, labelled; words instead of codes, the code in a tooltip."""

from __future__ import annotations

import os
import re
import socket
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_currency
from sqlalchemy import text

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.run_lock import RunLocks
from tests.console_support import GENT, log_in
from tests.e2e.test_console import (  # noqa: F401 - fixtures
    Console,
    actions,
    console,
    logged,
    wait_for_run,
)
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture

BRUSSELS_TIME = ZoneInfo("Europe/Brussels")


def _sql(database_url: str, statement: str, **values: object) -> list[tuple[object, ...]]:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), values)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_a_refused_run_stays_on_the_runs_page_with_its_reason(console: Console) -> None:  # noqa: F811 - fixture
    csrf = log_in(console.client, "staff.gent")
    engine = make_engine(console.database_url)
    try:
        with RunLocks(engine, wait_seconds=0)([GENT]):  # the nightly job's run, say
            console.client.post(
                f"/m/{GENT}/runs/start",
                data={"csrf_token": csrf, "date": RUN_DATE, "confirm": "yes"},
            )
            wait_for_run(console)
    finally:
        engine.dispose()
    runs = console.client.get(f"/m/{GENT}/runs").text
    assert "was refused: another run held Gent" in runs
    assert "is going" not in runs
    # The run's process told its reason (a code and values) for the console, beside its
    # English message: it is kept in the activity log with how the run ended.
    (ended,) = [a for a in actions(console.database_url) if a[2] == "run_ended"]
    assert ended[3] == "refused"
    assert ended[4]["reason"] == {"code": "municipality_busy", "values": {"municipality": GENT}}
    assert str(ended[4]["error"]).startswith("Error: municipality 44021 is being run by")


def test_a_killed_run_is_stopped_and_offered_to_resume(logged: Console) -> None:  # noqa: F811 - fixture
    (run_id,) = _sql(logged.database_url, "SELECT max(id) FROM nightly_run")[0]
    # The process died after deciding: the run is still marked running, its worker is gone.
    _sql(
        logged.database_url,
        "UPDATE nightly_run SET outcome = 'running', step = 'decided', finished_at = NULL "
        "WHERE id = :id",
        id=run_id,
    )
    _sql(
        logged.database_url,
        "UPDATE run_attempt SET outcome = 'running', worker = :worker WHERE run_id = :id",
        id=run_id,
        worker=f"{socket.gethostname()}:999999999",
    )
    log_in(logged.client, "staff.gent")
    runs = logged.client.get(f"/m/{GENT}/runs").text
    assert "stopped before it finished" in runs
    assert "hx-trigger" not in runs  # nothing going: no polling
    home = logged.client.get("/").text
    assert "stopped before it finished" in home
    tonight = logged.client.get(f"/m/{GENT}/runs/start?date={RUN_DATE}").text
    assert f"Resume run {run_id}" in tonight
    assert "Start the run" not in tonight


def test_a_night_to_come_cannot_be_run(console: Console) -> None:  # noqa: F811 - fixture
    csrf = log_in(console.client, "staff.gent")
    later = (date.fromisoformat(RUN_DATE) + timedelta(days=90)).isoformat()
    page = console.client.get(f"/m/{GENT}/runs/start?date={later}")
    assert page.status_code == 400
    assert 'class="error-summary"' in page.text
    assert 'href="#f-date"' in page.text
    assert f'value="{later}"' in page.text  # the input kept
    assert "letters" not in page.text.split('id="runs"')[0].split("error-summary")[1]
    started = console.client.post(
        f"/m/{GENT}/runs/start", data={"csrf_token": csrf, "date": later, "confirm": "yes"}
    )
    assert started.status_code == 400
    assert console.client.app.state.console.launcher.going(GENT) is None  # type: ignore[attr-defined]
    yesterday = (date.fromisoformat(RUN_DATE) - timedelta(days=1)).isoformat()
    assert "Start the run" in console.client.get(f"/m/{GENT}/runs/start?date={yesterday}").text


def test_the_confirmation_shows_the_first_letters_as_pictures(console: Console) -> None:  # noqa: F811 - fixture
    log_in(console.client, "staff.gent")
    page = console.client.get(f"/m/{GENT}/runs/start?date={RUN_DATE}").text
    pictures = re.findall(r'src="(/m/\d+/preview\.png\?[^"]+)"', page)
    assert 1 <= len(pictures) <= 3
    picture = console.client.get(pictures[0].replace("&amp;", "&"))
    assert picture.headers["content-type"] == "image/png"
    assert "preview" not in [a[2] for a in actions(console.database_url)]  # nobody previewed


def test_counts_are_the_municipalitys_own(logged: Console) -> None:  # noqa: F811 - fixture
    rows = _sql(
        logged.database_url,
        "SELECT municipality_nis, count(*) FROM decision WHERE reason IS NULL GROUP BY 1",
    )
    per = {str(nis): int(n) for nis, n in rows}  # type: ignore[call-overload]
    assert per[GENT] != sum(per.values())
    log_in(logged.client, "staff.gent")
    runs = logged.client.get(f"/m/{GENT}/runs").text
    cells = re.findall(r'<tr class="run-succeeded">.*?</tr>', runs, re.S)
    assert f"<td>{per[GENT]}</td>" in cells[0]
    assert f"<td>{sum(per.values())}</td>" not in cells[0]
    home = logged.client.get("/").text
    assert f"({per[GENT]} letter" in home


def test_a_preview_is_logged_once(logged: Console) -> None:  # noqa: F811 - fixture
    log_in(logged.client, "staff.gent")
    query = f"kind=eid&number=E01&date={RUN_DATE}"
    assert logged.client.get(f"/m/{GENT}/preview?{query}").status_code == 200
    assert logged.client.get(f"/m/{GENT}/preview.png?{query}").status_code == 200
    assert [a[2] for a in actions(logged.database_url)].count("preview") == 1


def test_a_bad_filter_keeps_the_form_and_shows_no_results(logged: Console) -> None:  # noqa: F811 - fixture
    log_in(logged.client, "audit.gent")
    page = logged.client.get(f"/m/{GENT}/log?run=4a&document=E01")
    assert page.status_code == 400
    assert 'class="error-summary"' in page.text
    assert '<a href="#f-run">' in page.text
    assert 'id="f-run" name="run" aria-invalid="true"' in page.text
    assert 'value="4a"' in page.text
    assert 'value="E01"' in page.text
    assert "<table" not in page.text
    # htmx sends the form for the results only: the whole main part comes back instead
    htmx = logged.client.get(f"/m/{GENT}/log?run=4a", headers={"HX-Request": "true"})
    assert htmx.headers["hx-retarget"] == "main"
    assert "<table" not in htmx.text
    dates = logged.client.get(f"/m/{GENT}/log?from=01/12/2026")
    assert dates.status_code == 400
    assert 'href="#f-from"' in dates.text
    assert 'value="01/12/2026"' in dates.text


def test_one_time_zone_labelled(logged: Console) -> None:  # noqa: F811 - fixture
    log_in(logged.client, "audit.gent")
    ((recorded,),) = _sql(
        logged.database_url,
        "SELECT recorded_at FROM audit_entry WHERE municipality_nis = :nis ORDER BY seq DESC "
        "LIMIT 1",
        nis=GENT,
    )
    moment = datetime.fromisoformat(str(recorded).replace("Z", "+00:00"))
    page = logged.client.get(f"/m/{GENT}/log").text
    assert moment.astimezone(BRUSSELS_TIME).strftime("%H:%M:%S") in page
    assert "(UTC)" not in page
    assert "Recorded (Belgian time)" in page  # the label of the times shown


def test_words_instead_of_codes_with_the_code_in_a_tooltip(logged: Console) -> None:  # noqa: F811 - fixture
    log_in(logged.client, "audit.gent")
    page = logged.client.get(f"/m/{GENT}/log").text
    assert '<span class="code" title="eid">identity card</span>' in page
    assert '<span class="code" title="letter">letter</span>' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    logged.client.post(f"/m/{GENT}/verification", data={"csrf_token": csrf.group(1)})
    activity = logged.client.get(f"/m/{GENT}/activity").text
    assert '<span class="code" title="log_verified">verified the dispatch log</span>' in activity
    assert "None" not in activity  # no first broken entry: nothing said, not a Python repr
    assert "{'" not in activity


def test_usage_per_month_with_postage_and_a_chart(logged: Console) -> None:  # noqa: F811 - fixture
    rows = _sql(
        logged.database_url,
        "SELECT municipality_nis, sum(letters), sum(pages), count(*) FROM print_volume GROUP BY 1",
    )
    per = {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}  # type: ignore[call-overload]
    letters, pages, volumes = per[GENT]
    log_in(logged.client, "staff.gent")
    page = logged.client.get(f"/m/{GENT}/usage").text
    row = re.search(r"<tr><td>[A-Z][a-z]+ \d{4}</td>(.*?)</tr>", page)
    assert row is not None
    postage = format_currency(round(letters * 1.33, 2), "EUR", locale="en_BE")
    assert row.group(1) == (
        f"<td>{letters}</td><td>{pages}</td><td>{volumes}</td><td>{postage}</td>"
    )
    assert '<svg role="img"' in page
    assert f"{letters} letters</title></rect>" in page
    everyone = sum(counts[0] for counts in per.values())
    assert everyone != letters
    assert f"<td>{everyone}</td>" not in page  # Gent's own, never the installation's


def test_a_printing_run_shows_which_volume_of_how_many(logged: Console) -> None:  # noqa: F811 - fixture
    """The run records the volumes it plans per municipality once its letters are decided:
    its page says how many were written of those planned, and while it prints "volume N of
    M" for this municipality's volumes only."""
    (run_id,) = _sql(logged.database_url, "SELECT max(id) FROM nightly_run")[0]
    gent_volumes = len(
        _sql(
            logged.database_url,
            "SELECT id FROM print_volume WHERE run_id = :id AND municipality_nis = :nis",
            id=run_id,
            nis=GENT,
        )
    )
    log_in(logged.client, "staff.gent")
    done = logged.client.get(f"/m/{GENT}/runs/{run_id}").text
    assert f"{gent_volumes} of {gent_volumes} volumes written" in done
    # The same run as if it were printing now, in a process that is alive (this one), with
    # two more volumes of Gent's and many of another municipality's to come.
    _sql(
        logged.database_url,
        "UPDATE nightly_run SET outcome = 'running', step = 'decided', finished_at = NULL, "
        "planned_volumes = :plan WHERE id = :id",
        id=run_id,
        plan=f'{{"{GENT}": {gent_volumes + 2}, "21004": 40}}',
    )
    _sql(
        logged.database_url,
        "UPDATE run_attempt SET outcome = 'running', worker = :worker WHERE run_id = :id",
        id=run_id,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    going = logged.client.get(f"/m/{GENT}/runs/{run_id}").text
    assert f"volume {gent_volumes + 1} of {gent_volumes + 2}" in going
    assert "of 40" not in going  # never another municipality's
    assert "of 42" not in going
    runs = logged.client.get(f"/m/{GENT}/runs").text
    assert f"volume {gent_volumes + 1} of {gent_volumes + 2}" in runs
