"""Letters per channel in the console (issue 25), through Starlette's test client on SQLite
and PostgreSQL, against a real SMTP relay on loopback: a run's page and the usage page show
the clerk's own municipality's letters by e-mail, those whose e-mail failed (on paper at the
next run) and the postage e-mail saved; never another municipality's."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from babel.numbers import format_currency
from starlette.testclient import TestClient

from tests.console_support import add_users, cheap_passwords, console_app, log_in, night_clock
from tests.e2e.email_support import DkimKey, Relay
from tests.e2e.test_email_channel import installation, key, relay, run  # noqa: F401 - fixtures

GENT, BRUSSELS = "44021", "21004"


def _euros(amount: float, *, html: bool = False) -> str:
    """Euros as the page writes them (its text with spaces made plain, or its HTML)."""
    text = format_currency(amount, "EUR", locale="en_BE")
    return text if html else " ".join(text.split())


def _shown(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def test_letters_per_channel_on_the_run_and_usage_pages(
    installation: Path,  # noqa: F811 - the fixture
    database_url: str,
    relay: Relay,  # noqa: F811 - the fixture
    key: DkimKey,  # noqa: F811 - the fixture
) -> None:
    relay.answers = {"g3@example.com": ["550"]}  # G3's e-mail is refused: paper next run
    first = run(installation, database_url, "2027-02-28")  # Gent: G1, G4 e-mail; G2 paper
    second = run(installation, database_url, "2027-03-01")  # Gent: G5 e-mail; G3 on paper
    add_users(database_url, cheap_passwords())
    app = console_app(installation, database_url, night_clock("2027-03-01"))
    with TestClient(app) as client:
        log_in(client, "both.gent")
        night = _shown(client, f"/m/{GENT}/runs/{first['run_id']}")
        failed = "1 failed (refused or bounced): on paper at the next run"
        assert f"By e-mail 2 letters accepted by the mail relay; {failed}" in night
        assert "On paper 1 letter" in night
        assert f"Postage saved {_euros(2.5)} (at {_euros(1.25)} a letter)" in night
        assert "4 letters accepted" not in night  # Brussels' two are not Gent's
        next_night = _shown(client, f"/m/{GENT}/runs/{second['run_id']}")
        assert "By e-mail 1 letter accepted by the mail relay" in next_night
        assert "On paper 1 letter (1 of them after a failed e-mail)" in next_night
        assert f"Postage saved {_euros(1.25)}" in next_night
        usage = client.get(f"/m/{GENT}/usage").text
        row = re.search(r"<tr><td>[A-Z][a-z]+ \d{4}</td>(.*?)</tr>", usage)
        assert row is not None
        # paper 2 (G2, G3) in 2 volumes; e-mails 3 (G1, G4, G5), 1 failed; the paper letters'
        # postage at the usage tariff; 3 x 1.25 saved at the e-mail tariff
        cells = re.findall(r"<td>(.*?)</td>", row.group(1))
        assert (cells[0], cells[2], cells[3], cells[4], cells[6]) == (
            "2", "2", "3", "1", _euros(3.75, html=True),
        )  # fmt: skip

        client.cookies.clear()
        log_in(client, "audit.brussels")
        brussels = _shown(client, f"/m/{BRUSSELS}/runs/{first['run_id']}")
        assert "By e-mail 2 letters accepted by the mail relay" in brussels
        assert "failed" not in brussels  # Gent's refused e-mail is not Brussels'
        assert client.get(f"/m/{GENT}/usage").status_code == 404
        brussels_usage = client.get(f"/m/{BRUSSELS}/usage").text
        assert "<td>3</td>" not in brussels_usage  # Gent's e-mails are not counted here
