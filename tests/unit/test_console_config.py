"""config.toml's [console] table: the defaults, what each key sets, and every mistake reported
with its file, line and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reminders.config import ConsoleOptions
from reminders.errors import ConfigError
from tests.unit.test_print_config import edited, loaded

EXAMPLE_CONSOLE = re.compile(r"\[console\]\n(?:[a-z_]+ *=.*\n)+")


def with_console(config_file: Path, table: str) -> Path:
    text = config_file.read_text(encoding="utf-8")
    found = EXAMPLE_CONSOLE.search(text)
    assert found
    return edited(config_file, found.group(0), table)


def test_the_example_console_table_holds_the_defaults(config_file: Path) -> None:
    # the example sets a postage tariff for the usage page; without it there is no estimate
    assert loaded(config_file).console == ConsoleOptions(postage_per_letter=1.33)
    assert loaded(with_console(config_file, "")).console == ConsoleOptions()


def test_each_console_key_sets_its_option(config_file: Path) -> None:
    table = (
        '[console]\nhost = "0.0.0.0"\nport = 9000\nsession_idle_minutes = 15\n'
        "session_max_hours = 4\nsecure_cookies = true\nmax_failed_logins = 3\n"
        "postage_per_letter = 1.5\npostage_per_page = 0.1\n"
    )
    assert loaded(with_console(config_file, table)).console == ConsoleOptions(
        host="0.0.0.0",  # noqa: S104 - what the test writes, read back
        port=9000,
        session_idle_minutes=15,
        session_max_hours=4,
        secure_cookies=True,
        max_failed_logins=3,
        postage_per_letter=1.5,
        postage_per_page=0.1,
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("port = 0", r"console\.port: expected a number from 1 to 65535, got 0"),
        ("port = 80.5", r"console\.port: expected a whole number, got 80\.5"),
        ("session_idle_minutes = 0", r"console\.session_idle_minutes: expected a number from 1"),
        ("session_max_hours = 25", r"console\.session_max_hours: expected a number from 1 to 24"),
        ('secure_cookies = "yes"', r"console\.secure_cookies: expected a boolean"),
        ('host = ""', r"console\.host: must not be empty"),
        ("colour = 3", r"console\.colour: unknown key"),
    ],
)
def test_a_console_mistake_names_its_line_and_key(
    config_file: Path, line: str, message: str
) -> None:
    path = with_console(config_file, f"[console]\n{line}\n")
    with pytest.raises(ConfigError, match=message) as raised:
        loaded(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert raised.value.line is not None
    assert lines[raised.value.line - 1].strip() == line
