"""config.toml for the e-mail channel (issue 25): a municipality's `channels` per kind and
its `email` table; every mistake a ConfigError naming its key, and no secret in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminders.config import load_settings
from reminders.domain.channels import Channel, ChannelChoice
from reminders.domain.model import DocumentKind
from reminders.errors import ConfigError
from tests.unit.test_print_config import edited

GENT = 'nis_code = "44021"\n'
EMAIL = (
    'email = { relay = "127.0.0.1", port = 2525, tls = "none", dkim_selector = "r1", '
    'dkim_key = "var/keys/dkim.pem", attach_pdf = true, per_second = 5 }\n'
)


def test_without_channels_every_letter_goes_on_paper(config_file: Path) -> None:
    settings = load_settings(config_file, environ={})
    assert {m.channels for m in settings.municipalities} == {ChannelChoice()}
    assert settings.municipality("44021").channels.for_kind(DocumentKind.EID) == (Channel.PAPER,)
    assert {m.email for m in settings.municipalities} == {None}


def test_channels_per_kind_and_the_email_table_are_read(config_file: Path) -> None:
    edited(
        config_file,
        GENT,
        GENT + 'channels = { default = ["paper"], eid = ["email", "paper"] }\n' + EMAIL,
    )
    gent = load_settings(config_file, environ={}).municipality("44021")
    assert gent.channels.for_kind(DocumentKind.EID) == (Channel.EMAIL, Channel.PAPER)
    assert gent.channels.for_kind(DocumentKind.PASSPORT) == (Channel.PAPER,)
    assert gent.email is not None
    assert (gent.email.relay, gent.email.port, gent.email.tls) == ("127.0.0.1", 2525, "none")
    # the sender is the municipality: its sender.email, and the DKIM domain is its domain
    assert (gent.email.from_address, gent.email.dkim_domain) == (
        "burgerzaken@gent.example",
        "gent.example",
    )
    assert gent.email.dkim_key.path == config_file.parent / "var/keys/dkim.pem"
    assert (gent.email.attach_pdf, gent.email.per_second) == (True, 5.0)


def test_email_as_a_channel_needs_the_email_table(config_file: Path) -> None:
    edited(config_file, GENT, GENT + 'channels = ["email", "paper"]\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config_file, environ={})
    assert raised.value.key == "municipalities[0].channels"
    assert "needs an `email` table" in raised.value.message


@pytest.mark.parametrize(
    ("channels", "problem"),
    [
        ('["fax"]', "expected channels among"),
        ('["paper", "paper"]', "listed twice"),
        ("[]", "at least one channel"),
        ('{ library_card = ["paper"] }', "expected default or a kind"),
    ],
)
def test_a_bad_channel_list_names_the_key(config_file: Path, channels: str, problem: str) -> None:
    edited(config_file, GENT, GENT + f"channels = {channels}\n")
    with pytest.raises(ConfigError, match=problem):
        load_settings(config_file, environ={})


def test_the_relay_password_is_never_written_in_config(config_file: Path) -> None:
    """A password is a file, env:NAME or credential:NAME; a key's PEM text is refused too."""
    edited(
        config_file,
        GENT,
        GENT
        + 'channels = ["email", "paper"]\n'
        + EMAIL.replace("}", ', username = "r", password = "credential:smtp" }'),
    )
    email = load_settings(config_file, environ={}).municipality("44021").email
    assert email is not None
    assert email.password is not None
    assert email.password.credential == "smtp"
    edited(config_file, '"credential:smtp"', '"-----BEGIN PRIVATE KEY-----"')
    with pytest.raises(ConfigError, match=r"never be in config\.toml"):
        load_settings(config_file, environ={})


def test_a_bad_sender_or_tls_names_the_key(config_file: Path) -> None:
    edited(config_file, GENT, GENT + EMAIL.replace('tls = "none"', 'tls = "ssl3"'))
    with pytest.raises(ConfigError, match=r"municipalities\[0\]\.email\.tls"):
        load_settings(config_file, environ={})
    edited(config_file, 'tls = "ssl3"', 'tls = "none", from = "not an address"')
    with pytest.raises(ConfigError, match=r"email\.from.*not a valid e-mail address"):
        load_settings(config_file, environ={})
