"""Reminders by e-mail (issue 25), end to end on SQLite and PostgreSQL, against a real SMTP
relay on loopback (aiosmtpd): the e-mails received are exactly the letters the rule gives to
e-mail, each once, DKIM-signed and in the letter's language; a refusal (5xx) or a bounce goes
on paper at the next run, once; a 451 then 250 is one e-mail; a consent withdrawn between runs
gives paper; every e-mail is in the dispatch log, which still verifies."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import (
    AuditEntryRow,
    DecisionRow,
    DocumentRow,
    EmailMessageRow,
    LetterRow,
)
from reminders.domain.registry_rows import PERSON_COLUMNS
from reminders.entrypoints.cli import main
from reminders.synthetic import synthetic_national_number
from tests.e2e.email_support import DkimKey, Relay, dkim_key, email_table, loopback_relay
from tests.e2e.run_checks import KILL_VARIABLE, REMINDERS, RUN_TIMEOUT_S
from tests.e2e.test_cli import NATIONAL_NUMBER, invoke
from tests.unit.test_print_config import edited

_rng = random.Random(25)
PEOPLE = {  # key: (birth, language, municipality, e-mail, consent)
    "G1": (date(1980, 3, 1), "nl", "44021", "g1@example.com", "ja"),
    "G2": (date(1981, 3, 1), "nl", "44021", "g2@example.com", ""),  # no consent: paper
    "G3": (date(1982, 3, 1), "nl", "44021", "g3@example.com", "ja"),  # relay says 550
    "G4": (date(1983, 3, 1), "nl", "44021", "g4@example.com", "2026-01-15"),  # 451, then 250
    "G5": (date(1984, 3, 1), "nl", "44021", "g5@example.com", "ja"),  # withdraws consent
    "B1": (date(1985, 3, 1), "fr", "21004", "b1@example.com", "oui"),  # bounces later
    "B2": (date(1986, 3, 1), "", "21004", "b2@example.com", "ja"),  # bilingual fr+nl
}
NUMBERS = {key: synthetic_national_number(_rng, born, male=True) for key, (born, *_) in
           PEOPLE.items()}  # fmt: skip
# eID first stage: two months before expiry. G5's falls due a day later than the others'.
EXPIRES = {key: "2027-05-01" if key == "G5" else "2027-04-30" for key in PEOPLE}


def persons_csv(
    withdrawn: frozenset[str] = frozenset(),
    deceased: frozenset[str] = frozenset(),
    unaddressed: frozenset[str] = frozenset(),
) -> str:
    """The persons; those ``withdrawn`` without consent to e-mail, those ``deceased`` dead
    since 2027-02-28, those ``unaddressed`` without an address (skipped with `no_address`)."""
    rows = [";".join(PERSON_COLUMNS)]
    for key, (_, language, nis, email, consent) in PEOPLE.items():
        street, locality, postal = (
            ("Kerkstraat", "Gent", "9000") if nis == "44021" else ("Rue Haute", "Bruxelles", "1000")
        )
        house = str(len(rows))
        if key in unaddressed:
            street = locality = postal = house = ""
        status = "deceased;2027-02-28" if key in deceased else ";"
        rows.append(
            f"{NUMBERS[key]};Peeters;{key};{language};{street};{house};;{postal};{locality};;"
            f"{nis};{status};;{email};{'' if key in withdrawn else consent}"
        )
    return "\n".join(rows) + "\n"


def documents_csv() -> str:
    rows = ["national_number;kind;number;issued_on;expires_on;status"]
    rows += [f"{NUMBERS[key]};eid;E{key};2017-04-30;{EXPIRES[key]};" for key in PEOPLE]
    return "\n".join(rows) + "\n"


@pytest.fixture
def relay() -> Iterator[Relay]:
    with loopback_relay() as started:
        yield started


@pytest.fixture
def key(tmp_path: Path) -> DkimKey:
    return dkim_key(tmp_path)


@pytest.fixture
def installation(config_file: Path, database_url: str, relay: Relay, key: DkimKey) -> Path:
    """Gent and Brussels send e-mail first, through the loopback relay; Eupen stays on paper."""
    for nis in ("44021", "21004"):
        edited(
            config_file, f'nis_code = "{nis}"\n',
            f'nis_code = "{nis}"\n' + email_table(relay.port, key.private),
        )  # fmt: skip
    folder = config_file.parent
    (folder / "persons.csv").write_text(persons_csv(), encoding="utf-8")
    (folder / "documents.csv").write_text(documents_csv(), encoding="utf-8")
    assert invoke(config_file, database_url, "init").exit_code == 0
    for kind in ("persons", "documents"):
        result = invoke(config_file, database_url, "import", kind, str(folder / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
        assert "0 rejected" in result.output
    return config_file


def run(config_file: Path, database_url: str, day: str) -> dict[str, Any]:
    result = invoke(config_file, database_url, "run", "--json", "--date", day)
    assert result.exit_code == 0, result.output
    assert not NATIONAL_NUMBER.search(result.output)
    assert "@example.com" not in result.output
    summary: dict[str, Any] = json.loads(result.output)
    return summary


def in_group(config_file: Path, database_url: str, group: str, *args: str) -> Result:
    """A command of a group (`bounces import`, `audit verify`): --config after the command."""
    return CliRunner().invoke(
        main, [group, args[0], "--config", str(config_file), *args[1:]],
        env={"REMINDERS_DATABASE_URL": database_url}, catch_exceptions=False,
    )  # fmt: skip


def recipients(relay: Relay) -> Counter[str]:
    return Counter(received.recipient.partition("@")[0].upper() for received in relay.received)


def on_paper(database_url: str) -> Counter[str]:
    """Printed letters per person (the document numbers are E<person>)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            numbers = connection.scalars(
                select(DocumentRow.number)
                .join(DecisionRow, DecisionRow.document_id == DocumentRow.id)
                .join(LetterRow, LetterRow.decision_id == DecisionRow.id)
            ).all()
    finally:
        engine.dispose()
    return Counter(number[1:] for number in numbers)


def email_rows(database_url: str) -> dict[str, tuple[str, int, str | None]]:
    """Per person: the e-mail's state, attempts and queue id."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    DocumentRow.number,
                    EmailMessageRow.state,
                    EmailMessageRow.attempts,
                    EmailMessageRow.queue_id,
                )
                .join(DecisionRow, DecisionRow.id == EmailMessageRow.decision_id)
                .join(DocumentRow, DocumentRow.id == DecisionRow.document_id)
            ).all()
    finally:
        engine.dispose()
    return {number[1:]: (state, attempts, queue) for number, state, attempts, queue in rows}


def logged(database_url: str, event: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(AuditEntryRow.document_number, AuditEntryRow.reference,
                       AuditEntryRow.details)
                .where(AuditEntryRow.event == event)
                .order_by(AuditEntryRow.municipality_nis, AuditEntryRow.seq)
            ).all()  # fmt: skip
    finally:
        engine.dispose()
    return [(str(number)[1:], reference, json.loads(details)) for number, reference, details in
            rows]  # fmt: skip


def test_email_where_chosen_paper_as_the_fallback(
    installation: Path, database_url: str, relay: Relay, key: DkimKey
) -> None:
    relay.answers = {"g3@example.com": ["550"], "g4@example.com": ["451", "250"]}

    first = run(installation, database_url, "2027-02-28")
    assert first["letters"] == 6  # G5's stage falls due tomorrow
    assert first["emailed"] == 4
    gent, brussels = first["municipalities"]["44021"], first["municipalities"]["21004"]
    assert (gent["emailed"], gent["postage_saved_eur"]) == (2, 2.5)
    assert (brussels["emailed"], brussels["postage_saved_eur"]) == (2, 2.5)
    assert "emailed" not in first["municipalities"]["63023"]  # Eupen: paper only
    # Exactly the letters the rule gives to e-mail, each once; G4 once after its 451.
    assert recipients(relay) == Counter({"G1": 1, "G4": 1, "B1": 1, "B2": 1})
    assert relay.refused == ["g3@example.com", "g4@example.com"]
    assert on_paper(database_url) == Counter({"G2": 1})  # no consent; G3 waits for next run
    states = email_rows(database_url)
    assert {person: state for person, (state, _, _) in states.items()} == {
        "G1": "accepted", "G3": "refused", "G4": "accepted", "B1": "accepted",
        "B2": "accepted",
    }  # fmt: skip
    assert states["G4"][1] == 2  # two attempts, one message
    assert all(queue and queue.startswith("Q") for state, _, queue in states.values()
               if state == "accepted")  # fmt: skip

    languages = {}
    for received in relay.received:
        assert key.verifies(received.data), received.recipient
        message = received.message
        reference = message["X-Reminders-Reference"]
        assert reference in message["Subject"]
        assert message["Message-ID"].startswith(f"<{reference}.")
        assert message["From"].endswith(("@gent.example>", "@bruxelles.example>"))
        html_part, plain_part = message.get_body(("html",)), message.get_body(("plain",))
        assert html_part is not None
        assert plain_part is not None
        html, plain = html_part.get_content(), plain_part.get_content()
        assert message["Subject"].split(" [")[0].split(" / ")[0] in plain
        assert [part.get_content_type() for part in message.iter_attachments()] == [
            "application/pdf"
        ]
        languages[received.recipient[:2].upper()] = (message["Content-Language"], html[:40])
    assert languages["G1"][0] == "nl"
    assert languages["B1"][0] == "fr"
    assert languages["B2"][0] == "fr, nl"
    assert '<html lang="fr">' in languages["B2"][1]

    emailed = logged(database_url, "emailed")
    assert sorted(person for person, _, _ in emailed) == ["B1", "B2", "G1", "G4"]
    for _, reference, details in emailed:
        assert details["channel"] == "email"
        assert details["queue_id"].startswith("Q")
        assert len(details["message_sha256"]) == len(details["template_sha256"]) == 64
        assert reference is not None
        assert reference.split("-")[2].startswith("M")
    sent = {received.message["X-Reminders-Reference"]: received.data for received in relay.received}
    assert {ref: hashlib.sha256(data).hexdigest() for ref, data in sent.items()} == {
        ref: details["message_sha256"] for _, ref, details in emailed
    }

    # The auditor's report counts the letters per channel, from the log.
    report = installation.parent / "report.pdf"
    made = in_group(
        installation, database_url, "audit", "report", "--run", str(first["run_id"]),
        "--municipality", "44021", "--out", str(report),
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    with pdfplumber.open(report) as pdf:
        words = " ".join(page.extract_text() or "" for page in pdf.pages).split()
    at = words.index("kanaal")
    assert words[at - 2 : at + 1] == ["Brieven", "per", "kanaal"]
    assert words[at + 1 : at + 9] == [
        "Kanaal",
        "Brieven",
        "e-mail",
        "2",
        "papier",
        "1",
        "Totaal",
        "3",
    ]

    # B1's e-mail bounces; G5 withdraws consent (an import with an empty cell).
    b1 = next(ref for person, ref, _ in emailed if person == "B1")
    bounces = installation.parent / "bounces.csv"
    bounces.write_text(f"reference;reason\n{b1};550 mailbox full <b1@example.com>\n")
    result = in_group(installation, database_url, "bounces", "import", str(bounces))
    assert result.exit_code == 0, result.output
    assert "1 e-mails bounced" in result.output
    persons = installation.parent / "persons-later.csv"
    persons.write_text(persons_csv(frozenset({"G5"})), encoding="utf-8")
    assert invoke(installation, database_url, "import", "persons", str(persons)).exit_code == 0

    second = run(installation, database_url, "2027-03-01")
    assert second["letters"] == 1  # G5's stage
    assert "emailed" not in second
    assert len(relay.received) == 4  # nothing sent again, nothing new by e-mail
    assert on_paper(database_url) == Counter({"G2": 1, "G3": 1, "B1": 1, "G5": 1})
    failed = logged(database_url, "email_failed")
    assert sorted(person for person, _, _ in failed) == ["B1", "G3"]
    assert {details["state"] for _, _, details in failed} == {"refused", "bounced"}
    assert all("@example.com" not in json.dumps(details) for _, _, details in failed)

    # The second run's report: G3's letter on paper after its failed e-mail, and G5's.
    made = in_group(
        installation, database_url, "audit", "report", "--run", str(second["run_id"]),
        "--municipality", "44021", "--out", str(report),
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    with pdfplumber.open(report) as pdf:
        text = " ".join(" ".join(page.extract_text() or "" for page in pdf.pages).split())
    assert "Kanaal Brieven papier 1 papier na een mislukte e-mail 1 Totaal 2" in text

    third = run(installation, database_url, "2027-03-02")
    assert third["letters"] == 0
    assert len(relay.received) == 4
    assert on_paper(database_url) == Counter({"G2": 1, "G3": 1, "B1": 1, "G5": 1})
    verified = in_group(installation, database_url, "audit", "verify")
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize("point", ["email:recorded#2", "email:answered#3"])
def test_a_run_killed_while_sending_resumes_without_a_second_email(
    installation: Path, database_url: str, relay: Relay, key: DkimKey, point: str
) -> None:
    """SIGKILL after an e-mail was recorded but before the relay had it, or after an answer
    was committed; then run again: every e-mail the rule gives arrives once, none missing."""
    env = {name: value for name, value in os.environ.items() if name != KILL_VARIABLE}
    env.update({"REMINDERS_DATABASE_URL": database_url, KILL_VARIABLE: point})
    killed = subprocess.run(  # noqa: S603 - our own command
        [REMINDERS, "run", "--config", str(installation), "--date", "2027-02-28", "--json"],
        env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert 1 <= len(relay.received) <= 3
    run(installation, database_url, "2027-02-28")  # resumes the killed run
    assert recipients(relay) == Counter({"G1": 1, "G3": 1, "G4": 1, "B1": 1, "B2": 1})
    assert all(key.verifies(received.data) for received in relay.received)
    assert on_paper(database_url) == Counter({"G2": 1})
    assert sorted(person for person, _, _ in logged(database_url, "emailed")) == [
        "B1", "B2", "G1", "G3", "G4",
    ]  # fmt: skip


def test_a_missing_dkim_key_stops_the_run_before_it_decides(
    installation: Path, database_url: str, relay: Relay, key: DkimKey
) -> None:
    key.private.write_text("not a key\n", encoding="utf-8")
    result = invoke(installation, database_url, "run", "--date", "2027-02-28")
    assert result.exit_code == 2, result.output
    assert f"{key.private}: not an unencrypted PEM private key" in result.output
    key.private.unlink()
    result = invoke(installation, database_url, "run", "--date", "2027-02-28")
    assert result.exit_code == 2, result.output
    assert f"{key.private}: cannot read the DKIM key" in result.output
    assert on_paper(database_url) == Counter()
    assert relay.received == []
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.scalars(select(DecisionRow.id)).all() == []
    finally:
        engine.dispose()


def test_a_relay_saying_try_later_all_night_gets_the_same_email_next_run(
    installation: Path, database_url: str, relay: Relay, key: DkimKey
) -> None:
    """451 on each of the run's three tries: the e-mail is deferred, not printed; the next run
    sends the same message (its Message-ID) once, and logs it then."""
    relay.answers = {"g1@example.com": ["451", "451", "451", "250"]}
    run(installation, database_url, "2027-02-28")
    assert email_rows(database_url)["G1"][:2] == ("deferred", 3)
    assert "G1" not in recipients(relay)
    assert "G1" not in on_paper(database_url)
    assert "G1" not in [person for person, _, _ in logged(database_url, "emailed")]
    second = run(installation, database_url, "2027-03-01")
    assert second["emailed"] == 2  # G1's, deferred, and G5's, due tonight
    assert recipients(relay)["G1"] == 1
    assert email_rows(database_url)["G1"][:2] == ("accepted", 4)
    [(_, reference, details)] = [e for e in logged(database_url, "emailed") if e[0] == "G1"]
    (received,) = [r for r in relay.received if r.recipient == "g1@example.com"]
    assert received.message["X-Reminders-Reference"] == reference
    assert received.message["Message-ID"] == details["message_id"]
    assert details["attempts"] == 4
    assert key.verifies(received.data)
    assert "G1" not in on_paper(database_url)
