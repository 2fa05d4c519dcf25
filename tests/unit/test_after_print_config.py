"""config.toml for after the print (issue 21): a municipality's release gate, the print
shop's pick-up folder and the appointment page's QR code; every mistake a ConfigError naming
its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminders.config import load_settings
from reminders.domain.release import ReleaseMode
from reminders.errors import ConfigError
from tests.unit.test_print_config import GENT_URL, edited

GENT = 'nis_code = "44021"\n'
WORKERS = "workers = 0 "


def test_release_is_automatic_unless_asked(config_file: Path) -> None:
    """Without `release`, a municipality's volumes go to the print shop with their run, and
    the print shop reads the output folder (no pick-up folder of its own)."""
    settings = load_settings(config_file, environ={})
    assert {m.release for m in settings.municipalities} == {ReleaseMode.AUTO}
    assert settings.print_options.pickup_dir is None


def test_approval_with_a_pickup_folder_is_read(config_file: Path) -> None:
    edited(config_file, GENT, GENT + 'release = "approval"\n')
    edited(config_file, WORKERS, 'pickup_dir = "printshop/in"\n' + WORKERS)
    settings = load_settings(config_file, environ={})
    assert settings.municipality("44021").release is ReleaseMode.APPROVAL
    assert settings.municipality("21004").release is ReleaseMode.AUTO
    assert settings.print_options.pickup_dir == (config_file.parent / "printshop/in").resolve()


def test_approval_needs_a_pickup_folder(config_file: Path) -> None:
    """Held volumes wait where the print shop cannot see them: without a pick-up folder of
    its own the print shop reads them all."""
    edited(config_file, GENT, GENT + 'release = "approval"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config_file, environ={})
    assert raised.value.key == "municipalities[0].release"
    assert "needs [print] pickup_dir" in raised.value.message
    assert raised.value.line is not None
    line = config_file.read_text(encoding="utf-8").splitlines()[raised.value.line - 1]
    assert line == 'release = "approval"'


@pytest.mark.parametrize("pickup", ["var/out", "var/out/pickup", "var", "."])
def test_the_pickup_folder_lies_apart_from_the_output_folder(
    config_file: Path, pickup: str
) -> None:
    edited(config_file, WORKERS, f'pickup_dir = "{pickup}"\n' + WORKERS)
    with pytest.raises(ConfigError, match=r"print\.pickup_dir: the print shop's pick-up folder"):
        load_settings(config_file, environ={})


def test_an_unknown_release_names_the_key(config_file: Path) -> None:
    edited(config_file, GENT, GENT + 'release = "manual"\n')
    with pytest.raises(ConfigError, match=r'municipalities\[0\]\.release: expected one of '
                       r'"auto", "approval", got \'manual\''):  # fmt: skip
        load_settings(config_file, environ={})


def test_an_appointment_code_needs_the_appointment_page(config_file: Path) -> None:
    edited(config_file, GENT_URL, GENT_URL + ", appointment_qr = true")
    assert load_settings(config_file, environ={}).municipality("44021").sender.appointment_qr
    edited(config_file, GENT_URL + ", ", "")
    with pytest.raises(ConfigError, match=r"sender\.appointment_qr: needs appointment_url"):
        load_settings(config_file, environ={})
