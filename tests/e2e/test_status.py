"""`reminders status`: what it says after a clean night, a killed one and a missed one, and
the exit status a monitor reads (0 all well, 1 something needs a person)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.run_checks import RUN_DATE, SMALL, cli, killed_at, prepared_night
from tests.e2e.test_cli import invoke
from tests.e2e.test_print_volumes import registry  # noqa: F401 - fixture


def status(config: Path, database_url: str) -> tuple[int, dict[str, Any]]:
    result = invoke(config, database_url, "status", "--json")
    assert result.exit_code in (0, 1), result.output
    document: dict[str, Any] = json.loads(result.output)
    assert document["healthy"] is (result.exit_code == 0)
    return result.exit_code, document


def test_a_killed_night_needs_a_person_until_the_next_run_completes_it(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> None:
    """Before any run all is well; after a run killed half-way through printing, status exits
    1 naming the stopped run and the letters waiting; the next run completes it and status
    is back to 0, with the run, its checkpoint and (after `audit verify`) the verdict. The
    killed run is a process, SIGKILLed; the next one runs in this process, as status does."""
    night = prepared_night(request, database_url, tmp_path / "night", SMALL)
    code, before = status(night.config, database_url)
    assert code == 0
    assert all(m["last_run"] is None for m in before["municipalities"].values())

    killed_at(night, "print:volume-recorded#2")
    code, after_kill = status(night.config, database_url)
    assert code == 1
    states = after_kill["municipalities"].values()
    assert sum(m["letters_waiting"] for m in states) > 0
    problems = [problem for m in states for problem in m["problems"]]
    assert any("run 1 stopped without finishing" in problem for problem in problems), problems

    cli(night.config, database_url, "run", "--date", RUN_DATE.isoformat())
    cli(night.config, database_url, "audit verify")
    code, healthy = status(night.config, database_url)
    assert code == 0, healthy
    for state in healthy["municipalities"].values():
        assert state["last_run"]["outcome"] == "succeeded"
        assert state["last_run"]["step"] == "published"
        assert state["letters_waiting"] == 0
        assert state["last_checkpoint"]["tree_size"] > 0
        assert state["last_verification"]["intact"] is True
        assert state["last_verification"]["tree_size"] == state["last_checkpoint"]["tree_size"]


def test_a_night_that_was_due_and_not_run_is_reported(
    registry: Path,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """With a nightly job whose last fire is past its grace and no run for that night, status
    exits 1 naming the night; once that night is run it exits 0 and gives the next run."""
    jobs = registry.parent / "jobs"
    jobs.mkdir()
    (jobs / "nightly.toml").write_text(
        '[job]\nservice = "nightly_run"\nmunicipalities = "all"\nat = "00:00"\n'
        'misfire_grace = "1 second"\n',
        encoding="utf-8",
    )
    code, missing = status(registry, database_url)
    assert code == 1
    nights = {m["due_night"] for m in missing["municipalities"].values()}
    assert len(nights) == 1
    (night,) = nights
    for state in missing["municipalities"].values():
        assert f"the night of {night} has not been run" in state["problems"]
        assert state["job"] == "nightly"
        assert state["next_run"] is not None

    assert invoke(registry, database_url, "run", "--date", night).exit_code == 0
    code, done = status(registry, database_url)
    assert code == 0, done
    assert {m["last_night_run"] for m in done["municipalities"].values()} == {night}
