"""config.toml: the example loads, and each mistake is reported with file and key."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from reminders.config import load_settings
from reminders.domain.model import DocumentKind, Language, LetterLanguageRule
from reminders.errors import ConfigError
from tests.conftest import REPO


def test_the_example_config_loads(config_file: Path) -> None:
    """Three municipalities, two policies, paths relative to the file."""
    settings = load_settings(config_file, environ={})
    assert [m.nis_code for m in settings.municipalities] == ["44021", "21004", "63023"]
    brussels = settings.municipality("21004")
    assert brussels.languages == (Language.FR, Language.NL)
    assert brussels.letter_language is LetterLanguageRule.CITIZEN_OR_BILINGUAL
    assert settings.database_url == f"sqlite:///{config_file.parent / 'var/reminders.sqlite3'}"
    assert settings.output_dir == config_file.parent / "var/out"
    assert settings.nightly_at == time(1, 30)
    licence = settings.policies[DocumentKind.DRIVING_LICENCE]
    assert [stage.name for stage in licence.stages] == ["first", "second", "expired"]
    assert licence.stages[0].offset.applied_to(date(2028, 5, 31)) == date(2028, 2, 29)


def test_the_environment_overrides_the_database(config_file: Path) -> None:
    """REMINDERS_DATABASE_URL wins, and a bare postgresql:// URL gets the psycopg driver."""
    settings = load_settings(
        config_file, environ={"REMINDERS_DATABASE_URL": "postgresql://u@db.example/reminders"}
    )
    assert settings.database_url == "postgresql+psycopg://u@db.example/reminders"


def write(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "config.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('offset = "-3 months"', 'offset = "-3 monts"',
         'documents.driving_licence.stages[0].offset: expected an offset like "-3 months", '
         "\"+14 days\" or \"-1 year\", got '-3 monts'"),
        ('nis_code = "44021"', 'nis_code = "4402"',
         "municipalities[0].nis_code: expected a 5-digit NIS code, got '4402'"),
        ('languages = ["nl"]', 'languages = ["en"]',
         "municipalities[0].languages: expected languages among nl, fr, de, got 'en'"),
        ('timezone = "Europe/Brussels"', 'timezone = "Europe/Brusels"',
         "installation.timezone: unknown time zone 'Europe/Brusels'"),
        ('nightly_at = "01:30"', 'nightly_at = "1.30"',
         "schedule.nightly_at: expected a time like \"01:30\", got '1.30'"),
        ('output_dir = "var/out"', 'output_dir = "var/out"\nouptut = 1',
         "installation.ouptut: unknown key"),
        ('{ name = "second",  offset = "-1 month" }',
         '{ name = "second",  offset = "-4 months" }',
         "documents.driving_licence.stages[1].offset: stages must be in order: -4 months is "
         "not after -3 months"),
        ('{ name = "first",   offset = "-2 months" }',
         '{ name = "first",   offset = "-2 months", final_grace = "1 month" }',
         "documents.eid.stages[0].final_grace: only the final stage may have a final_grace"),
        ("[documents.eid]", "[documents.library_card]",
         "documents.library_card: unknown document kind"),
        ('letter_language = "municipality"\nsender = { department = "Dienst',
         'letter_language = "citizen_or_bilingual"\nsender = { department = "Dienst',
         "municipalities[0].letter_language: citizen_or_bilingual needs two languages"),
        ('nis_code = "21004"', 'nis_code = "44021"',
         "municipalities[1].nis_code: NIS code '44021' is configured twice"),
        ('database = "sqlite:///var/reminders.sqlite3"', 'database = "mysql://x/y"',
         "installation.database: expected a sqlite:/// or postgresql:// URL, got 'mysql'"),
    ],
)  # fmt: skip
def test_mistakes_are_reported_with_the_key_path(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """Each error names the file and the key path, and quotes the bad value."""
    path = write(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value).startswith(f"{path}: {message}")


def test_toml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    """tomllib's position is kept in the message."""
    path = write(tmp_path, 'name = "Gent"', 'name = "Gent')
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 15"):
        load_settings(path, environ={})


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """No traceback for a mistyped --config."""
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml", environ={})
