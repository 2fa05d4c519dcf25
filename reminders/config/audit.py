"""``[audit]``: the dispatch log's signing key and its public half."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reminders.config.table import Table
from reminders.errors import ConfigError

DEFAULT_SIGNING_KEY = "var/keys/dispatch-log.key"  # relative to config.toml, like the database


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """The dispatch log's signing key (``[audit]`` in config.toml): the private key signs
    each run's checkpoint; auditors verify with the public key alone."""

    signing_key: Path  # Ed25519, PKCS#8 PEM; `reminders init` makes one when none exists
    public_key: Path  # its public half (PEM), the file an auditor is given
    key_name: str = "reminders"  # the signer's name in the signed checkpoints


def audit_options_of(root: Table, base: Path) -> AuditOptions:
    table = root.table("audit", required=False)
    signing_key, public_key, key_name = DEFAULT_SIGNING_KEY, None, "reminders"
    if table is not None:
        signing_key = table.text("signing_key", required=False) or signing_key
        public_key = table.text("public_key", required=False)
        key_name = table.text("key_name", required=False) or key_name
        if not key_name.isprintable() or " " in key_name or "+" in key_name:
            raise table.error("key_name", "expected one word without spaces or '+'")
        table.finish()
    private = base / signing_key
    # By default the public key sits beside the private one: dispatch-log.key -> .pub
    public = base / public_key if public_key else private.with_suffix(".pub")
    if public == private:
        raise ConfigError(root.path, "must differ from audit.signing_key", key="audit.public_key")
    return AuditOptions(private, public, key_name)
