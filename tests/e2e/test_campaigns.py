"""Campaigns end to end, on SQLite and PostgreSQL: the paper-licence exchange of the example
config.toml at 3 letters per municipality and weekday, through `reminders run`: waves of at
most 3 a night, never a document twice (re-runs, replays, missed nights), the same skip rules
as reminders, letters in the dispatch log with the campaign as their stage, a verifying log,
and `reminders campaign status`."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import DecisionRow, DocumentRow, NightlyRunRow
from reminders.domain.registry_rows import PERSON_COLUMNS
from reminders.entrypoints.cli import main
from reminders.synthetic import synthetic_national_number
from tests.e2e.test_cli import NATIONAL_NUMBER, invoke
from tests.e2e.test_run import run

CAMPAIGN = "paper-licences-2033"
GENT, BRUSSELS, EUPEN = "44021", "21004", "63023"
MONDAY, TUESDAY, WEDNESDAY, SATURDAY = "2031-01-06", "2031-01-07", "2031-01-08", "2031-01-11"
PER_DAY = 3

_rng = random.Random(8)


def _number(year: int) -> str:
    return synthetic_national_number(_rng, date(year, 3, 1), male=bool(_rng.randrange(2)))


# Gent: eight paper licences with letters to come (G1 issued first ... G8 last, G0 with no
# issue date, which sorts as the oldest), and four that are skipped: a deceased holder, one
# without an address, one who has a card licence, one reported lost.
GENT_HOLDERS = {f"G{i}": _number(1950 + i) for i in range(9)}
SKIPPED = {"DEAD": _number(1940), "NOADDR": _number(1941), "CARD": _number(1942),
           "LOST": _number(1943)}  # fmt: skip
BRUSSELS_HOLDERS = {f"B{i}": _number(1960 + i) for i in range(4)}


def _persons() -> str:
    rows = [";".join(PERSON_COLUMNS[:-2])]
    for i, (key, number) in enumerate(GENT_HOLDERS.items()):
        rows.append(f"{number};Peeters;{key};nl;Kerkstraat;{i + 1};;9000;Gent;;{GENT};;;")
    rows.append(
        f"{SKIPPED['DEAD']};Maes;Dead;nl;Veldstraat;1;;9000;Gent;;{GENT};deceased;2030-01-01;"
    )
    rows.append(f"{SKIPPED['NOADDR']};Maes;Noaddr;nl;;;;;;;{GENT};;;")
    rows.append(f"{SKIPPED['CARD']};Maes;Card;nl;Veldstraat;3;;9000;Gent;;{GENT};;;")
    rows.append(f"{SKIPPED['LOST']};Maes;Lost;nl;Veldstraat;4;;9000;Gent;;{GENT};;;")
    for i, (key, number) in enumerate(BRUSSELS_HOLDERS.items()):
        rows.append(f"{number};Dubois;{key};;Rue Haute;{i + 1};;1000;Bruxelles;;{BRUSSELS};;;")
    return "\n".join(rows) + "\n"


def _documents() -> str:
    rows = ["national_number;kind;number;issued_on;expires_on;status"]
    for i, (key, number) in enumerate(GENT_HOLDERS.items()):
        issued = "" if key == "G0" else f"{1980 + i}-05-01"
        rows.append(f"{number};driving_licence;P{key};{issued};;")
    # The skipped ones were issued before every G: they come first in the campaign's order.
    for i, (key, number) in enumerate(SKIPPED.items()):
        status = "lost" if key == "LOST" else ""
        rows.append(f"{number};driving_licence;P{key};1970-0{i + 1}-01;;{status}")
    rows.append(f"{SKIPPED['CARD']};driving_licence;CARD1;2030-02-01;2040-02-01;")
    for i, (key, number) in enumerate(BRUSSELS_HOLDERS.items()):
        rows.append(f"{number};driving_licence;P{key};1990-0{i + 1}-01;;")
    return "\n".join(rows) + "\n"


@pytest.fixture
def registry(config_file: Path, database_url: str) -> Path:
    """The example config.toml with 3 letters a day, and the registry above, imported."""
    text = config_file.read_text(encoding="utf-8")
    assert "letters_per_day = 100" in text
    config_file.write_text(
        text.replace("letters_per_day = 100", f"letters_per_day = {PER_DAY}"), encoding="utf-8"
    )
    folder = config_file.parent
    (folder / "persons.csv").write_text(_persons(), encoding="utf-8")
    (folder / "documents.csv").write_text(_documents(), encoding="utf-8")
    assert invoke(config_file, database_url, "init").exit_code == 0
    for kind in ("persons", "documents"):
        result = invoke(config_file, database_url, "import", kind, str(folder / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
        assert "0 rejected" in result.output, result.output
    return config_file


def invoke_group(config_file: Path, database_url: str, group: str, *args: str) -> Result:
    """`reminders <group> <command> --config ... <args>`."""
    return CliRunner().invoke(
        main,
        [group, args[0], "--config", str(config_file), *args[1:]],
        env={"REMINDERS_DATABASE_URL": database_url},
        catch_exceptions=False,
    )


def campaign_decisions(database_url: str) -> list[tuple[date, str, str, str | None]]:
    """(night, municipality, document number, skip reason) of every campaign decision."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    NightlyRunRow.as_of,
                    DecisionRow.municipality_nis,
                    DocumentRow.number,
                    DecisionRow.reason,
                )
                .join(DocumentRow, DocumentRow.id == DecisionRow.document_id)
                .join(NightlyRunRow, NightlyRunRow.id == DecisionRow.run_id)
                .where(DecisionRow.stage == CAMPAIGN)
                .order_by(DecisionRow.id)
            )
            return [(day, nis, number, reason) for day, nis, number, reason in rows]
    finally:
        engine.dispose()


def letters(database_url: str) -> list[tuple[date, str, str]]:
    return [(d, nis, n) for d, nis, n, reason in campaign_decisions(database_url) if not reason]


def per_night(database_url: str) -> Counter[tuple[date, str]]:
    return Counter((day, nis) for day, nis, _ in letters(database_url))


def test_three_nights_write_three_waves_and_never_a_document_twice(
    registry: Path, database_url: str
) -> None:
    """Each weekday night writes at most 3 letters per municipality, oldest issued first; no
    document gets two; a weekend night writes none; the skips come once, with their reason,
    and do not use the night's room."""
    summaries = [run(registry, database_url, "--date", day) for day in (MONDAY, TUESDAY, WEDNESDAY)]
    assert [s["letters"] for s in summaries] == [6, 4, 3]  # Gent: 9 in all; Brussels: 4
    assert summaries[0]["skipped"] == {
        "deceased": 1, "inactive_document": 1, "no_address": 1, "renewed": 1,
    }  # fmt: skip
    assert summaries[1]["skipped"] == summaries[2]["skipped"] == {}
    by_stage = summaries[0]["municipalities"][GENT]["letters_by_stage"]
    assert by_stage == {f"driving_licence/{CAMPAIGN}": 3}

    written = letters(database_url)
    numbers = [number for _, _, number in written]
    assert len(numbers) == len(set(numbers)) == 13
    counts = per_night(database_url)
    assert max(counts.values()) == PER_DAY
    monday = date(2031, 1, 6)
    # Unknown issue date first, then the oldest issued: G0, G1, G2 on Monday.
    assert [n for d, nis, n in written if d == monday and nis == GENT] == ["PG0", "PG1", "PG2"]
    assert {n for _, nis, n in written if nis == BRUSSELS} == {f"PB{i}" for i in range(4)}
    reasons = {n: r for _, _, n, r in campaign_decisions(database_url) if r}
    assert reasons == {
        "PDEAD": "deceased", "PNOADDR": "no_address", "PCARD": "renewed",
        "PLOST": "inactive_document",
    }  # fmt: skip

    assert run(registry, database_url, "--date", SATURDAY)["letters"] == 0


def test_a_rerun_or_a_replay_adds_nothing_and_a_missed_night_is_not_made_up(
    registry: Path, database_url: str
) -> None:
    """The same night again writes nothing more; after a missed Tuesday, Wednesday writes one
    wave, not two; a replay of the missed Tuesday afterwards writes nothing."""
    assert run(registry, database_url, "--date", MONDAY)["letters"] == 6
    again = run(registry, database_url, "--date", MONDAY)
    assert (again["letters"], again["skipped"]) == (0, {})
    wednesday = run(registry, database_url, "--date", WEDNESDAY)
    assert wednesday["municipalities"][GENT]["letters"] == PER_DAY
    assert run(registry, database_url, "--date", TUESDAY)["letters"] == 0
    assert max(per_night(database_url).values()) == PER_DAY
    numbers = [number for _, _, number in letters(database_url)]
    assert len(numbers) == len(set(numbers)) == 10


def test_a_run_killed_and_resumed_writes_the_wave_once(registry: Path, database_url: str) -> None:
    """A run SIGKILLed while printing (a power cut) and completed by the next run of the
    night, then the night run once more: one wave per municipality, each letter once, a
    verifying log. Stopped at the decide step's points: tests/service/test_campaign_waves.py."""
    point = "print:volume-recorded"
    env = {**os.environ, "REMINDERS_DATABASE_URL": database_url, "REMINDERS_KILL_AT": point}
    command = [sys.executable, "-c", "from reminders.entrypoints.cli import main; main()",
               "run", "--config", str(registry), "--date", MONDAY]  # fmt: skip
    killed = subprocess.run(  # noqa: S603 - our own command
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert killed.returncode == -9, killed.stderr
    completed = run(registry, database_url, "--date", MONDAY)
    assert completed["letters"] == 6
    assert run(registry, database_url, "--date", MONDAY)["letters"] == 0
    assert per_night(database_url) == Counter(
        {(date(2031, 1, 6), GENT): PER_DAY, (date(2031, 1, 6), BRUSSELS): PER_DAY}
    )
    numbers = [number for _, _, number in letters(database_url)]
    assert len(numbers) == len(set(numbers)) == 6
    verified = invoke_group(registry, database_url, "audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_campaign_letters_are_printed_logged_with_the_campaign_as_stage_and_verify(
    registry: Path, database_url: str
) -> None:
    """The letters are in the run's volumes and the dispatch log (stage = the campaign id,
    skips with their reason); `audit verify` passes."""
    summary = run(registry, database_url, "--date", MONDAY)
    assert summary["volumes"]
    assert all(Path(volume).is_file() for volume in summary["volumes"])
    exported = invoke_group(registry, database_url, "audit", "export", "--format", "jsonl")
    assert exported.exit_code == 0, exported.output
    assert not NATIONAL_NUMBER.search(exported.output)
    lines = [json.loads(line) for line in exported.output.splitlines() if line]
    entries = [line for line in lines if line["event"] in ("letter", "skip")]
    assert {line["stage"] for line in entries} == {CAMPAIGN}
    assert Counter(line["event"] for line in entries) == Counter({"letter": 6, "skip": 4})
    assert {line["reason"] for line in entries if line["event"] == "skip"} == {
        "deceased", "no_address", "renewed", "inactive_document",
    }  # fmt: skip
    assert {line["language"] for line in entries if line["event"] == "letter"} == {"nl", "fr+nl"}
    verified = invoke_group(registry, database_url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    report = registry.parent / "report.pdf"
    reported = invoke_group(
        registry, database_url, "audit", "report", "--run", str(summary["run_id"]),
        "--out", str(report),
    )  # fmt: skip
    assert reported.exit_code == 0, reported.output
    assert report.read_bytes().startswith(b"%PDF")


def test_campaign_status_counts_and_projects(registry: Path, database_url: str) -> None:
    """Letters, skips by reason, documents remaining and the projected last day, per
    municipality; an unknown campaign id exits 2 naming it."""
    run(registry, database_url, "--date", MONDAY)
    result = invoke_group(registry, database_url, "campaign", "status", "--json", "--date", MONDAY)
    assert result.exit_code == 0, result.output
    status: dict[str, Any] = json.loads(result.output)["campaigns"][CAMPAIGN]
    gent = status["municipalities"][GENT]
    assert (gent["letters"], gent["remaining"], gent["last_wave_on"]) == (3, 7, MONDAY)
    assert gent["skipped"] == {
        "deceased": 1, "inactive_document": 1, "no_address": 1, "renewed": 1,
    }  # fmt: skip
    # 7 remaining (6 letters and the open no_address skip) at 3 a weekday from Tuesday on.
    assert (gent["projected_last_day"], gent["on_time"]) == ("2031-01-09", True)
    brussels = status["municipalities"][BRUSSELS]
    assert (brussels["letters"], brussels["remaining"]) == (3, 1)
    assert status["municipalities"][EUPEN]["projected_last_day"] is None

    text = invoke_group(registry, database_url, "campaign", "status", "--date", MONDAY)
    assert text.exit_code == 0, text.output
    assert "3 letters, skips: deceased 1" in text.output
    unknown = invoke_group(registry, database_url, "campaign", "status", "no-such-campaign")
    assert unknown.exit_code == 2
    assert "no-such-campaign" in unknown.output
