"""config.toml's [audit] table: where the dispatch log's keys are, and `reminders init`
making a key pair once (mode 0600 for the private half) and never replacing it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reminders.adapters.crypto.signing_key import create_key_pair, load_public_key, load_signing_key
from reminders.config import KeySource, load_settings
from reminders.errors import ConfigError
from tests.unit.test_print_config import edited, loaded

EXAMPLE_AUDIT = (
    '[audit]\nsigning_key = "var/keys/dispatch-log.key"\npublic_key = "var/keys/dispatch-log.pub"\n'
)


def test_the_example_keys_sit_under_var_keys_next_to_the_config(config_file: Path) -> None:
    audit = loaded(config_file).audit
    assert audit.signing_key == KeySource(path=config_file.parent / "var/keys/dispatch-log.key")
    assert audit.public_key == config_file.parent / "var/keys/dispatch-log.pub"
    assert audit.key_name == "reminders"


def test_without_an_audit_table_the_public_key_sits_beside_the_private_one(
    config_file: Path,
) -> None:
    edited(config_file, EXAMPLE_AUDIT, '[audit]\nsigning_key = "keys/log.pem"\n')
    audit = loaded(config_file).audit
    assert audit.signing_key == KeySource(path=config_file.parent / "keys/log.pem")
    assert audit.public_key == config_file.parent / "keys/log.pub"
    edited(config_file, '[audit]\nsigning_key = "keys/log.pem"\n', "")
    path = loaded(config_file).audit.signing_key.path
    assert path is not None
    assert path.name == "dispatch-log.key"


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('[audit]\nsigning_key = "k.pem"\npublic_key = "k.pem"\n', "audit.public_key", "differ"),
        ('[audit]\nkey_name = "my key"\n', "audit.key_name", "one word"),
        ("[audit]\nsigning_key = 3\n", "audit.signing_key", "expected"),
        ('[audit]\nsigning = "k.pem"\n', "audit.signing", ""),
    ],
)
def test_a_wrong_audit_table_names_its_key(
    config_file: Path, table: str, key: str, problem: str
) -> None:
    edited(config_file, EXAMPLE_AUDIT, table)
    with pytest.raises(ConfigError) as raised:
        load_settings(config_file, environ={})
    assert key in raised.value.message
    assert problem in raised.value.message


def test_a_key_pair_is_made_once_and_never_replaced(tmp_path: Path) -> None:
    private, public = tmp_path / "keys" / "log.key", tmp_path / "keys" / "log.pub"
    assert create_key_pair(private, public, "reminders")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    first = private.read_bytes()
    assert not create_key_pair(private, public, "reminders")
    assert private.read_bytes() == first
    public.unlink()  # a lost public half is written again from the private key
    assert not create_key_pair(private, public, "reminders")
    signer = load_signing_key(KeySource(path=private), "reminders")
    assert load_public_key(public) == signer.public_key


def test_a_missing_or_foreign_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run `reminders init`"):
        load_signing_key(KeySource(path=tmp_path / "none.key"), "reminders")
    not_a_key = tmp_path / "text.key"
    not_a_key.write_text("hello", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        load_signing_key(KeySource(path=not_a_key), "reminders")
    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_public_key(not_a_key)
