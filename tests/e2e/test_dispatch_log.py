"""The dispatch log end to end, on SQLite and PostgreSQL: a run is sealed into each
municipality's log with a signed checkpoint beside its volumes; `reminders audit verify` finds
every kind of tampering (any column edited, an entry deleted, inserted or moved, the end cut
off, a forged signature, a holder changed); proofs hold for letters in the log and only for
them; exports mask national numbers unless --reveal, and a reveal is itself logged.

Tampering goes around the database's refusal (triggers), as an attacker with the database's
owner rights would: on SQLite by dropping the triggers, on PostgreSQL as superuser with
``session_replication_role = replica``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from reminders.adapters.db.dispatch_log_store import DispatchLogStore
from reminders.adapters.db.engine import make_engine
from reminders.config import load_settings
from reminders.domain.checkpoint import parsed_checkpoint, signed_checkpoint
from reminders.domain.dispatch_log import (
    LogEntry,
    LogSubject,
    chained_hash,
    genesis_hash,
)
from reminders.domain.national_number import formatted_national_number
from reminders.entrypoints.cli import main
from tests.conftest import REPO
from tests.e2e.test_cli import NATIONAL_NUMBER
from tests.e2e.test_print_volumes import (  # noqa: F401 - fixture
    NUMBERS,
    RUN_DATE,
    installed,
    registry,
)
from tests.e2e.test_run import run

GENT = "44021"
LATER_DATE = "2027-03-20"
LOG_TABLES = ("audit_entry", "audit_subject", "audit_checkpoint")
ENTRY_COLUMNS = (
    "municipality_nis", "seq", "run_id", "event", "recorded_at", "document_kind",
    "document_number", "stage", "reason", "language", "reference", "details", "prev_hash",
    "entry_hash",
)  # fmt: skip


def cli(config_file: Path, database_url: str, *args: str) -> Result:
    """`reminders audit <command> --config ... <args>`."""
    return CliRunner().invoke(
        main,
        ["audit", args[0], "--config", str(config_file), *args[1:]],
        env={"REMINDERS_DATABASE_URL": database_url},
        catch_exceptions=False,
    )


def public_key(config_file: Path) -> Path:
    return load_settings(config_file).audit.public_key


@pytest.fixture
def sealed(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    request: pytest.FixtureRequest,
) -> dict[str, Any]:
    """The registry of test_print_volumes, run once: its summary (the run came with the
    registry's copy, see `registry`, unless the test changed its config first)."""
    start, summary = installed(request)
    if start.ran:
        assert summary is not None
        return summary
    return run(registry, database_url, "--date", RUN_DATE)


@contextmanager
def tampering(database_url: str) -> Iterator[Connection]:
    """A transaction in which the log tables accept UPDATE and DELETE."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                for table in LOG_TABLES:
                    for operation in ("update", "delete"):
                        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
            yield connection
    finally:
        engine.dispose()


def first_letter_seq(database_url: str, nis: str = GENT) -> int:
    with tampering(database_url) as connection:
        seq = connection.execute(
            text(
                "SELECT min(seq) FROM audit_entry WHERE municipality_nis = :nis "
                "AND event = 'letter'"
            ),
            {"nis": nis},
        ).scalar_one()
    assert isinstance(seq, int)
    return seq


def rewrite_log(
    database_url: str,
    change: Callable[[list[tuple[LogEntry, LogSubject | None]]], None],
    *,
    rechain: bool,
    nis: str = GENT,
) -> None:
    """Read a municipality's log, change the list of entries, number them again and write
    them back; with ``rechain`` every hash after the change is recomputed, as an attacker who
    knows the format would (only the signed checkpoints can tell then)."""
    with tampering(database_url) as connection:
        entries = list(DispatchLogStore(connection).entries(nis))
        change(entries)
        rewritten: list[tuple[LogEntry, LogSubject | None]] = []
        prev = genesis_hash(nis)
        for seq, (entry, subject) in enumerate(entries):
            moved = replace(entry, seq=seq)
            if rechain:
                moved = replace(moved, prev_hash=prev)
                moved = replace(moved, entry_hash=chained_hash(prev, moved.leaf()))
            prev = moved.entry_hash
            rewritten.append((moved, replace(subject, seq=seq) if subject else None))
        params = {"nis": nis}
        connection.execute(text("DELETE FROM audit_subject WHERE municipality_nis = :nis"), params)
        connection.execute(text("DELETE FROM audit_entry WHERE municipality_nis = :nis"), params)
        DispatchLogStore(connection).append(rewritten)


def verify(config_file: Path, database_url: str, *args: str) -> Result:
    return cli(config_file, database_url, "verify", "--municipality", GENT, *args)


def assert_broken_at(result: Result, seq: int | None, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output
    first = next(line for line in result.output.splitlines() if "First:" in line)
    if seq is not None:
        assert f"entry {seq}" in first or f"entries {seq}" in first, result.output
    for word in words:
        assert word in result.output, result.output


# -- a sealed run ------------------------------------------------------------------------------


def test_a_run_is_sealed_per_municipality_and_verifies(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    """Each municipality's log holds the run, its skips, each volume followed by its letters,
    and the seal; its signed checkpoint is in the database and beside the volumes."""
    result = cli(registry, database_url, "verify")
    assert result.exit_code == 0, result.output
    assert result.output.count(": intact") == 3
    checkpoints = sealed["checkpoints"]
    assert set(checkpoints) == {"44021", "21004", "63023"}
    with tampering(database_url) as connection:
        for nis, expected in checkpoints.items():
            events = [
                row[0]
                for row in connection.execute(
                    text(
                        "SELECT event FROM audit_entry WHERE municipality_nis = :nis ORDER BY seq"
                    ),
                    {"nis": nis},
                )
            ]
            letters = sealed["municipalities"][nis]["letters"]
            skips = sum(sealed["municipalities"][nis]["skipped"].values())
            assert (events[0], events[-1]) == ("run", "sealed")
            assert (events.count("letter"), events.count("skip")) == (letters, skips)
            assert events.count("volume") == 1
            assert events.index("volume") < events.index("letter")
            assert len(events) == expected["tree_size"]
            file = Path(expected["file"])
            out = Path(sealed["volumes"][0]).parent.parent.parent
            assert file.parent == out / nis / f"{RUN_DATE}-run-{sealed['run_id']:06d}"
            note = parsed_checkpoint(file.read_text(encoding="utf-8"))
            assert note.checkpoint.tree_size == len(events)
            assert note.checkpoint.root_hash.hex() == expected["root_hash"]
            assert note.checkpoint.run_id == sealed["run_id"]


def test_the_log_tables_refuse_update_and_delete(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    """A stray statement cannot change the log: the database refuses it."""
    engine = make_engine(database_url)
    statements = [
        "UPDATE audit_entry SET stage = 'x'",
        "DELETE FROM audit_entry",
        "UPDATE audit_subject SET national_number = '00000000000'",
        "DELETE FROM audit_subject",
        "UPDATE audit_checkpoint SET note = ''",
        "DELETE FROM audit_checkpoint",
    ]
    if engine.dialect.name == "postgresql":
        statements += [f"TRUNCATE {table} CASCADE" for table in LOG_TABLES]
    try:
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
    assert cli(registry, database_url, "verify").exit_code == 0


# -- tampering -----------------------------------------------------------------------------------


def _changed(column: str) -> str:
    """An SQL expression giving the column another value of the same kind."""
    return {
        "municipality_nis": "'44022'",
        "seq": "seq + 100000",
        "run_id": "run_id + 1",
        "event": "'skip'",
        "recorded_at": "'2027-03-01T00:00:00.000000Z'",
        "document_kind": "'passport'",
        "document_number": "'X0000000'",
        "stage": "'second'",
        "reason": "'deceased'",
        "language": "'de'",
        "reference": "'44021-000001-999999'",
        "details": "details || ' '",
        "prev_hash": "'" + "0" * 64 + "'",
        "entry_hash": "'" + "f" * 64 + "'",
    }[column]


@pytest.mark.parametrize("column", ENTRY_COLUMNS)
def test_editing_any_column_of_an_entry_is_detected(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
    column: str,
) -> None:
    seq = first_letter_seq(database_url)
    with tampering(database_url) as connection:
        if column in ("municipality_nis", "seq"):  # the holder row points at the entry's key
            connection.execute(
                text("DELETE FROM audit_subject WHERE municipality_nis = :nis AND seq = :seq"),
                {"nis": GENT, "seq": seq},
            )
        connection.execute(
            text(
                f"UPDATE audit_entry SET {column} = {_changed(column)} "
                "WHERE municipality_nis = :nis AND seq = :seq"
            ),
            {"nis": GENT, "seq": seq},
        )
    assert_broken_at(verify(registry, database_url), seq)


def test_a_changed_holder_is_detected(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    seq = first_letter_seq(database_url)
    with tampering(database_url) as connection:
        connection.execute(
            text(
                "UPDATE audit_subject SET national_number = :number "
                "WHERE municipality_nis = :nis AND seq = :seq"
            ),
            {"number": NUMBERS["G02"], "nis": GENT, "seq": seq},
        )
    assert_broken_at(verify(registry, database_url), seq, "holder")


def test_a_deleted_entry_is_detected(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    seq = first_letter_seq(database_url)
    with tampering(database_url) as connection:
        for table in ("audit_subject", "audit_entry"):
            connection.execute(
                text(f"DELETE FROM {table} WHERE municipality_nis = :nis AND seq = :seq"),
                {"nis": GENT, "seq": seq},
            )
    assert_broken_at(verify(registry, database_url), seq, "missing")


@pytest.mark.parametrize("rechain", [False, True], ids=["as-is", "chain-rewritten"])
def test_a_deleted_and_renumbered_entry_is_detected(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
    rechain: bool,
) -> None:
    seq = first_letter_seq(database_url)

    def delete(entries: list[tuple[LogEntry, LogSubject | None]]) -> None:
        del entries[seq]

    rewrite_log(database_url, delete, rechain=rechain)
    result = verify(registry, database_url)
    if rechain:  # a consistent chain, one entry shorter than the checkpoint says
        assert_broken_at(result, None, "missing", "truncated")
    else:
        assert_broken_at(result, seq, "altered")  # its place is part of what is hashed


@pytest.mark.parametrize("rechain", [False, True], ids=["as-is", "chain-rewritten"])
def test_an_inserted_entry_is_detected(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
    rechain: bool,
) -> None:
    """A letter that was never sent, slipped in after the first one."""
    seq = first_letter_seq(database_url)

    def insert(entries: list[tuple[LogEntry, LogSubject | None]]) -> None:
        forged = replace(entries[seq][0], reference="44021-000001-999999")
        entries.insert(seq + 1, (forged, None))

    rewrite_log(database_url, insert, rechain=rechain)
    result = verify(registry, database_url)
    if rechain:
        assert_broken_at(result, None, "does not match the log's first")
    else:
        assert_broken_at(result, seq + 1, "altered")


@pytest.mark.parametrize("rechain", [False, True], ids=["as-is", "chain-rewritten"])
def test_reordered_entries_are_detected(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
    rechain: bool,
) -> None:
    seq = first_letter_seq(database_url)

    def swap(entries: list[tuple[LogEntry, LogSubject | None]]) -> None:
        entries[seq], entries[seq + 1] = entries[seq + 1], entries[seq]

    rewrite_log(database_url, swap, rechain=rechain)
    result = verify(registry, database_url)
    if rechain:
        assert_broken_at(result, None, "does not match the log's first")
    else:
        assert_broken_at(result, seq, "altered")


def test_a_truncated_log_is_detected_with_a_checkpoint_kept_outside(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    """The second run's entries and checkpoint removed: the database agrees with itself, so
    only what was kept outside it shows that the log was cut: the log published in the output
    folder, and a checkpoint file an auditor kept."""
    later = run(registry, database_url, "--date", LATER_DATE)
    first_size = sealed["checkpoints"][GENT]["tree_size"]
    kept = Path(later["checkpoints"][GENT]["file"])
    assert later["checkpoints"][GENT]["tree_size"] > first_size
    assert verify(registry, database_url, "--checkpoint", str(kept)).exit_code == 0
    with tampering(database_url) as connection:
        for table, column in (
            ("audit_subject", "seq"),
            ("audit_entry", "seq"),
            ("audit_checkpoint", "tree_size"),
        ):
            connection.execute(
                text(f"DELETE FROM {table} WHERE municipality_nis = :nis AND {column} >= :size"),
                {"nis": GENT, "size": first_size if column == "seq" else first_size + 1},
            )
    result = verify(registry, database_url)
    assert_broken_at(result, first_size, "truncated", "published log", "reminders recover")
    result = verify(registry, database_url, "--checkpoint", str(kept))
    assert_broken_at(result, first_size, "truncated", kept.name)


def test_a_forged_signature_is_detected(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
    tmp_path: Path,
) -> None:
    """A checkpoint signed with another key, in the database or in a file, and a file whose
    size was changed under the original signature."""
    size = sealed["checkpoints"][GENT]["tree_size"]
    original = Path(sealed["checkpoints"][GENT]["file"]).read_text(encoding="utf-8")
    other_key = Ed25519PrivateKey.generate()
    forged = signed_checkpoint(parsed_checkpoint(original).checkpoint, other_key, "reminders")
    forged_file = tmp_path / "forged.txt"
    forged_file.write_text(forged.note(), encoding="utf-8")
    result = verify(registry, database_url, "--checkpoint", str(forged_file))
    assert_broken_at(result, None, "forged.txt", "no valid signature")

    resized = original.replace(f"\n{size}\n", f"\n{size - 1}\n", 1)
    resized_file = tmp_path / "resized.txt"
    resized_file.write_text(resized, encoding="utf-8")
    assert_broken_at(
        verify(registry, database_url, "--checkpoint", str(resized_file)), None, "resized.txt"
    )

    with tampering(database_url) as connection:
        connection.execute(
            text("UPDATE audit_checkpoint SET note = :note WHERE municipality_nis = :nis"),
            {"note": forged.note(), "nis": GENT},
        )
    assert_broken_at(verify(registry, database_url), None, "no valid signature")


def test_entries_appended_after_the_seal_are_detected_and_stop_the_next_run(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    size = sealed["checkpoints"][GENT]["tree_size"]
    rewrite_log(
        database_url,
        lambda entries: entries.append(entries[-1]),
        rechain=True,
    )
    assert_broken_at(verify(registry, database_url), size, "covered by no signed checkpoint")
    result = CliRunner().invoke(
        main,
        ["run", "--config", str(registry), "--date", LATER_DATE],
        env={"REMINDERS_DATABASE_URL": database_url},
    )
    assert result.exit_code == 1, result.output
    assert "audit verify" in result.output


# -- proofs ------------------------------------------------------------------------------------


def test_a_letter_proof_holds_with_the_public_key_alone(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
    tmp_path: Path,
) -> None:
    reference = json.loads(Path(sealed["volumes"][0]).with_suffix(".json").read_text())["entries"][
        0
    ]["reference"]
    proof = tmp_path / "proof.json"
    result = cli(registry, database_url, "prove", "--letter", reference, "--out", str(proof))
    assert result.exit_code == 0, result.output
    assert not NATIONAL_NUMBER.search(proof.read_text())
    key = str(public_key(registry))
    checked = CliRunner().invoke(main, ["audit", "check-proof", str(proof), "--public-key", key])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith(f"Valid: letter {reference}")

    # The same proof for an entry someone changed, or under another key, does not hold.
    data = json.loads(proof.read_text())
    data["entry"] = data["entry"].replace('"stage":"first"', '"stage":"second"')
    assert '"stage":"second"' in data["entry"]
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(data), encoding="utf-8")
    checked = CliRunner().invoke(main, ["audit", "check-proof", str(altered), "--public-key", key])
    assert checked.exit_code == 1
    assert "INVALID" in checked.output
    assert "do not lead to the checkpoint's root" in checked.output

    # A proof relabelled (its outer reference or municipality, which no signature covers) as
    # another letter's is reported, not "valid" for the letter its label names (issue 18).
    for field, value in (("reference", "44021-000001-999999"), ("municipality_nis", "21004")):
        relabelled = tmp_path / f"relabelled-{field}.json"
        relabelled.write_text(json.dumps({**json.loads(proof.read_text()), field: value}))
        checked = CliRunner().invoke(
            main, ["audit", "check-proof", str(relabelled), "--public-key", key]
        )
        assert checked.exit_code == 1, checked.output
        assert "INVALID" in checked.output
        assert f"the proof's {field} {value!r} is not its signed entry's" in checked.output

    stranger = tmp_path / "stranger.pub"
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    stranger.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    checked = CliRunner().invoke(
        main, ["audit", "check-proof", str(proof), "--public-key", str(stranger)]
    )
    assert checked.exit_code == 1
    assert "none of the public keys given" in checked.output


def test_there_is_no_proof_for_a_letter_that_is_not_in_the_log(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    result = cli(registry, database_url, "prove", "--letter", "44021-000001-999999")
    assert result.exit_code == 1
    assert "no letter with reference '44021-000001-999999'" in result.output


# -- exports and reports -----------------------------------------------------------------------


def _all_numbers() -> list[str]:
    return [
        form for number in NUMBERS.values() for form in (number, formatted_national_number(number))
    ]


def test_the_export_masks_national_numbers_unless_revealed(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    jsonl = cli(
        registry, database_url, "export", "--run", str(sealed["run_id"]), "--format", "jsonl"
    )
    assert jsonl.exit_code == 0, jsonl.output
    rows = [json.loads(line) for line in jsonl.output.splitlines()]
    letters = [row for row in rows if row["event"] == "letter"]
    skips = [row for row in rows if row["event"] == "skip"]
    assert len(letters) == sealed["letters"]
    assert len(skips) == sum(sealed["skipped"].values())
    output_dir = load_settings(registry).output_dir.resolve()
    relative = {Path(volume).relative_to(output_dir).as_posix() for volume in sealed["volumes"]}
    for row in letters:
        assert row["volume"] in relative  # relative to the output folder (issue 18)
        assert row["page"] >= 1
        assert row["language"] in ("nl", "fr", "de", "fr+nl")
        assert re.fullmatch(r"\*\*\.\*\*\.\*\*-\*\*\*\.\d\d", row["national_number"])
        assert len(row["entry_hash"]) == 64
        assert row["run_id"] == sealed["run_id"]
    assert {row["reason"] for row in skips} == set(sealed["skipped"])
    assert any(row["language"] == "fr+nl" for row in letters)

    as_csv = cli(registry, database_url, "export")
    assert as_csv.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(as_csv.output)))) == len(rows)
    for output in (jsonl.output, as_csv.output):
        assert not NATIONAL_NUMBER.search(output)
        assert not any(number in output for number in _all_numbers())

    revealed = cli(registry, database_url, "export", "--format", "jsonl", "--reveal")
    assert revealed.exit_code == 0, revealed.output
    shown = {json.loads(line)["national_number"] for line in revealed.output.splitlines()}
    assert formatted_national_number(NUMBERS["G01"]) in shown
    # The reveal is in the log, sealed, and the log still verifies.
    result = cli(registry, database_url, "verify")
    assert result.exit_code == 0, result.output
    with tampering(database_url) as connection:
        reveals = connection.execute(
            text("SELECT count(*) FROM audit_entry WHERE event = 'revealed'")
        ).scalar_one()
    assert reveals == 3  # one per municipality's log


def test_the_auditors_report_on_a_run(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
    tmp_path: Path,
) -> None:
    from tests.pdf_reading import page_texts

    out = tmp_path / "report.pdf"
    result = cli(
        registry, database_url, "report", "--run", str(sealed["run_id"]), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    texts = "\n".join(page_texts(out.read_bytes()))
    for expected in sealed["checkpoints"].values():
        assert expected["root_hash"] in texts.replace("\n", "")
    assert not NATIONAL_NUMBER.search(texts)
    missing = cli(registry, database_url, "report", "--run", "99", "--out", str(out))
    assert missing.exit_code == 1
    assert "run 99 is not in the dispatch log" in missing.output


# -- the demo's logs -----------------------------------------------------------------------------


def test_a_whole_demo_run_logs_no_national_number(tmp_path: Path) -> None:
    """Every line the demo prints or logs (verbose), and its log's export, without a single
    national number of its registry."""
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.toml").read_text(encoding="utf-8"), "utf-8")
    reminders = [str(Path(sys.executable).parent / "reminders")]
    demo = subprocess.run(  # noqa: S603 - our own command
        [*reminders, "-v", "demo", "--config", str(config), "--persons", "400", "--date", RUN_DATE],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert "INFO" in demo.stderr  # the verbose log really was on
    assert "intact" in demo.stdout
    demo_dir = tmp_path / "var" / "out" / "demo"
    env = {"REMINDERS_DATABASE_URL": f"sqlite:///{demo_dir / 'reminders.sqlite3'}"}
    export = subprocess.run(  # noqa: S603 - our own command
        [*reminders, "-v", "audit", "export", "--config", str(config), "--format", "jsonl"],
        capture_output=True, text=True, check=False, cwd=tmp_path, env={**_environ(), **env},
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    assert export.stdout.count("\n") > 20
    numbers = [row.split(";")[0] for row in (demo_dir / "persons.csv").read_text().splitlines()[1:]]
    assert len(numbers) > 300
    forms = {n for n in numbers if n} | {formatted_national_number(n) for n in numbers if n}
    for output in (demo.stdout, demo.stderr, export.stdout, export.stderr):
        assert not any(form in output for form in forms)
        assert not NATIONAL_NUMBER.search(output)


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_checkpoint_time_is_utc(sealed: dict[str, Any]) -> None:
    note = parsed_checkpoint(Path(sealed["checkpoints"][GENT]["file"]).read_text())
    assert note.checkpoint.signed_at.tzinfo == UTC
    assert note.checkpoint.signed_at <= datetime.now(UTC)


def test_audit_checkpoint_prints_each_logs_newest_signed_checkpoint(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
) -> None:
    later = run(registry, database_url, "--date", LATER_DATE)
    result = cli(registry, database_url, "checkpoint")
    assert result.exit_code == 0, result.output
    for expected in later["checkpoints"].values():
        assert Path(expected["file"]).read_text(encoding="utf-8") in result.output
    for earlier in sealed["checkpoints"].values():
        assert Path(earlier["file"]).read_text(encoding="utf-8") not in result.output


@pytest.mark.parametrize(
    "command",
    [("verify",), ("export",), ("checkpoint",), ("report", "--run", "1", "--out", "r.pdf")],
)
def test_an_unknown_municipality_is_bad_usage_not_an_empty_log(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    sealed: dict[str, Any],
    command: tuple[str, ...],
) -> None:
    result = cli(registry, database_url, *command, "--municipality", "99999")
    assert result.exit_code == 2, result.output
    assert "no municipality with NIS code '99999'" in result.output
