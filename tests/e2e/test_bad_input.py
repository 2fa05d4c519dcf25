"""Out-of-range input on the command line is bad usage: exit 2 and a message naming the option
or the file, never a traceback (issue 18, item 3). The cases a probe found, on both engines;
tests/e2e/test_input_properties.py throws arbitrary values at every option."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from reminders.config import load_settings
from reminders.entrypoints.cli import main
from tests.e2e.test_print_volumes import (  # noqa: F401 - registry is a fixture
    HOLDINGS,
    RUN_DATE,
    registry,
    with_print,
)
from tests.e2e.test_run import run

HUGE = "999999999999999999999999"


def invoke(config_file: Path, database_url: str, *args: str) -> Result:
    """``reminders <args>`` with the config and database; exceptions are not caught, so an
    escaping one fails the test with its traceback."""
    return CliRunner().invoke(
        main,
        [*args, "--config", str(config_file)],
        env={"REMINDERS_DATABASE_URL": database_url},
        catch_exceptions=False,
    )


def assert_bad_usage(result: Result, *said: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in said:
        assert text in result.output, result.output


def test_out_of_range_input_is_bad_usage_not_a_traceback(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
    tmp_path: Path,
) -> None:
    with_print(registry, "workers = 1")  # a few letters: rendered in the run's own process
    summary = run(registry, database_url, "--date", RUN_DATE)

    # Dates beyond the supported ones, numbers beyond the database's, a wait of "nan".
    assert_bad_usage(
        invoke(registry, database_url, "run", "--date", "9999-12-31", "--dry-run"),
        "--date",
        "from 1900-01-01 to 2199-12-31",
    )
    assert_bad_usage(invoke(registry, database_url, "run", "--wait", "nan"), "--wait")
    report = str(tmp_path / "report.pdf")
    assert_bad_usage(
        invoke(registry, database_url, "audit", "report", "--run", HUGE, "--out", report),
        "--run",
        "from 1 to 2147483647",
    )
    assert_bad_usage(invoke(registry, database_url, "audit", "export", "--run", HUGE), "--run")
    assert_bad_usage(invoke(registry, database_url, "audit", "export", "--run", "²"), "--run")
    # The latest supported date is a date like any other: date arithmetic does not overflow.
    latest = invoke(registry, database_url, "run", "--date", "2199-12-31", "--dry-run")
    assert latest.exit_code == 0, latest.output

    # Output files that cannot be written.
    holding = HOLDINGS[0]
    document = f"{holding.kind}:{holding.number}"
    missing = tmp_path / "missing"  # a folder that does not exist
    for out in (str(missing / "letter.pdf"), "/"):
        preview = ("preview", "--document", document, "--date", RUN_DATE, "--out", out)
        assert_bad_usage(invoke(registry, database_url, *preview), "--out")
    manifest = Path(summary["volumes"][0]).with_suffix(".json").read_text(encoding="utf-8")
    reference = json.loads(manifest)["entries"][0]["reference"]
    prove = ("audit", "prove", "--letter", reference, "--out")
    assert_bad_usage(
        invoke(registry, database_url, *prove, str(missing / "p.json")),
        f"--out: cannot write {missing / 'p.json'}: No such file or directory",
    )

    # Proofs whose fields are not of the types `audit prove` writes, or that are no JSON.
    proof_file = tmp_path / "proof.json"
    assert invoke(registry, database_url, *prove, str(proof_file)).exit_code == 0
    proof: dict[str, Any] = json.loads(proof_file.read_text(encoding="utf-8"))
    changes: list[tuple[str, Any, str]] = [
        ("tree_size", str(proof["tree_size"]), "tree_size: expected a whole number"),
        ("leaf_index", str(proof["leaf_index"]), "leaf_index: expected a whole number"),
        ("leaf_index", True, "leaf_index: expected a whole number"),
        ("audit_path", "00", "audit_path: expected a list of SHA-256 hashes"),
        ("audit_path", [1], "audit_path: expected a list of SHA-256 hashes"),
        ("checkpoint", 5, "checkpoint: expected the signed checkpoint's text"),
        ("entry", [], "entry: expected the entry's canonical JSON"),
    ]
    contents = [json.dumps({**proof, field: value}).encode() for field, value, _ in changes]
    messages = [message for _, _, message in changes]
    contents += [b"[1]", b"\xff\xfe", b"{"]
    messages += ["expected a JSON object", "not a readable proof", "not an inclusion proof"]
    key = str(load_settings(registry).audit.public_key)
    for content, message in zip(contents, messages, strict=True):
        changed = tmp_path / "changed.json"
        changed.write_bytes(content)
        checked = ("audit", "check-proof", str(changed), "--public-key", key)
        assert_bad_usage(CliRunner().invoke(main, checked), message)


def test_templates_copied_where_no_folder_can_be_is_bad_usage(tmp_path: Path) -> None:
    """Found by tests/e2e/test_input_properties.py: a NotADirectoryError traceback."""
    a_file = tmp_path / "config.toml"
    a_file.write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["templates", "copy", str(a_file / "letters")])
    assert_bad_usage(result, "FOLDER: cannot write", "Not a directory")


def test_a_backup_where_no_file_can_be_is_bad_usage(tmp_path: Path) -> None:
    """Found by tests/e2e/test_input_properties.py: `backup --to <a file>/x` was a
    NotADirectoryError traceback."""
    database = tmp_path / "reminders.sqlite3"
    sqlite3.connect(database).close()
    config = tmp_path / "config.toml"
    example = Path(__file__).resolve().parents[2] / "config.toml"
    config.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    target = config / "backup.sqlite3"  # under a file
    result = invoke(config, f"sqlite:///{database}", "backup", "--to", str(target))
    assert_bad_usage(result, f"{target}: cannot write a backup there (Not a directory)")
