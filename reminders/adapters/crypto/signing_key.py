"""The dispatch log's Ed25519 keys: the private keys that sign checkpoints, read from a file,
an environment variable or a systemd credential; their public halves as PEM or signed-note
verifier key files.

A private key file is written with mode 0600 (only the nightly job's user reads it); the
public key is what an auditor is given. `reminders init` makes a pair when none exists and
never replaces one: a new key would not verify the checkpoints already handed out (a new key
is added, from a moment on, instead: key rotation, config/audit.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from reminders.adapters.crypto.secrets import read_secret
from reminders.adapters.private_files import OWNER_ONLY
from reminders.config import KeySource
from reminders.domain.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    SignedCheckpoint,
    VerifierKey,
    parsed_vkey,
    signed_checkpoint,
)
from reminders.errors import ConfigError


class SigningKey:
    """Signs checkpoints with one private key, under its name."""

    def __init__(self, private_key: Ed25519PrivateKey, key_name: str) -> None:
        self.private_key, self.key_name = private_key, key_name

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        return signed_checkpoint(checkpoint, self.private_key, self.key_name)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


class CheckpointSigners:
    """Signs each municipality's checkpoints with the key in use for it at the checkpoint's
    time: its own newest key whose moment has come, or the installation's key when it has
    none of its own. A key that should sign but whose private half is not here is an error
    naming it, never a fall-back to another key."""

    def __init__(
        self,
        installation: SigningKey | None,
        own: Mapping[str, Sequence[tuple[datetime | None, SigningKey | None, str]]],
    ) -> None:
        self.installation, self.own = installation, own

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        keys = self.own.get(checkpoint.municipality_nis)
        if not keys:
            if self.installation is None:
                raise ConfigError(Path("config.toml"), "no signing key", key="audit.signing_key")
            return self.installation.sign(checkpoint)
        in_use = [k for k in keys if k[0] is None or k[0] <= checkpoint.signed_at]
        if not in_use:
            raise ConfigError(
                Path(keys[0][2]),
                f"no key of {checkpoint.municipality_nis} is in use yet at "
                f"{checkpoint.signed_at.isoformat()} (its first key starts later)",
            )
        _, signer, where = in_use[-1]
        if signer is None:
            raise ConfigError(
                Path(where),
                f"the key in use for {checkpoint.municipality_nis} has no signing_key here",
            )
        return signer.sign(checkpoint)


def create_key_pair(private_path: Path, public_path: Path, key_name: str) -> bool:
    """Make a key pair unless the private key exists; True when one was made. A missing
    public half of an existing key is written again from it. The public half is a PEM file,
    or a signed-note verifier key (with its name) when its name ends in .vkey."""
    if private_path.exists():
        if not public_path.exists():
            key = load_private_key(KeySource(path=private_path))
            _write(public_path, _public_file(key.public_key(), public_path, key_name))
        return False
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write(private_path, pem)
    _write(public_path, _public_file(key.public_key(), public_path, key_name))
    return True


def load_signing_key(
    source: KeySource, key_name: str, environ: Mapping[str, str] | None = None
) -> SigningKey:
    return SigningKey(load_private_key(source, environ), key_name)


def load_private_key(
    source: KeySource, environ: Mapping[str, str] | None = None
) -> Ed25519PrivateKey:
    """The private key from its file, environment variable or systemd credential."""
    data = read_secret(
        source, "the signing key", environ,
        missing="no signing key for the dispatch log: run `reminders init` to make one",
    )  # fmt: skip
    where = source.path or Path(str(source))
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise ConfigError(where, f"not an unencrypted PEM private key: {err}") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(where, f"expected an Ed25519 key, got {type(key).__name__}")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    return load_verifier_key(path, "").public_key


def load_verifier_key(
    path: Path,
    default_name: str,
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> VerifierKey:
    """A public key file: a signed-note verifier key carries its name; a PEM file gets
    ``default_name`` (the name the configuration gives it)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(path, "no such public key file") from err
    except OSError as err:
        raise ConfigError(path, f"cannot read the public key: {err.strerror}") from err
    if not data.lstrip().startswith(b"-----"):
        try:
            name, key = parsed_vkey(data.decode("ascii", errors="replace"))
        except CheckpointFormatError as err:
            raise ConfigError(path, f"not a PEM public key, nor {err}") from err
        return VerifierKey(name, key, valid_from, valid_until, str(path))
    try:
        pem = load_pem_public_key(data)
    except ValueError as err:
        raise ConfigError(path, f"not a PEM public key: {err}") from err
    if not isinstance(pem, Ed25519PublicKey):
        raise ConfigError(path, f"expected an Ed25519 public key, got {type(pem).__name__}")
    return VerifierKey(default_name, pem, valid_from, valid_until, str(path))


def _public_file(key: Ed25519PublicKey, path: Path, key_name: str) -> bytes:
    if path.suffix == ".vkey":
        return (VerifierKey(key_name, key).vkey() + "\n").encode()
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def _write(path: Path, content: bytes) -> None:
    """A new key file (never one that exists), owner-only like every file written."""
    OWNER_ONLY.make_folders(path.parent)
    with OWNER_ONLY.open_binary(path, exclusive=True) as file:
        file.write(content)
