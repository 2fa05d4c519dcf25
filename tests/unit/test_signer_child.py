"""How the console reads its signer process's answers (entrypoints/console/signer_child.py):
the JSON answer; our errors with their exit status (400 pages); anything else a failure whose
details stay in the server's log (a 500 page without them)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reminders.entrypoints.console.signer_child import SignerChild, SignerFailedError
from reminders.errors import MunicipalityBusyError, RemindersError, UsageError

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)


def child(tmp_path: Path, script: str) -> SignerChild:
    signer = SignerChild(tmp_path / "config.toml", "sqlite:///unused")
    signer._command = [sys.executable, "-c", script]
    return signer


def test_the_answer_and_the_request_on_stdin(tmp_path: Path) -> None:
    echo = "import json, sys; r = json.load(sys.stdin); print(json.dumps({'got': r}))"
    answer = child(tmp_path, echo).ask("reveal", "44021", NOW, by="console:a", what={"x": 1})
    assert answer == {"got": {"action": "reveal", "nis": "44021", "now": NOW.isoformat(),
                              "by": "console:a", "what": {"x": 1}}}  # fmt: skip


@pytest.mark.parametrize(
    ("status", "error"), [(2, UsageError), (3, MunicipalityBusyError), (1, RemindersError)]
)
def test_our_errors_come_back_as_ours(
    tmp_path: Path, status: int, error: type[RemindersError]
) -> None:
    script = f"import sys; sys.stderr.write('Error: four eyes: not yours\\n'); sys.exit({status})"
    with pytest.raises(error) as raised:
        child(tmp_path, script).ask("release", "44021", NOW, volume_id=1)
    assert raised.value.message == "four eyes: not yours"
    assert not isinstance(raised.value, SignerFailedError)


def test_a_crash_is_a_failure_without_its_details(tmp_path: Path) -> None:
    with pytest.raises(SignerFailedError) as raised:
        child(tmp_path, "raise KeyError('secret detail')").ask("release", "44021", NOW)
    assert "secret detail" not in str(raised.value)
