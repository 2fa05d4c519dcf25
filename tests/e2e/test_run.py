"""`reminders run` end to end on SQLite and PostgreSQL: the reminder rule over several nights,
dry runs that record nothing, catch-up after downtime, and never a second letter."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, insert, select, text
from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.decision_store import DecisionStore
from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import DecisionRow, DocumentRow, NightlyRunRow
from reminders.domain.registry_rows import PERSON_COLUMNS
from reminders.synthetic import synthetic_national_number
from tests.e2e.test_cli import NATIONAL_NUMBER, invoke

_rng = random.Random(4)
JAN = synthetic_national_number(_rng, date(1980, 3, 1), male=True)  # Gent, nl
CLAIRE = synthetic_national_number(_rng, date(1981, 4, 2), male=False)  # Brussels, unknown
PIET = synthetic_national_number(_rng, date(1982, 5, 3), male=True)  # Brussels, nl
ALINE = synthetic_national_number(_rng, date(1940, 6, 4), male=False)  # Gent, deceased
NOOR = synthetic_national_number(_rng, date(1990, 7, 5), male=False)  # Gent, no address yet

HEADER = ";".join(PERSON_COLUMNS[:-2])
PERSONS = f"""{HEADER}
{JAN};Peeters;Jan;nl;Kerkstraat;12;;9000;Gent;;44021;;;
{CLAIRE};Dubois;Claire;;Rue Haute;3;bte 2;1000;Bruxelles;;21004;;;
{PIET};Claes;Piet;nl;Hoogstraat;4;;1000;Brussel;;21004;;;
{ALINE};Maes;Aline;nl;Veldstraat;9;;9000;Gent;;44021;deceased;2026-12-01;
{NOOR};Wouters;Noor;nl;;;;;;;44021;;;
"""
DOCUMENTS = f"""national_number;kind;number;issued_on;expires_on;status
{JAN};driving_licence;L1;2017-05-31;2027-05-31;
{CLAIRE};eid;E2;2017-04-30;2027-04-30;
{PIET};eid;E3;2017-04-28;2027-04-28;
{ALINE};driving_licence;L4;2017-05-30;2027-05-30;
{NOOR};eid;E5;2017-04-30;2027-04-30;
{JAN};passport;P6;2020-03-01;2027-03-01;
{JAN};driving_licence;PAPER7;1999-01-01;;
"""


@pytest.fixture
def registry(config_file: Path, database_url: str) -> Path:
    """An initialised database holding the registry above, under the example config without
    its passport policy: P6 shows that a kind without a policy gets no letter."""
    folder = config_file.parent
    config = config_file.read_text(encoding="utf-8")
    passport = config.index("[documents.passport]")
    end = config.index("\n\n", passport)
    config_file.write_text(config[:passport] + config[end + 2 :], encoding="utf-8")
    (folder / "persons.csv").write_text(PERSONS, encoding="utf-8")
    (folder / "documents.csv").write_text(DOCUMENTS, encoding="utf-8")
    assert invoke(config_file, database_url, "init").exit_code == 0
    for kind in ("persons", "documents"):
        result = invoke(config_file, database_url, "import", kind, str(folder / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
        assert "0 rejected" in result.output
    return config_file


def run(config_file: Path, database_url: str, *args: str) -> dict[str, Any]:
    result = invoke(config_file, database_url, "run", "--json", *args)
    assert result.exit_code == 0, result.output
    assert not NATIONAL_NUMBER.search(result.output)
    summary: dict[str, Any] = json.loads(result.output)
    return summary


def recorded(database_url: str) -> list[tuple[str, str, str | None, str | None]]:
    """(document number, stage, reason, language) of every recorded decision, sorted."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    DocumentRow.number, DecisionRow.stage, DecisionRow.reason, DecisionRow.language
                ).join(DocumentRow, DocumentRow.id == DecisionRow.document_id)
            )
            found = [(n, s, r, lang) for n, s, r, lang in rows]
    finally:
        engine.dispose()
    return sorted(found, key=lambda row: (row[0], row[1], row[2] or ""))  # NULLs sort alike


def test_a_dry_run_decides_and_records_nothing(registry: Path, database_url: str) -> None:
    """The dry run gives the summary of the contract; the log stays empty."""
    summary = run(registry, database_url, "--date", "2027-02-28", "--dry-run")
    assert summary["run_id"] is None
    assert summary["date"] == "2027-02-28"
    assert summary["letters"] == 3  # L1 (31 May - 3 months, clamped), E2 and E3 (- 2 months)
    assert summary["skipped"] == {"deceased": 1, "no_address": 1}
    assert summary["volumes"] == []
    assert summary["municipalities"]["21004"]["letters_by_language"] == {"fr+nl": 1, "nl": 1}
    assert recorded(database_url) == []


def test_nights_in_a_row_then_downtime_then_a_fixed_address(
    registry: Path, database_url: str
) -> None:
    """Each (document, stage) is decided once; a run after downtime sends only the current
    stage; a skip is not repeated; an address added by an import reopens `no_address`."""
    assert run(registry, database_url, "--date", "2027-02-27")["letters"] == 0
    first = run(registry, database_url, "--date", "2027-02-28")
    assert first["run_id"] is not None
    assert (first["letters"], first["skipped"]) == (3, {"deceased": 1, "no_address": 1})
    again = run(registry, database_url, "--date", "2027-02-28")
    assert (again["letters"], again["skipped"]) == (0, {})

    # Down from 1 March to 19 June: L1's second stage (30 April) was missed and is superseded
    # by its expired stage (14 June); E2 and E3's expired stage is due (28 and 30 May). The
    # deceased holder's stages are skipped as `deceased`, first in the contract's order.
    late = run(registry, database_url, "--date", "2027-06-20")
    assert late["letters"] == 3
    assert late["skipped"] == {"deceased": 2, "no_address": 1, "superseded": 1}

    folder = registry.parent
    fixed = PERSONS.replace(
        f"{NOOR};Wouters;Noor;nl;;;;;;", f"{NOOR};Wouters;Noor;nl;Dok;1;;9000;Gent;"
    )
    (folder / "persons.csv").write_text(fixed, encoding="utf-8")
    result = invoke(registry, database_url, "import", "persons", str(folder / "persons.csv"))
    assert "1 updated" in result.output
    after = run(registry, database_url, "--date", "2027-06-21")
    assert (after["letters"], after["skipped"]) == (1, {"superseded": 1})

    assert recorded(database_url) == [
        ("E2", "expired", None, "fr+nl"),
        ("E2", "first", None, "fr+nl"),
        ("E3", "expired", None, "nl"),
        ("E3", "first", None, "nl"),
        ("E5", "expired", None, "nl"),
        ("E5", "expired", "no_address", None),
        ("E5", "first", "no_address", None),
        ("E5", "first", "superseded", None),
        ("L1", "expired", None, "nl"),
        ("L1", "first", None, "nl"),
        ("L1", "second", "superseded", None),
        ("L4", "expired", "deceased", None),
        ("L4", "first", "deceased", None),
        ("L4", "second", "deceased", None),
    ]


def test_one_municipality_at_a_time(registry: Path, database_url: str) -> None:
    """--municipality decides for that municipality only; the others follow on their night."""
    brussels = run(registry, database_url, "--date", "2027-02-28", "--municipality", "21004")
    assert list(brussels["municipalities"]) == ["21004"]
    assert brussels["letters"] == 2
    everyone = run(registry, database_url, "--date", "2027-02-28")
    assert everyone["letters"] == 1  # L1 in Gent; Brussels was decided already


def test_the_database_refuses_a_second_letter(registry: Path, database_url: str) -> None:
    """The unique key holds even against a stray INSERT: never two letters for one stage."""
    run(registry, database_url, "--date", "2027-02-28")
    engine: Engine = make_engine(database_url)
    decision = cast(Table, DecisionRow.__table__)
    try:
        with engine.connect() as connection:
            letter = connection.execute(
                select(decision).where(DecisionRow.reason.is_(None)).limit(1)
            ).one()
        copy = dict(letter._mapping)
        del copy["id"]
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert(decision).values(**copy))
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM decision")) == 5
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "2027-02-30"), "Invalid value for '--date'"),
        (("--municipality", "99999"), "no municipality with NIS code '99999'"),
    ],
)
def test_bad_arguments_exit_2(
    registry: Path, database_url: str, args: tuple[str, ...], message: str
) -> None:
    """A date that does not exist or an unknown municipality is a usage error."""
    result = invoke(registry, database_url, "run", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_failed_run_keeps_nothing_and_can_be_run_again(
    registry: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that breaks half-way exits 1, is recorded as failed with its reason, keeps none
    of its decisions, and the same command then succeeds."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(DecisionStore, "save_watermark", broken)
    result = invoke(registry, database_url, "run", "--date", "2027-02-28")
    assert result.exit_code == 1
    assert "run 1 failed (OSError: disk full) and is recorded as failed" in result.output
    assert recorded(database_url) == []
    monkeypatch.undo()

    assert run(registry, database_url, "--date", "2027-02-28")["letters"] == 3
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            runs = connection.execute(
                select(NightlyRunRow.id, NightlyRunRow.outcome, NightlyRunRow.failure).order_by(
                    NightlyRunRow.id
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in runs] == [
        (1, "failed", "OSError: disk full"),
        (2, "succeeded", None),
    ]
