"""config.toml's [campaigns.<id>] tables: the example loads, and every mistake names
config.toml, the key path and, where it can be told, the line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from reminders.config import load_settings
from reminders.domain.campaign import Selection
from reminders.domain.model import DocumentKind
from reminders.errors import ConfigError
from tests.unit.test_config import write

KEY = "campaigns.paper-licences-2033"


def test_the_example_campaign_loads(config_file: Path) -> None:
    """The paper-licence exchange: weekdays, 100 a day, every municipality, valid until
    19 January 2033, last sending day 29 October 2032."""
    (campaign,) = load_settings(config_file, environ={}).campaigns
    assert campaign.id == "paper-licences-2033"
    assert campaign.kind is DocumentKind.DRIVING_LICENCE
    assert campaign.selection is Selection.WITHOUT_EXPIRY_DATE
    assert (campaign.starts_on, campaign.last_day) == (date(2031, 1, 6), date(2032, 10, 29))
    assert campaign.valid_until == date(2033, 1, 19)
    assert (campaign.letters_per_day, campaign.weekdays) == (100, (0, 1, 2, 3, 4))
    assert campaign.municipalities is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("letters_per_day = 100", "letters_per_day = 0",
         f"{KEY}.letters_per_day: expected a number from 1 to 100000, got 0"),
        ("letters_per_day = 100", "letters_per_day = 2.5",
         f"{KEY}.letters_per_day: expected a whole number, got 2.5"),
        ("letters_per_day = 100", 'letters_per_day = "100"',
         f"{KEY}.letters_per_day: expected a number, got a string '100'"),
        ('kind = "driving_licence"\ndocuments', 'kind = "driving_licenses"\ndocuments',
         f"{KEY}.kind: expected one of driving_licence, eid, kids_id, residence_card, passport, "
         "got 'driving_licenses'"),
        ('documents = "without_expiry_date"', 'documents = "paper"',
         f"{KEY}.documents: expected one of without_expiry_date, expiring_between, got 'paper'"),
        ("starts_on = 2031-01-06", 'starts_on = "6/1/2031"',
         f"{KEY}.starts_on: expected a date YYYY-MM-DD from 1900-01-01 to 2199-12-31, got "
         "'6/1/2031'"),
        ("starts_on = 2031-01-06", "starts_on = 2301-01-06",
         f"{KEY}.starts_on: expected a date YYYY-MM-DD from 1900-01-01 to 2199-12-31, got "
         "'2301-01-06'"),
        ("starts_on = 2031-01-06", "starts_on = 2031-01-06T08:00:00",
         f"{KEY}.starts_on: expected a date like 2031-01-06"),
        ("ends_on = 2032-10-29", "ends_on = 2030-10-29",
         f"{KEY}.ends_on: is before starts_on (2031-01-06)"),
        ("ends_on = 2032-10-29", "ends_on = 2033-02-01",
         f"{KEY}.ends_on: must be before valid_until (2033-01-19)"),
        ('weekdays = ["mon", "tue", "wed", "thu", "fri"]', 'weekdays = ["mon", "tues"]',
         f"{KEY}.weekdays: expected days among mon, tue, wed, thu, fri, sat, sun, got 'tues'"),
        ('weekdays = ["mon", "tue", "wed", "thu", "fri"]', 'weekdays = ["mon", "mon"]',
         f"{KEY}.weekdays: 'mon' is listed twice"),
        ('# municipalities = ["44021"]', 'municipalities = ["44022"]',
         f"{KEY}.municipalities: '44022' is not a configured municipality "
         "(known: 44021, 21004, 63023)"),
        ("valid_until = 2033-01-19 ", "expiring_from = 2031-01-01\nvalid_until = 2033-01-19 ",
         f"{KEY}.expiring_from: only for documents = \"expiring_between\""),
        ("letters_per_day = 100", "letters_per_day = 100\nletter_per_day = 5",
         f"{KEY}.letter_per_day: unknown key"),
    ],
)  # fmt: skip
def test_campaign_mistakes_name_the_file_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """Each error names config.toml, the line of the bad key and its path."""
    path = write(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    error = caught.value
    assert error.line is not None, str(error)
    assert str(error).startswith(f"{path}:{error.line}: {message}"), str(error)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[campaigns.paper-licences-2033]", "[campaigns.Paper_Licences]",
         "campaigns.Paper_Licences: expected a campaign id of lower-case words joined by hyphens"),
        ("[campaigns.paper-licences-2033]", "[campaigns.exchange]",
         "campaigns.exchange: expected a campaign id of lower-case words joined by hyphens"),
        ("letters_per_day = 100 ", "# ",
         f"{KEY}.letters_per_day: missing required key"),
        ("valid_until = 2033-01-19 ", "",
         f"{KEY}.valid_until: missing required key: the end of validity"),
        ('documents = "without_expiry_date"', 'documents = "expiring_between"',
         f"{KEY}.expiring_from: missing required key (documents = \"expiring_between\")"),
    ],
)  # fmt: skip
def test_campaign_ids_and_missing_keys_are_named(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """A bad id (a stage name has no hyphen, so an id must have one) or a missing key names
    config.toml and the key path."""
    path = write(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value).startswith(str(path)), str(caught.value)
    assert message in str(caught.value)


def test_an_expiring_campaign_takes_its_window_and_refuses_valid_until(tmp_path: Path) -> None:
    """documents = "expiring_between" needs both dates in order; valid_until is refused (the
    letter gives the document's own expiry date)."""
    old = 'documents = "without_expiry_date"'
    window = (
        'documents = "expiring_between"\nexpiring_from = 2031-04-01\nexpiring_until = 2031-06-30'
    )
    path = write(tmp_path, old, window)
    with pytest.raises(ConfigError, match=rf"{KEY}.valid_until: only for documents"):
        load_settings(path, environ={})
    path.write_text(
        path.read_text(encoding="utf-8").replace("valid_until = 2033-01-19 ", ""), encoding="utf-8"
    )
    (campaign,) = load_settings(path, environ={}).campaigns
    assert (campaign.expiring_from, campaign.expiring_until) == (
        date(2031, 4, 1),
        date(2031, 6, 30),
    )
    assert campaign.last_day == date(2032, 10, 29)
    reversed_window = window.replace("2031-06-30", "2031-03-01")
    path = write(tmp_path, old, reversed_window)
    with pytest.raises(ConfigError, match=rf"{KEY}.expiring_until: is before expiring_from"):
        load_settings(path, environ={})
