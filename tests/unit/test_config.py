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
        ('offset = "-3 months"', 'offset = "-1201 months"',
         "documents.driving_licence.stages[0].offset: an offset is at most 100 years "
         "(1200 months), got '-1201 months'"),
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
        ('{ name = "second",  offset = "-1 month" }',
         '{ name = "Second",  offset = "-1 month" }',
         "documents.driving_licence.stages[1].name: expected a lower-case word like \"first\" "
         "or \"expired\", got 'Second'"),
        ('{ name = "second",  offset = "-1 month" }',
         '{ name = "second",  offset = "-89 days" }',
         "documents.driving_licence.stages[1].offset: stages must be in order: -89 days is not "
         "after -3 months"),
        ('{ name = "expired", offset = "+14 days", final_grace = "60 days" }',
         '{ name = "expired", offset = "+14 days", final_grace = 60 }',
         "documents.driving_licence.stages[2].final_grace: expected a string, got an integer 60"),
        ('database = "sqlite:///var/reminders.sqlite3"', 'database = "mysql://x/y"',
         "installation.database: expected a sqlite:/// or postgresql:// URL, got 'mysql'"),
    ],
)  # fmt: skip
def test_mistakes_are_reported_with_the_key_path(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """Each error names the file, the line, the key path, and quotes the bad value."""
    path = write(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    error = caught.value
    assert error.line is not None, str(error)
    assert str(error).startswith(f"{path}:{error.line}: {message}")
    assert error.key is not None
    leaf = error.key.rsplit(".", 1)[-1].split("[")[0]
    assert leaf in path.read_text(encoding="utf-8").splitlines()[error.line - 1]


def test_toml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    """tomllib's position is kept in the message."""
    path = write(tmp_path, 'name = "Gent"', 'name = "Gent')
    line = path.read_text(encoding="utf-8").splitlines().index('name = "Gent') + 1
    with pytest.raises(ConfigError, match=rf"not valid TOML: .*line {line}\b"):
        load_settings(path, environ={})


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """No traceback for a mistyped --config."""
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_a_missing_key_points_at_its_table(tmp_path: Path) -> None:
    """A missing required key is reported at the header of the table that lacks it."""
    path = write(tmp_path, 'name = "Eupen"\n', "")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.key == "municipalities[2].name"
    assert caught.value.line is not None
    assert path.read_text(encoding="utf-8").splitlines()[caught.value.line - 1] == (
        "[[municipalities]]"
    )


def test_an_ambiguous_place_gives_no_line_rather_than_a_wrong_one(tmp_path: Path) -> None:
    """Two stages holding the same bad value: the key path says which, no line is guessed."""
    path = write(tmp_path, 'offset = "+14 days"', 'offset = "-1 month"')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.key == "documents.driving_licence.stages[2].offset"
    assert caught.value.line is None
    assert str(caught.value).startswith(f"{path}: documents.driving_licence.stages[2].offset: ")


def test_a_missing_top_level_table_gives_no_line(tmp_path: Path) -> None:
    """The root table has no header line: no line is named rather than a wrong one."""
    path = tmp_path / "config.toml"
    path.write_text('[installation]\ntimezone = "Europe/Brussels"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.key == "municipalities"
    assert caught.value.line is None
    assert str(caught.value) == f"{path}: municipalities: missing required key"
