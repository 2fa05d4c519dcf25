"""The installation's Ed25519 key for the dispatch log's checkpoints, as PEM files.

The private key is written with mode 0600 (only the nightly job's user reads it); the public
key is what an auditor is given. `reminders init` makes a pair when none exists and never
replaces one: a new key would not verify the checkpoints already handed out.
"""

from __future__ import annotations

import os
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

from reminders.domain.checkpoint import Checkpoint, SignedCheckpoint, signed_checkpoint
from reminders.errors import ConfigError


class SigningKey:
    """Signs checkpoints with the installation's private key."""

    def __init__(self, private_key: Ed25519PrivateKey, key_name: str) -> None:
        self.private_key, self.key_name = private_key, key_name

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        return signed_checkpoint(checkpoint, self.private_key, self.key_name)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


def create_key_pair(private_path: Path, public_path: Path) -> bool:
    """Make a key pair unless the private key exists; True when one was made. A missing
    public half of an existing key is written again from it."""
    if private_path.exists():
        if not public_path.exists():
            _write(public_path, _public_pem(load_private_key(private_path).public_key()), 0o644)
        return False
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write(private_path, pem, 0o600)
    _write(public_path, _public_pem(key.public_key()), 0o644)
    return True


def load_signing_key(path: Path, key_name: str) -> SigningKey:
    return SigningKey(load_private_key(path), key_name)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(
            path, "no signing key for the dispatch log: run `reminders init` to make one",
            key="audit.signing_key",
        ) from err  # fmt: skip
    except OSError as err:
        raise ConfigError(path, f"cannot read the signing key: {err.strerror}") from err
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise ConfigError(path, f"not an unencrypted PEM private key: {err}") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(path, f"expected an Ed25519 key, got {type(key).__name__}")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except FileNotFoundError as err:
        raise ConfigError(path, "no such public key file") from err
    except OSError as err:
        raise ConfigError(path, f"cannot read the public key: {err.strerror}") from err
    except ValueError as err:
        raise ConfigError(path, f"not a PEM public key: {err}") from err
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(path, f"expected an Ed25519 public key, got {type(key).__name__}")
    return key


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def _write(path: Path, content: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
