"""The `reminders` command end to end: exit statuses, messages, and no personal data shown."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.run_lock import RunLocks
from reminders.entrypoints.cli import COMMANDS_ELSEWHERE, main
from tests.integration.test_import_registry import DOCUMENTS, PERSONS

# An unmasked national number: 11 digits, or the punctuated form.
NATIONAL_NUMBER = re.compile(r"\b\d{11}\b|\b\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}\b")


def invoke(config_file: Path, database_url: str, *args: str) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main,
        [args[0], "--config", str(config_file), *args[1:]],
        env={"REMINDERS_DATABASE_URL": database_url},
        catch_exceptions=False,
    )


def test_init_import_and_report(config_file: Path, database_url: str) -> None:
    """init, then both imports with --report: exit 0, counts, masked rejections only."""
    persons = config_file.parent / "persons.csv"
    documents = config_file.parent / "documents.csv"
    persons.write_text(PERSONS, encoding="utf-8")
    documents.write_text(DOCUMENTS, encoding="utf-8")

    result = invoke(config_file, database_url, "init")
    assert result.exit_code == 0, result.output
    assert "upgraded from empty to revision" in result.output

    result = invoke(config_file, database_url, "import", "persons", str(persons), "--report")
    assert result.exit_code == 0, result.output
    assert "persons.csv: 5 rows read; 3 imported (3 new, 0 updated, 0 unchanged); 2 rejected." in (
        result.output
    )
    assert "persons.csv:3: national_number: invalid check digits [**.**.**-***.61]" in result.output
    assert not NATIONAL_NUMBER.search(result.output)

    result = invoke(config_file, database_url, "import", "documents", str(documents), "--report")
    assert result.exit_code == 0, result.output
    assert "3 rejected" in result.output
    assert not NATIONAL_NUMBER.search(result.output)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("national_number;family_name\n", "missing required columns"),
        ("", "is empty"),
    ],
)
def test_a_bad_file_exits_2_with_one_clear_message(
    config_file: Path, database_url: str, content: str, message: str
) -> None:
    """File-level errors: exit 2, `Error: <file>: ...`, no traceback."""
    invoke(config_file, database_url, "init")
    path = config_file.parent / "persons.csv"
    path.write_text(content, encoding="utf-8")
    result = invoke(config_file, database_url, "import", "persons", str(path))
    assert result.exit_code == 2
    assert f"Error: {path}" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_import_before_init_asks_for_init(config_file: Path, database_url: str) -> None:
    """A database without schema is a clear error, exit 2."""
    path = config_file.parent / "persons.csv"
    path.write_text(PERSONS, encoding="utf-8")
    result = invoke(config_file, database_url, "import", "persons", str(path))
    assert result.exit_code == 2
    assert "run `reminders init` first" in result.output


def test_a_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    """Configuration errors name the file, the line and the key."""
    config = tmp_path / "config.toml"
    config.write_text('[installation]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["init", "--config", str(config)])
    assert result.exit_code == 2
    assert f"Error: {config}:2: installation.timezone: unknown time zone 'Mars/Olympus'" in (
        result.output
    )


def test_demo_builds_and_describes_a_registry(
    config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The newcomer's command: a synthetic registry through the real import, summarised,
    with no national number in the output or in any log line."""
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(
        main,
        ["-v", "demo", "--config", str(config_file), "--persons", "300", "--date", "2026-11-24"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "persons.csv: " in result.output
    assert "5 rejected" in result.output
    assert "persons.csv:304: language: expected one of nl, fr, de" in result.output
    assert "44021 Gent:" in result.output
    assert "21004 Bruxelles / Brussel:" in result.output
    assert "63023 Eupen:" in result.output
    assert (config_file.parent / "var/out/demo/reminders.sqlite3").exists()
    assert "Tonight's letters on the demo registry (2026-11-24):" in result.output
    assert re.search(r"Total: [1-9][\d,]* letters, [\d,]+ skips\.", result.output)
    volumes = sorted((config_file.parent / "var/out/demo/volumes").glob("*/*/volume-*.pdf"))
    assert {path.parts[-3] for path in volumes} == {"44021", "21004", "63023"}
    assert all(f"  {path}" in result.output for path in volumes)
    assert not NATIONAL_NUMBER.search(result.output)
    assert not any(NATIONAL_NUMBER.search(record.getMessage()) for record in caplog.records)


def test_the_demo_runs_again_after_a_run_locked_its_database(config_file: Path) -> None:
    """A run (one the console started, say) leaves its lock folder beside the demo's database;
    the next demo starts afresh and keeps it (it used to stop on IsADirectoryError)."""
    demo = ["demo", "--config", str(config_file), "--persons", "100", "--date", "2026-11-24"]
    assert CliRunner().invoke(main, demo).exit_code == 0
    database = config_file.parent / "var/out/demo/reminders.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with RunLocks(engine)(["44021"]):
            pass
    finally:
        engine.dispose()
    locks = Path(f"{database}.locks")
    assert locks.is_dir()
    again = CliRunner().invoke(main, demo)
    assert again.exit_code == 0, again.output
    assert locks.is_dir()


def test_each_command_imported_on_demand_is_the_one_named() -> None:
    """`reminders` imports the commands of COMMANDS_ELSEWHERE when they run: each name leads
    to a command of that name (a typo would only show when a user typed it)."""
    context = click.Context(main)
    for name in COMMANDS_ELSEWHERE:
        command = main.get_command(context, name)
        assert command is not None, name
        assert command.name == name
    assert set(COMMANDS_ELSEWHERE) <= set(main.list_commands(context))
