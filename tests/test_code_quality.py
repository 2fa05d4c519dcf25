"""The code stays ruff-clean, mypy-strict-clean, and its layers point inward.

Run as tests so that CI, which runs exactly the README's test command, checks them too: one
test per tool, so that the suite's workers share them out, handed out before any other test
(tests/conftest.py), mypy first, so that they run beside the rest rather than after it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [  # mypy first: the slowest, handed out first (tests/conftest.py orders the suite)
        ["mypy"],
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["lint-imports"],
    ],
    ids=["mypy", "ruff-check", "ruff-format", "import-layers"],
)
def test_tool_is_clean(command: list[str]) -> None:
    """The tool exits 0 on the whole repository."""
    result = subprocess.run(  # noqa: S603 - our own dev tools, fixed arguments
        [str(BIN / command[0]), *command[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
