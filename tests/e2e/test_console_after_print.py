"""The console's pages after the print (issue 21), through Starlette's test client on SQLite
and PostgreSQL: approvers release held volumes and cancel letters (never those of a run they
started), staff reprint and list returned letters (the export neutralised against formula
injection), anyone with a role reads a letter's life; each change in the activity log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from reminders.bootstrap import checkpoint_signers
from reminders.config import load_settings
from reminders.domain.print_records import ReturnedListing
from reminders.entrypoints.console.after_print_pages import returned_csv
from tests.console_support import console_app, log_in, night_clock, private_key_unreadable
from tests.e2e.after_print_support import (
    GENT,
    checked_volume,
    in_pickup,
    log_verifies,
    picked_up,
    reminders,
    run_night,
    stored_volumes,
    with_approval,
)
from tests.e2e.test_console import actions
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture


@pytest.fixture
def client(registry: Path, database_url: str) -> Iterator[TestClient]:  # noqa: F811
    """The console on Gent held for approval, after a run an started in the console."""
    with_approval(registry, database_url)
    run_night(registry, database_url, RUN_DATE, started_by="console:an")
    with TestClient(console_app(registry, database_url, night_clock(RUN_DATE))) as client:
        yield client


def test_approvers_release_and_cancel_in_the_console(
    client: TestClient,
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """an started the run: the page says so and a release by an is refused; bert cancels a
    letter and releases its volume (re-cut); a clerk has no release page. The console's
    process cannot read the log's private key meanwhile (issue 18): its signer process signs."""
    with private_key_unreadable():
        _release_and_cancel(client, registry, database_url)
    log_verifies(registry, database_url)


def test_the_console_process_cannot_read_the_key_in_these_tests(registry: Path) -> None:  # noqa: F811
    """What private_key_unreadable does: without it the tests above would prove nothing."""
    settings = load_settings(registry)
    assert checkpoint_signers(settings, now=datetime.now(UTC))
    with private_key_unreadable(), pytest.raises(AssertionError, match="private signing key"):
        checkpoint_signers(settings, now=datetime.now(UTC))


def _release_and_cancel(client: TestClient, registry: Path, database_url: str) -> None:  # noqa: F811
    first = stored_volumes(database_url, GENT)[0]
    csrf = log_in(client, "cleo")
    assert client.get(f"/m/{GENT}/release").status_code == 403
    client.post("/logout", data={"csrf_token": csrf})

    csrf = log_in(client, "an")
    page = client.get(f"/m/{GENT}/release")
    assert page.status_code == 200
    assert "You started this run" in page.text
    refused = client.post(f"/m/{GENT}/release/{first.volume_id}", data={"csrf_token": csrf})
    assert refused.status_code == 400
    assert "four eyes" in refused.text
    client.post("/logout", data={"csrf_token": csrf})

    csrf = log_in(client, "bert")
    page = client.get(f"/m/{GENT}/release", params={"number": "E02"})
    assert "Release to the print shop" in page.text
    assert "E02" in page.text
    cancelled = first.references[1]
    done = client.post(f"/m/{GENT}/cancel", data={"csrf_token": csrf, "reference": cancelled,
                                                   "note": "renewed on 2 March"})  # fmt: skip
    assert done.status_code == 200
    assert "1 letter of volume-001.pdf was cancelled." in done.text
    without_csrf = client.post(f"/m/{GENT}/release/{first.volume_id}", data={})
    assert without_csrf.status_code == 403
    released = client.post(f"/m/{GENT}/release/{first.volume_id}", data={"csrf_token": csrf})
    assert released.status_code == 200
    assert "volume-001-recut1.pdf was released to the print shop." in released.text
    (recut,) = [v for v in stored_volumes(database_url, GENT) if v.kind == "recut"]
    assert picked_up(registry, GENT) == [in_pickup(registry, recut.path)]
    checked_volume(in_pickup(registry, recut.path))
    life = client.get(f"/m/{GENT}/letter", params={"reference": cancelled})
    assert life.status_code == 200
    assert "renewed on 2 March" in life.text
    assert client.get(f"/m/{GENT}/letter", params={"reference": "21004-000001-000001"}
                      ).status_code == 400  # fmt: skip
    done_actions = [
        (user, action, outcome)
        for user, _, action, outcome, _ in actions(database_url)
        if action in ("letter_cancelled", "volume_released")
    ]
    assert done_actions == [("bert", "letter_cancelled", "ok"), ("bert", "volume_released", "ok")]


def test_staff_reprint_and_list_returned_letters(
    client: TestClient,
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """A clerk reprints a released letter (held again for an approver) and finds a returned
    one on the returned-letters page and in its export, national numbers masked."""
    first = stored_volumes(database_url, GENT)[0]
    reminders(registry, database_url, "release", "--volume", str(first.volume_id), by="bert")
    csrf = log_in(client, "cleo")
    with private_key_unreadable():  # the signer process prints and logs the reprint
        done = client.post(f"/m/{GENT}/reprint", data={"csrf_token": csrf, "reference":
                           first.references[0], "note": "lost in the post"})  # fmt: skip
    assert done.status_code == 200
    assert f"as <strong>{first.references[0]}-R1" in done.text
    assert "held for an approver" in done.text
    returns = registry.parent / "returns.csv"
    returns.write_text(f"reference,returned_on,reason\n{first.references[2]},2027-03-09,"
                       "onbekend\n", encoding="utf-8")  # fmt: skip
    assert reminders(registry, database_url, "returns", "import", str(returns),
                     "--municipality", GENT).exit_code == 0  # fmt: skip
    page = client.get(f"/m/{GENT}/returned")
    assert page.status_code == 200
    assert first.references[2] in page.text
    assert "unknown" in page.text
    export = client.get(f"/m/{GENT}/returned.csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [row["reference"] for row in rows] == [first.references[2]]
    assert rows[0]["national_number"].startswith("**.**.**-***.")
    assert rows[0]["still_at_address"] == "yes"


def test_the_returned_letters_export_cannot_start_a_formula() -> None:
    """A cell starting with = + - @ (or a tab) is written after a quote: a spreadsheet shows
    it as text instead of running it; other cells keep their bytes."""
    listing = ReturnedListing(
        reference="44021-000001-000001", returned_on=date(2027, 3, 9), reason="moved",
        recorded_at=datetime(2027, 3, 10, tzinfo=UTC), document_kind="eid",
        document_number="E01", family_name='=HYPERLINK("http://evil")', given_names="+Jan",
        national_number="85073003328", street="-Kerkstraat", house_number="@12", box="\t3",
        postal_code="9000", locality="Gent", country="BE", still_at_address=True,
    )  # fmt: skip
    (cells,) = csv.DictReader(io.StringIO(returned_csv([listing])))
    assert cells["family_name"] == '\'=HYPERLINK("http://evil")'
    assert (cells["given_names"], cells["street"], cells["house_number"], cells["box"]) == (
        "'+Jan", "'-Kerkstraat", "'@12", "'\t3",
    )  # fmt: skip
    assert cells["locality"] == "Gent"
    assert cells["national_number"] == "**.**.**-***.28"
