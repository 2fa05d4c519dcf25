"""`reminders init FOLDER`: a new installation for one municipality that runs as it is made:
a commented config.toml that `check` accepts, the official languages from the NIS code, an
empty folder for own templates, the scheduler's jobs, the keys and the schema; nothing is
replaced, and what is missing is asked or refused naming its option."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reminders.adapters.scheduling.job_files import load_jobs
from reminders.config import load_settings
from reminders.config.starter import StarterMunicipality
from reminders.domain.model import Language, LetterLanguageRule
from reminders.entrypoints.cli import main
from reminders.entrypoints.init_answers import starter_answers

EUPEN = ("--nis", "63023", "--name", "Eupen", "--street", "Rathausplatz", "--house-number",
         "14", "--postal-code", "4700", "--locality", "Eupen")  # fmt: skip


def init(folder: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["init", str(folder), *options], env={})
    return result.exit_code, result.output


def test_a_new_folder_runs_as_it_is_made(tmp_path: Path) -> None:
    folder = tmp_path / "eupen"
    code, output = init(folder, *EUPEN, "--email", "buergerdienst@eupen.example")
    assert code == 0, output
    config = folder / "config.toml"
    assert f"Next: check it (reminders check --config {config})" in output
    settings = load_settings(config, environ={})
    (eupen,) = settings.municipalities
    assert (eupen.nis_code, eupen.name, eupen.languages) == ("63023", "Eupen", (Language.DE,))
    assert eupen.letter_language is LetterLanguageRule.MUNICIPALITY
    assert eupen.sender.department == "Bürgerdienst"
    assert eupen.sender.email == "buergerdienst@eupen.example"
    assert eupen.sender.phone is None
    assert settings.database_url == f"sqlite:///{folder / 'var' / 'reminders.sqlite3'}"
    assert settings.templates_dir == folder / "letters"
    assert list((folder / "letters").iterdir()) == []
    assert settings.audit.signing_key.path is not None
    assert settings.audit.signing_key.path.stat().st_mode & 0o777 == 0o600
    assert settings.audit.public_key.is_file()
    assert [job.id for job in load_jobs(settings)] == ["nightly", "verify"]
    assert "#" in config.read_text(encoding="utf-8")  # commented for the newcomer
    check = CliRunner().invoke(main, ["check", "--config", str(config)], env={})
    assert check.exit_code == 0, check.output
    assert " own " not in check.output
    again = CliRunner().invoke(main, ["init", "--config", str(config)], env={})
    assert again.exit_code == 0, again.output  # `init` on it: up to date, key kept
    assert "up to date" in again.output
    assert "(kept)" in again.output


def test_brussels_gets_both_languages_and_the_bilingual_rule(tmp_path: Path) -> None:
    code, output = init(
        tmp_path / "bxl", "--nis", "21004", "--name", "Bruxelles / Brussel", "--street",
        "Boulevard Anspach", "--house-number", "6", "--postal-code", "1000", "--locality",
        "Bruxelles",
    )  # fmt: skip
    assert code == 0, output
    (brussels,) = load_settings(tmp_path / "bxl" / "config.toml", environ={}).municipalities
    assert brussels.languages == (Language.FR, Language.NL)
    assert brussels.letter_language is LetterLanguageRule.CITIZEN_OR_BILINGUAL
    assert brussels.sender.department == "Service Population / Dienst Bevolking"


def test_an_existing_installation_is_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "eupen"
    assert init(folder, *EUPEN)[0] == 0
    config = folder / "config.toml"
    before = config.read_bytes()
    key = (folder / "var" / "keys" / "dispatch-log.key").read_bytes()
    code, output = init(folder, *EUPEN[:2], "--name", "Other")
    assert code == 2
    assert f"Error: {config}: already exists" in output
    assert config.read_bytes() == before
    assert (folder / "var" / "keys" / "dispatch-log.key").read_bytes() == key


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (EUPEN[2:], "Error: --nis is needed"),
        (("--nis", "4402", *EUPEN[2:]), "Error: --nis: expected a 5-digit NIS code, got '4402'"),
        ((*EUPEN[:2], *EUPEN[4:]), "Error: --name is needed"),
        ((*EUPEN, "--languages", "en"), "Error: --languages: expected nl, fr or de"),
        (tuple(o if o != "4700" else "470" for o in EUPEN), "Error: --postal-code: expected"),
        (("--nis", "29001", *EUPEN[2:]), "Error: --languages is needed"),  # no such province
    ],
)
def test_what_is_missing_or_wrong_is_refused_naming_its_option(
    tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    """Without a terminal nothing is asked: a missing or bad answer exits 2 and writes
    nothing."""
    code, output = init(tmp_path / "new", *options)
    assert code == 2, output
    assert output.startswith(message), output
    assert not (tmp_path / "new").exists()


def test_options_of_a_new_folder_need_the_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", "--nis", "44021"], env={})
    assert result.exit_code == 2
    assert "Error: --nis is only for `reminders init FOLDER`" in result.output


def test_what_is_not_given_is_asked_with_defaults_from_the_nis_code() -> None:
    """On a terminal, each missing answer is asked; the languages and the department have
    defaults from the NIS code, which an empty answer takes."""
    asked: list[tuple[str, str | None]] = []
    answers = iter(["44021", "", "Gent", "", "Botermarkt", "1", "9000", "Gent", "", ""])

    def ask(question: str, default: str | None) -> str:
        asked.append((question, default))
        return next(answers)

    made = starter_answers({}, ask)
    assert made == StarterMunicipality(
        nis_code="44021",
        name="Gent",
        languages=(Language.NL,),
        sender=made.sender,
    )
    assert (made.sender.department, made.sender.street, made.sender.postal_code) == (
        "Dienst Burgerzaken", "Botermarkt", "9000",
    )  # fmt: skip
    assert made.sender.phone is None
    defaults = dict(asked)
    assert defaults["Official languages (nl, fr, de; two for Brussels: fr,nl)"] == "nl"
    assert defaults["Civil-affairs department letters come from"] == "Dienst Burgerzaken"
    assert len(asked) == 10
