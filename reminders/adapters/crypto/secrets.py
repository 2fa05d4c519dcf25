"""Reading a secret (a private key, a password) from where config.toml says it is: a file, an
environment variable, or a systemd credential; never from config.toml itself."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from reminders.config import KeySource
from reminders.errors import ConfigError

CREDENTIALS_VARIABLE = "CREDENTIALS_DIRECTORY"  # systemd's LoadCredential= puts them there


def read_secret(
    source: KeySource,
    what: str,
    environ: Mapping[str, str] | None = None,
    *,
    missing: str | None = None,
) -> bytes:
    """The bytes of ``what`` (named in the messages) from its source; ``missing``, when given,
    is the message for a file that does not exist."""
    environ = os.environ if environ is None else environ
    if source.variable is not None:
        text = environ.get(source.variable)
        if not text:
            raise ConfigError(Path(str(source)), f"is not set ({what})")
        return text.encode()
    path = source.path
    if source.credential is not None:
        directory = environ.get(CREDENTIALS_VARIABLE)
        if not directory:
            raise ConfigError(
                Path(str(source)),
                f"${CREDENTIALS_VARIABLE} is not set (LoadCredential= in the unit)",
            )
        path = Path(directory) / source.credential
    assert path is not None  # noqa: S101 - a KeySource holds exactly one source
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(path, missing or f"cannot read {what}: {err.strerror}") from err
    except OSError as err:
        raise ConfigError(path, f"cannot read {what}: {err.strerror}") from err
