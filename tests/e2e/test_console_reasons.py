"""The services' refusals and failures in the clerk's language (issue 23), through Starlette's
test client on SQLite and PostgreSQL: the services give a reason (a code and values), the
console words it from its catalogs; the command line keeps its English message, and writes
the reason for the console only when the console started it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from html import unescape
from pathlib import Path
from typing import NoReturn

import pytest
from starlette.testclient import TestClient

from reminders.adapters.db.engine import make_engine
from reminders.bootstrap import nightly_job, unit_of_work, utc_now
from reminders.config import load_settings
from reminders.domain.console_access import FAILED_LOGIN_WINDOW
from reminders.entrypoints.console import signer_child
from reminders.entrypoints.console.reasons import TEXTS
from reminders.errors import ReasonCode, RemindersError
from reminders.services.nightly_run import _guarded  # the step that records a failure
from tests.console_support import console_app, csrf_of, log_in, night_clock
from tests.e2e.after_print_support import (
    GENT,
    reminders,
    run_night,
    stored_volumes,
    with_approval,
)
from tests.e2e.test_console import Console, console  # noqa: F401 - fixture
from tests.e2e.test_input_properties import SignerInThisProcess
from tests.e2e.test_print_volumes import RUN_DATE, registry  # noqa: F401 - fixture

DUTCH = {"Accept-Language": "nl-BE,nl;q=0.9"}
FRENCH = {"Accept-Language": "fr-BE"}
GERMAN = {"Accept-Language": "de-BE"}


def test_every_reason_has_words_in_the_console() -> None:
    """A code without a text would show the English message: every code has one."""
    assert set(TEXTS) == set(ReasonCode)


@pytest.fixture
def held(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TestClient]:
    """The console on Gent held for approval, after a run "an" started in the console. Its
    signer runs in this process (SignerInThisProcess: the same command, request and answer;
    this test's six signing answers took 1.5-3 s of CPU each as processes). The child process
    is tested by tests/e2e/test_console_after_print.py and tests/unit/test_signer_child.py."""
    monkeypatch.setattr(signer_child, "subprocess", SignerInThisProcess)
    with_approval(registry, database_url)
    run_night(registry, database_url, RUN_DATE, started_by="console:an")
    with TestClient(console_app(registry, database_url, night_clock(RUN_DATE))) as client:
        yield client


def _as(client: TestClient, user: str, headers: dict[str, str]) -> str:
    client.cookies.clear()
    client.headers.update(headers)
    return log_in(client, user)


def test_after_print_refusals_in_the_clerks_language(
    held: TestClient,
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """Refusals that the console's signer process (the services) gives, and what was done,
    in Dutch, French and German; the same refusal on the command line stays English."""
    first = stored_volumes(database_url, GENT)[0]
    csrf = _as(held, "an", DUTCH)  # an started the run: four eyes
    refused = held.post(f"/m/{GENT}/release/{first.volume_id}", data={"csrf_token": csrf})
    assert refused.status_code == 400
    assert (
        f"an startte run {first.run_id} (volume-001.pdf): een andere goedkeurder moet dit "
        "doen (vier ogen)."
    ) in refused.text
    assert "four eyes" not in refused.text
    reprint = held.post(
        f"/m/{GENT}/reprint",
        data={"csrf_token": csrf, "reference": first.references[0], "note": "lost in the post"},
    )
    assert reprint.status_code == 400  # its volume is held: not gone to the print shop yet
    assert f"Brief {first.references[0]} zit in volume-001.pdf" in reprint.text

    csrf = _as(held, "bert", GERMAN)
    short = held.post(
        f"/m/{GENT}/cancel",
        data={"csrf_token": csrf, "reference": first.references[1], "note": "x"},
    )
    assert short.status_code == 400
    assert "Sagen Sie den Grund in wenigen Worten (mindestens 3 Zeichen)." in short.text
    done = held.post(
        f"/m/{GENT}/cancel",
        data={"csrf_token": csrf, "reference": first.references[1], "note": "renewed"},
    )
    assert "1 Brief von volume-001.pdf wurde storniert." in done.text
    again = held.post(
        f"/m/{GENT}/cancel",
        data={"csrf_token": csrf, "reference": first.references[1], "note": "renewed"},
    )
    assert f"Brief {first.references[1]} wurde bereits storniert." in again.text

    csrf = _as(held, "bert", FRENCH)
    released = held.post(f"/m/{GENT}/release/{first.volume_id}", data={"csrf_token": csrf})
    assert "volume-001-recut1.pdf a été remis à l'imprimerie." in unescape(released.text)
    life = unescape(held.get(f"/m/{GENT}/letter", params={"reference": first.references[0]}).text)
    assert f"passage {first.run_id}, nuit du 1 mars 2027" in life
    assert "volume-001.pdf attend un approbateur" in life
    assert "maintenant dans volume-001-recut1.pdf, recomposé sans 1 lettre annulée" in life
    assert "volume-001-recut1.pdf vers l'imprimerie" in life
    unknown = held.get(f"/m/{GENT}/letter", params={"reference": "44021-999999-000001"})
    assert "Aucune lettre de Gent n'a la référence 44021-999999-000001." in unescape(unknown.text)

    cli = reminders(registry, database_url, "release", "--volume", str(first.volume_id),
                    by="an")  # fmt: skip
    assert cli.exit_code == 0  # released already: nothing to refuse
    cli = reminders(registry, database_url, "cancel", "--letter", first.references[1],
                    "--reason", "renewed", by="bert")  # fmt: skip
    assert cli.exit_code == 2
    assert f"Error: letter {first.references[1]} was cancelled already" in cli.output  # English
    assert "Reason:" not in cli.output


def test_the_console_gets_the_reason_from_the_command_it_started(
    held: TestClient,
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reason travels as one JSON line before the error, only when the console asked."""
    monkeypatch.setenv("REMINDERS_REASONS", "stderr")
    cli = reminders(registry, database_url, "release", "--volume", "99999", by="bert")
    assert cli.exit_code == 2
    (line,) = [x for x in cli.output.splitlines() if x.startswith("Reason: ")]
    assert json.loads(line.removeprefix("Reason: ")) == {
        "code": "no_such_volume",
        "values": {"volume": 99999},
    }
    assert "Error: there is no print volume 99999" in cli.output


def test_login_refusals_in_the_browsers_language(console: Console) -> None:  # noqa: F811 - fixture
    form = console.client.get("/login", headers=GERMAN)
    refused = console.client.post(
        "/login",
        data={"csrf_token": csrf_of(form.text), "username": "staff.gent", "password": "wrong"},
        headers=GERMAN,
    )
    assert refused.status_code == 401
    assert "Unbekannter Benutzername oder falsches Passwort." in refused.text
    minutes = int(FAILED_LOGIN_WINDOW.total_seconds() // 60)
    for _attempt in range(10):
        form = console.client.get("/login", headers=FRENCH)
        refused = console.client.post(
            "/login",
            data={"csrf_token": csrf_of(form.text), "username": "staff.gent", "password": "no"},
            headers=FRENCH,
        )
    assert (
        f"Trop de connexions échouées pour ce nom : réessayez dans {minutes} minutes."
        in refused.text
    )


def test_a_run_stopped_on_request_says_so_in_the_clerks_language(console: Console) -> None:  # noqa: F811 - fixture
    """The run records why it failed as a reason beside its English failure; its page words
    it in German, with the English text in the tooltip."""
    stop = threading.Event()
    stop.set()  # SIGTERM before the first point: the run stops there
    settings = load_settings(
        console.config_file, environ={"REMINDERS_DATABASE_URL": console.database_url}
    )
    with pytest.raises(RemindersError, match="stopped on request"):
        nightly_job(settings, as_of=date.fromisoformat(RUN_DATE), nis_codes=[GENT],
                    started_by="cli", stop=stop)  # fmt: skip
    log_in(console.client, "staff.gent")
    page = console.client.get(f"/m/{GENT}/runs", headers=GERMAN).text
    assert (
        "Er wurde zum Anhalten aufgefordert (die Konsole oder der Server wurde beendet) und "
        "hielt an einem sicheren Punkt an."
    ) in page
    assert 'title="stopped on request at' in page


def test_preview_refusals_in_the_clerks_language(console: Console) -> None:  # noqa: F811 - fixture
    """The preview's refusals (the same service as `reminders preview`) in Dutch; a card held
    in another municipality gets the same answer as one that does not exist."""
    log_in(console.client, "staff.gent")
    elsewhere = console.client.get(f"/m/{GENT}/preview?kind=eid&number=E21", headers=DUTCH)
    assert elsewhere.status_code == 400
    assert "Er is geen document eid:E21 in het register van Gent." in unescape(elsewhere.text)
    stage = console.client.get(f"/m/{GENT}/preview?kind=eid&number=E01&stage=third", headers=DUTCH)
    assert stage.status_code == 400
    assert "De identiteitskaart heeft geen fase third; de fasen zijn: " in unescape(stage.text)


def test_a_failed_run_says_why_in_the_clerks_language_or_in_its_own_words(
    console: Console,  # noqa: F811 - fixture
) -> None:
    """A fault (not one of ours) is worded as an unexpected error, the details left to the
    server's log; one of our errors without a reason keeps its own (English) message."""
    stop = threading.Event()
    stop.set()
    settings = load_settings(
        console.config_file, environ={"REMINDERS_DATABASE_URL": console.database_url}
    )
    with pytest.raises(RemindersError):  # a run record to fail again, twice
        nightly_job(settings, as_of=date.fromisoformat(RUN_DATE), nis_codes=[GENT],
                    started_by="cli", stop=stop)  # fmt: skip
    engine = make_engine(console.database_url)
    log_in(console.client, "staff.gent")

    def failed_with(error: Exception) -> str:
        def steps() -> NoReturn:
            raise error

        with pytest.raises(RemindersError):
            _guarded(1, unit_of_work(engine), utc_now, steps, decided=lambda: True)
        return unescape(console.client.get(f"/m/{GENT}/runs/1", headers=GERMAN).text)

    try:
        fault = failed_with(OSError("No space left on device"))
        ours = failed_with(RemindersError("the relay's certificate expired on 2027-01-01"))
    finally:
        engine.dispose()
    assert "Ein unerwarteter Fehler (OSError): der Administrator findet die Einzelheiten" in fault
    assert 'title="OSError: No space left on device"' in fault
    assert "the relay's certificate expired on 2027-01-01" in ours
    assert "unerwarteter" not in ours
