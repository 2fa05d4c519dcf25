"""``[audit]`` and a municipality's ``keys``: the dispatch log's signing keys and their public
halves.

An installation has one key (``[audit]``) that signs the checkpoints of every municipality
without keys of its own. In a shared installation each municipality may have its own
(``keys`` in its ``[[municipalities]]`` entry), named by its log's origin
(``reminders/dispatch-log/<NIS>``), and a new key takes over from a given moment: the older
keys' public halves stay listed, so the checkpoints they signed still verify. A private key
is read from a file, an environment variable (``env:NAME``) or a systemd credential
(``credential:NAME``, from ``$CREDENTIALS_DIRECTORY``), never from config.toml itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reminders.config.table import Table, type_name
from reminders.errors import ConfigError

DEFAULT_SIGNING_KEY = "var/keys/dispatch-log.key"  # relative to config.toml, like the database
INSTALLATION_KEY_NAME = "reminders"  # the installation key's name by default (key_name)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")  # a variable's or credential's name


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where a private key is read from: exactly one of a file, an environment variable
    holding the PEM text, or a systemd credential (``LoadCredential=``)."""

    path: Path | None = None
    variable: str | None = None
    credential: str | None = None

    def __str__(self) -> str:
        if self.variable is not None:
            return f"environment variable {self.variable}"
        if self.credential is not None:
            return f"systemd credential {self.credential}"
        return str(self.path)


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """The installation's signing key (``[audit]`` in config.toml): the private key signs
    each run's checkpoint; auditors verify with the public key alone."""

    signing_key: KeySource  # Ed25519, PKCS#8 PEM; `reminders init` makes one when none exists
    public_key: Path  # its public half (PEM), the file an auditor is given
    key_name: str = "reminders"  # the signer's name in the signed checkpoints


@dataclass(frozen=True, slots=True)
class MunicipalityKey:
    """One of a municipality's own signing keys: it signs from ``valid_from`` (the first may
    have none: from the start) until the next key's ``valid_from``."""

    public_key: Path  # PEM, or a signed-note verifier key (.vkey) with its name
    signing_key: KeySource | None  # None: retired, or kept off this machine
    valid_from: datetime | None = None  # aware


def key_source(table: Table, name: str, base: Path, *, required: bool) -> KeySource | None:
    """A private key's source: a file path (relative to config.toml), ``env:NAME`` or
    ``credential:NAME``; a key written into config.toml itself is refused."""
    value = table.text(name, required=required)
    if value is None:
        return None
    if "PRIVATE KEY" in value or value.lstrip().startswith("-----"):
        raise table.error(
            name,
            "a private key must never be in config.toml: give its file, env:VARIABLE or "
            "credential:NAME",
        )
    kind, _, rest = value.partition(":")
    if kind in ("env", "credential"):
        if not _NAME.match(rest):
            raise table.error(name, f"expected {kind}:NAME with a plain name, got {value!r}")
        return KeySource(variable=rest) if kind == "env" else KeySource(credential=rest)
    return KeySource(path=base / value)


def audit_options_of(root: Table, base: Path) -> AuditOptions:
    table = root.table("audit", required=False)
    source, public_key, key_name = KeySource(path=base / DEFAULT_SIGNING_KEY), None, "reminders"
    if table is not None:
        source = key_source(table, "signing_key", base, required=False) or source
        public_key = table.text("public_key", required=False)
        key_name = table.text("key_name", required=False) or key_name
        if not key_name.isprintable() or " " in key_name or "+" in key_name:
            raise table.error("key_name", "expected one word without spaces or '+'")
        if key_name.startswith("reminders/dispatch-log/"):
            raise table.error("key_name", "names a municipality's log: give its keys there")
        table.finish()
    if public_key:
        public = base / public_key
    elif source.path is not None:
        # By default the public key sits beside the private one: dispatch-log.key -> .pub
        public = source.path.with_suffix(".pub")
    else:
        raise ConfigError(
            root.path, "needed when the signing key is not a file", key="audit.public_key"
        )
    if public == source.path:
        raise ConfigError(root.path, "must differ from audit.signing_key", key="audit.public_key")
    return AuditOptions(source, public, key_name)


def municipality_keys_of(table: Table, base: Path) -> tuple[MunicipalityKey, ...]:
    """A municipality's ``keys``, oldest first: each a table with ``public_key``, optionally
    ``signing_key`` and ``from`` (an offset date-time, like 2027-06-01T00:00:00+02:00)."""
    entries = table.array("keys", required=False)
    if entries is None:
        return ()
    if not entries:
        raise table.error("keys", "give at least one key, or leave keys out")
    keys: list[MunicipalityKey] = []
    for index, entry in enumerate(entries):
        key = Table(table.path, f"{table.key}.keys[{index}]", entry)
        public = key.required_text("public_key")
        source = key_source(key, "signing_key", base, required=False)
        moment = key.data.get("from")
        key._read.add("from")
        if moment is not None and not (isinstance(moment, datetime) and moment.tzinfo):
            raise key.error(
                "from",
                "expected a date-time with its offset, like 2027-06-01T00:00:00+02:00, got "
                f"{type_name(moment)} {moment!r}",
            )
        if index and moment is None:
            raise key.error("from", "a key after the first needs the moment it signs from")
        before = keys[-1].valid_from if keys else None
        if before is not None and moment is not None and moment <= before:
            raise key.error("from", "keys are listed oldest first: this one starts earlier")
        if source is not None and source.path == base / public:
            raise key.error("public_key", "must differ from signing_key")
        keys.append(MunicipalityKey(base / public, source, moment))
        key.finish()
    return tuple(keys)
