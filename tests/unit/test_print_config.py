"""config.toml's [print] and [letters] tables and the sender's appointment_url: the defaults,
what each key sets, and every mistake reported as a ConfigError naming its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminders.config import AddressWindow, PrintOptions, Settings, load_settings
from reminders.errors import ConfigError

EXAMPLE_PRINT = """[print]
volume_max_letters = 1000
split_by_language = false   # true: one series of volumes per letter language
duplex = false              # true: every letter starts on a recto
window = { left_mm = 20, top_mm = 45, width_mm = 85, height_mm = 45 }
workers = 0                 # processes rendering volumes: 0 = one per core, 1 = the run's own
"""
EXAMPLE_LETTERS = '# [letters]\n# templates = "letters"'
GENT_URL = 'appointment_url = "https://gent.example/afspraak"'


def edited(config_file: Path, old: str, new: str) -> Path:
    """The example config with ``old`` replaced by ``new`` (which must be there once)."""
    text = config_file.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    config_file.write_text(text.replace(old, new), encoding="utf-8")
    return config_file


def with_print(config_file: Path, table: str) -> Path:
    """The example config with its [print] table replaced by ``table``."""
    return edited(config_file, EXAMPLE_PRINT, table)


def loaded(path: Path) -> Settings:
    return load_settings(path, environ={})


def test_the_example_print_table_holds_the_defaults(config_file: Path) -> None:
    """What config.toml spells out is what a config without [print] gets: 1000 letters a
    volume, no split, simplex, the DIN 5008 form B window (20, 45, 85 x 45 mm)."""
    assert EXAMPLE_PRINT in config_file.read_text(encoding="utf-8")
    spelled_out = loaded(config_file).print_options
    defaults = loaded(with_print(config_file, "")).print_options
    assert spelled_out == defaults == PrintOptions()
    assert defaults.volume_max_letters == 1000
    assert (defaults.split_by_language, defaults.duplex) == (False, False)
    assert defaults.window == AddressWindow(20.0, 45.0, 85.0, 45.0)
    assert defaults.workers == 0  # one render worker per core


@pytest.mark.parametrize("value", ["-1", "1.5", '"two"', "257"])
def test_a_bad_number_of_render_workers_names_the_key(config_file: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"config\.toml:\d+: print\.workers: "):
        loaded(with_print(config_file, f"[print]\nworkers = {value}\n"))


def test_render_workers_are_read(config_file: Path) -> None:
    assert loaded(with_print(config_file, "[print]\nworkers = 3\n")).print_options.workers == 3


def test_an_empty_print_table_also_gives_the_defaults(config_file: Path) -> None:
    assert loaded(with_print(config_file, "[print]\n")).print_options == PrintOptions()


def test_each_print_key_sets_its_option(config_file: Path) -> None:
    table = (
        "[print]\nvolume_max_letters = 2\nsplit_by_language = true\nduplex = true\n"
        "window = { left_mm = 25.5, top_mm = 50, width_mm = 90, height_mm = 40 }\n"
    )
    options = loaded(with_print(config_file, table)).print_options
    assert options == PrintOptions(
        volume_max_letters=2,
        split_by_language=True,
        duplex=True,
        window=AddressWindow(left_mm=25.5, top_mm=50.0, width_mm=90.0, height_mm=40.0),
    )


def test_a_partial_window_keeps_the_default_of_the_other_sides(config_file: Path) -> None:
    """DIN 676 form A only moves the field up to 27 mm."""
    options = loaded(with_print(config_file, "[print.window]\ntop_mm = 27\n")).print_options
    assert options.window == AddressWindow(left_mm=20.0, top_mm=27.0, width_mm=85.0, height_mm=45)
    assert options.volume_max_letters == 1000


def test_the_templates_are_found_relative_to_the_config_file(config_file: Path) -> None:
    """[letters] templates, the installation's own templates, is read against the file's
    folder, not the working directory; a config without [letters] has none (the shipped
    templates only)."""
    folder = config_file.parent
    (folder / "letters" / "own").mkdir(parents=True)
    relative = edited(config_file, EXAMPLE_LETTERS, '[letters]\ntemplates = "letters/own"')
    assert loaded(relative).templates_dir == folder / "letters/own"
    assert loaded(relative).template_folders.own("44021") == (folder / "letters/own",)
    missing = edited(config_file, '[letters]\ntemplates = "letters/own"', "")
    assert loaded(missing).templates_dir is None
    assert loaded(missing).template_folders.own("44021") == ()


def test_appointment_urls_are_read_and_optional(config_file: Path) -> None:
    """http:// and https:// addresses are kept as written; Eupen has none."""
    settings = loaded(edited(config_file, GENT_URL, 'appointment_url = "http://gent.example/a"'))
    assert settings.municipality("44021").sender.appointment_url == "http://gent.example/a"
    assert settings.municipality("21004").sender.appointment_url == (
        "https://bruxelles.example/rendez-vous"
    )
    assert settings.municipality("63023").sender.appointment_url is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[print]\nvolume_max_letters = 0\n",
         "print.volume_max_letters: expected a number from 1 to 100000, got 0"),
        ("[print]\nvolume_max_letters = -5\n",
         "print.volume_max_letters: expected a number from 1 to 100000, got -5"),
        ("[print]\nvolume_max_letters = 2.5\n",
         "print.volume_max_letters: expected a whole number, got 2.5"),
        ('[print]\nvolume_max_letters = "1000"\n',
         "print.volume_max_letters: expected a number, got a string '1000'"),
        ("[print]\nvolume_max_letters = true\n",
         "print.volume_max_letters: expected a number, got a boolean True"),
        ("[print]\nvolume_max_letters = nan\n",
         "print.volume_max_letters: expected a number from 1 to 100000, got nan"),
        ('[print]\nduplex = "yes"\n', "print.duplex: expected a boolean, got a string 'yes'"),
        ("[print]\nduplex = 1\n", "print.duplex: expected a boolean, got an integer 1"),
        ('[print]\nsplit_by_language = "false"\n',
         "print.split_by_language: expected a boolean, got a string 'false'"),
        ('[print]\ncolour = "black"\n', "print.colour: unknown key"),
        ("[print]\nwindow = { left_mm = -1 }\n",
         "print.window.left_mm: expected a number from 0 to 150, got -1"),
        ("[print]\nwindow = { top_mm = -0.5 }\n",
         "print.window.top_mm: expected a number from 0 to 200, got -0.5"),
        ('[print]\nwindow = { width_mm = "85" }\n',
         "print.window.width_mm: expected a number, got a string '85'"),
        ("[print]\nwindow = { bottom_mm = 15 }\n", "print.window.bottom_mm: unknown key"),
        ("[print]\nwindow = { height_mm = 20 }\n",
         "print.window: the window must lie on the A4 sheet and hold 5 lines"),
        ("[print]\nwindow = { left_mm = 130, width_mm = 85 }\n",
         "print.window: the window must lie on the A4 sheet and hold 5 lines"),
        ('[print]\nwindow = "left"\n', "print.window: expected a table, got a string"),
    ],
)  # fmt: skip
def test_a_bad_print_value_names_its_key(config_file: Path, table: str, message: str) -> None:
    """Each mistake names the file, the line holding the key, and the key path."""
    path = with_print(config_file, table)
    with pytest.raises(ConfigError) as caught:
        loaded(path)
    error = caught.value
    assert error.line is not None, str(error)
    assert str(error).startswith(f"{path}:{error.line}: {message}"), str(error)
    assert error.key is not None
    leaf = error.key.rsplit(".", 1)[-1]
    assert leaf in path.read_text(encoding="utf-8").splitlines()[error.line - 1]


def test_a_window_below_the_bottom_of_the_sheet_is_refused(config_file: Path) -> None:
    """A window from 200 mm down, 100 mm tall, ends at 300 mm: below the 297 mm of an A4
    sheet, so no address printed there can show through an envelope."""
    path = with_print(config_file, "[print]\nwindow = { top_mm = 200, height_mm = 100 }\n")
    with pytest.raises(ConfigError) as caught:
        loaded(path)
    assert caught.value.key is not None
    assert caught.value.key.startswith("print.window"), str(caught.value)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ('[letters]\ntemplate = "templates/letters"',
         "letters.template: unknown key"),
        ('[letters]\ntemplates = ""', "letters.templates: must not be empty"),
        ("[letters]\ntemplates = 3", "letters.templates: expected a string, got an integer 3"),
        ('[letters]\ntemplates = "nowhere"', "letters.templates: no such folder"),
    ],
)  # fmt: skip
def test_a_bad_letters_table_names_its_key(config_file: Path, new: str, message: str) -> None:
    path = edited(config_file, EXAMPLE_LETTERS, new)
    with pytest.raises(ConfigError) as caught:
        loaded(path)
    assert str(caught.value).startswith(f"{path}:{caught.value.line}: {message}"), caught.value


@pytest.mark.parametrize(
    "url",
    ["gent.example/afspraak", "ftp://gent.example/afspraak", "www.gent.example",
     "https://gent.example/af spraak", "mailto:burgerzaken@gent.example", "https://"],
)  # fmt: skip
def test_an_appointment_url_must_be_a_web_address(config_file: Path, url: str) -> None:
    """Only http(s):// addresses: what the letters print must be something to type in a
    browser."""
    path = edited(config_file, GENT_URL, f'appointment_url = "{url}"')
    with pytest.raises(ConfigError) as caught:
        loaded(path)
    error = caught.value
    assert error.key == "municipalities[0].sender.appointment_url"
    assert error.line is not None
    assert "appointment_url" in path.read_text(encoding="utf-8").splitlines()[error.line - 1]
    assert str(error) == (
        f"{path}:{error.line}: municipalities[0].sender.appointment_url: "
        "expected a web address starting with https://"
    )
