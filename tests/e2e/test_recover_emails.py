"""`reminders recover` of a log that holds e-mails (issues 20 and 25), on SQLite and PostgreSQL,
against the loopback relay of tests/e2e/email_support.py: nights with e-mails (accepted, one
deferred to the next night, one refused, one bounced), the database restored from a backup
taken before them, `recover`, the bounces read since the backup imported again, and the next
night. No e-mail goes out twice, no letter is printed twice, the failed e-mails went on paper
once (or were stopped by the re-check of the night that took them over: a skip of that night),
the one that bounced after the last night goes on paper at the next, and the database holds
what it held before the restore: the same log (so the same roots), decisions, letters and
e-mail rows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import case, select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import (
    AuditEntryRow,
    DecisionRow,
    DocumentRow,
    EmailMessageRow,
    LetterRow,
    PrintVolumeRow,
)
from tests.e2e.email_support import DkimKey, Relay
from tests.e2e.run_checks import (
    KILL_VARIABLE,
    REMINDERS,
    RUN_TIMEOUT_S,
    _new_pg_schema,
    backend,
    provision,
    times_stored_as_runs_store_them,
)
from tests.e2e.test_email_channel import (  # noqa: F401 - fixtures
    in_group,
    installation,
    key,
    logged,
    on_paper,
    persons_csv,
    recipients,
    relay,
    run,
)
from tests.e2e.test_restore_recover import cli, manifest_letters, ok, output

NIGHTS = ("2027-02-20", "2027-02-28", "2027-03-01")  # nothing due; e-mails; their fallbacks
NEXT = "2027-03-02"


def copy_of(request: pytest.FixtureRequest, database_url: str, config: Path, name: str) -> str:
    """A new database holding what ``database_url`` holds now (a backup, or its restore)."""
    if backend(database_url) == "sqlite":
        target = f"sqlite:///{config.parent / f'{name}.sqlite3'}"
    else:
        target = _new_pg_schema(request.getfixturevalue("pg_database"), name)
    provision(database_url, config, target)
    return target


def bounce(config: Path, database_url: str, person: str, name: str) -> None:
    """`bounces import` of a list naming the e-mail to ``person``."""
    (_, reference, _) = next(e for e in logged(database_url, "emailed") if e[0] == person)
    bounces = config.parent / name
    bounces.write_text(f"reference;reason\n{reference};550 mailbox full\n", encoding="utf-8")
    result = in_group(config, database_url, "bounces", "import", str(bounces))
    assert result.exit_code == 0, result.output
    assert "1 e-mails bounced" in result.output


def sealed_skips(database_url: str, run_id: int) -> int:
    """The skips a run's seals count, over its municipalities' logs."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            seals = connection.scalars(
                select(AuditEntryRow.details).where(
                    AuditEntryRow.event == "sealed", AuditEntryRow.run_id == run_id
                )
            ).all()
    finally:
        engine.dispose()
    assert seals, f"run {run_id} sealed no log"
    return sum(json.loads(details)["skips"] for details in seals)


def held(database_url: str) -> dict[str, Any]:
    """What the database holds, by what names it (not by surrogate ids)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:

            def rows(query: Any) -> list[tuple[Any, ...]]:
                return sorted((tuple(row) for row in connection.execute(query)), key=str)

            decided = DecisionRow.__table__.join(
                DocumentRow.__table__, DocumentRow.id == DecisionRow.document_id
            )
            email = EmailMessageRow
            return {
                "entries": rows(select(AuditEntryRow.municipality_nis, AuditEntryRow.seq,
                                       AuditEntryRow.entry_hash)),
                "decisions": rows(select(DecisionRow.run_id, DocumentRow.number,
                                         DecisionRow.stage, DecisionRow.reason,
                                         DecisionRow.final, DecisionRow.language)
                                  .select_from(decided)),
                "letters": rows(select(LetterRow.reference, DocumentRow.number,
                                       DecisionRow.stage, PrintVolumeRow.path)
                                .select_from(LetterRow.__table__.join(decided).join(
                                    PrintVolumeRow.__table__,
                                    PrintVolumeRow.id == LetterRow.volume_id))),
                # The relay's reply to an accepted e-mail is not logged: only a failure's.
                "emails": rows(select(email.reference, DocumentRow.number, DecisionRow.run_id,
                                      email.run_id, email.state, email.message_id,
                                      email.templates, email.template_sha256,
                                      email.message_sha256, email.attempts, email.queue_id,
                                      email.fallback_run_id,
                                      case((email.state != "accepted", email.reply)))
                               .select_from(email.__table__.join(
                                   decided, DecisionRow.id == email.decision_id))),
            }  # fmt: skip
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("backup_after", "restored_emails"),
    [
        # Before any e-mail: each is restored whole, with the letter it decided.
        (1, {"44021": "2 e-mails, 1 failed e-mails on paper", "21004": "2 e-mails, 1 failed"}),
        # After the e-mails' night: the backup's rows move on (deferred → accepted in the
        # next run, accepted → bounced, refused → printed on paper by the next run).
        (2, {"44021": "0 e-mails, 1 failed e-mails on paper", "21004": "1 e-mails, 1 failed"}),
    ],
)
def test_recover_restores_the_emails_so_none_goes_twice_and_failures_go_on_paper_once(
    request: pytest.FixtureRequest,
    installation: Path,  # noqa: F811 - fixture
    database_url: str,
    relay: Relay,  # noqa: F811 - fixture
    key: DkimKey,  # noqa: F811 - fixture
    backup_after: int,
    restored_emails: dict[str, str],
) -> None:
    config, out = installation, output(installation)
    relay.answers = {
        "g3@example.com": ["550"],  # refused: paper the night after
        "b2@example.com": ["451", "451", "451", "250"],  # deferred all night, sent the next
    }
    run(config, database_url, NIGHTS[0])
    if backup_after == 1:
        backup_url = copy_of(request, database_url, config, "backup")
    second = run(config, database_url, NIGHTS[1])
    assert second["emailed"] == 3
    if backup_after == 2:
        backup_url = copy_of(request, database_url, config, "backup")
    bounce(config, database_url, "B1", "bounces-1.csv")
    # G5 withdraws consent: paper. B1 died: the paper letter that B1's bounced e-mail falls
    # back to is stopped by the re-check of the night taking it over.
    later = config.parent / "persons-later.csv"
    later.write_text(persons_csv(frozenset({"G5"}), frozenset({"B1"})), encoding="utf-8")
    ok(config, database_url, "import", "persons", str(later))
    third = run(config, database_url, NIGHTS[2])
    assert third["emailed"] == 1  # B2's, deferred the night before
    assert sorted(p for p, _, _ in logged(database_url, "emailed")) == ["B1", "B2", "G1", "G4"]
    assert sorted(p for p, _, _ in logged(database_url, "email_failed")) == ["B1", "G3"]
    stopped = {p: details for p, _, details in logged(database_url, "skip")
               if "decided_in_run" in details}  # fmt: skip
    assert list(stopped) == ["B1"], "the stopped paper letter is in no run's log"
    assert (stopped["B1"]["decided_in_run"], stopped["B1"]["final"]) == (second["run_id"], True)
    # The night's summary counts the skips it logged, that one too, as its seals do.
    assert sum(third["skipped"].values()) == sealed_skips(database_url, third["run_id"])
    sent_before = recipients(relay)
    assert sent_before == Counter({"G1": 1, "G4": 1, "B1": 1, "B2": 1})
    refused_before = list(relay.refused)
    printed_before = on_paper(database_url)
    assert printed_before == Counter({"G2": 1, "G3": 1, "G5": 1})
    bounce(config, database_url, "G1", "bounces-2.csv")  # read after the last night
    lost = held(database_url)  # what the restore loses and recover must give back
    kept = [arg for path in sorted(out.glob("*/*-run-*/checkpoint-*.txt"))
            for arg in ("--checkpoint", str(path))]  # fmt: skip

    # The disk fails: the database is restored from the backup.
    restored = copy_of(request, backup_url, config, "restored")
    assert cli(config, restored, "run", "--date", NEXT).exit_code == 1
    recovered = ok(config, restored, "recover")
    for nis, emails in restored_emails.items():
        line = next(line for line in recovered.splitlines() if line.startswith(nis))
        assert emails in line, recovered
    assert ok(config, restored, "recover").count("nothing to recover") == 3
    assert times_stored_as_runs_store_them(restored, "email_message", "recorded_at", "accepted_at")
    bounce(config, restored, "G1", "bounces-2.csv")  # the list read since the backup, again
    assert held(restored) == lost

    following = run(config, restored, NEXT)
    assert "emailed" not in following
    assert following["letters"] == 0  # nothing new due: G1's fallback is an earlier letter
    assert recipients(relay) == sent_before, "an e-mail sent twice"
    assert relay.refused == refused_before, "a refused address tried again"
    assert on_paper(restored) == printed_before + Counter({"G1": 1})
    failed = {p: details for p, _, details in logged(restored, "email_failed")}
    assert sorted(failed) == ["B1", "G1", "G3"]
    assert failed["G1"]["state"] == "bounced"
    assert failed["G1"]["paper_in_run"] == following["run_id"]
    letters, references = manifest_letters(out)
    assert all(count == 1 for count in letters.values()), letters
    assert Counter(number[1:] for number, _ in letters) == printed_before + Counter({"G1": 1})
    assert [ref for ref, n in references.items() if n > 1] == []
    verified = in_group(config, restored, "audit", "verify", *kept)
    assert verified.exit_code == 0, verified.output
    assert verified.output.count(": intact") == 3
    published = ok(config, restored, "audit", "verify", "--from", str(out))
    assert published.count(": intact") == 3
    ok(config, restored, "status")  # exit 0: all well


@pytest.mark.parametrize("why", ["deceased", "unaddressed"])
def test_recover_of_a_backup_taken_after_a_fallback_was_stopped_but_before_the_seal(
    request: pytest.FixtureRequest,
    installation: Path,  # noqa: F811 - fixture
    database_url: str,
    relay: Relay,  # noqa: F811 - fixture
    key: DkimKey,  # noqa: F811 - fixture
    why: str,
) -> None:
    """A backup taken while the night that took over B1's bounced e-mail was sealing: the
    re-check had stopped B1's paper letter (B1 died: a final skip; or B1 has no address: an
    open one) and committed it, nothing was logged yet. Recover gives back what the database
    held once that night had sealed and published."""
    config = installation
    run(config, database_url, NIGHTS[0])
    second = run(config, database_url, NIGHTS[1])
    bounce(config, database_url, "B1", "bounces-1.csv")
    later = config.parent / "persons-later.csv"
    later.write_text(persons_csv(**{why: frozenset({"B1"})}), encoding="utf-8")
    ok(config, database_url, "import", "persons", str(later))
    env = {name: value for name, value in os.environ.items() if name != KILL_VARIABLE}
    env.update({"REMINDERS_DATABASE_URL": database_url, KILL_VARIABLE: "seal:appended"})
    killed = subprocess.run(  # noqa: S603 - our own command
        [REMINDERS, "run", "--config", str(config), "--date", NIGHTS[2], "--json"],
        env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    backup_url = copy_of(request, database_url, config, "backup")
    run(config, database_url, NIGHTS[2])  # resumed: sealed and published
    stopped = [p for p, _, details in logged(database_url, "skip") if "decided_in_run" in details]
    assert stopped == ["B1"]
    lost = held(database_url)

    restored = copy_of(request, backup_url, config, "restored")
    assert cli(config, restored, "run", "--date", NEXT).exit_code == 1
    ok(config, restored, "recover")
    assert held(restored) == lost
    assert second["run_id"] in {run_id for run_id, number, *_ in lost["decisions"]
                                if number == "EB1"}  # fmt: skip
