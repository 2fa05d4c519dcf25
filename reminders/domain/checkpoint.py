"""Signed checkpoints of a dispatch log: tree size and Merkle root, signed with Ed25519.

The text follows the transparency-log conventions of C2SP (tlog-checkpoint inside a
signed-note): an origin line naming the log, the tree size, the root hash in base64, extension
lines (when, which run), a blank line, and one signature line per signer:

    reminders/dispatch-log/21004
    1234
    Hq5N...base64...=
    time 2026-11-25T00:31:02Z
    run 42

    — reminders AbCd...base64(key id || signature)...

An auditor keeps these files; with the public key alone they prove that the log held exactly
these entries at that size, and that nothing of them was changed or removed since.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_ORIGIN_PREFIX = "reminders/dispatch-log/"
_SIGNATURE_PREFIX = "— "  # an em dash and a space (signed-note)
_ED25519 = b"\x01"  # signed-note's signature type for Ed25519


class CheckpointFormatError(ValueError):
    """The text is not a signed checkpoint; the message says what is wrong."""


def log_origin(municipality_nis: str) -> str:
    """The name of a municipality's log: a checkpoint of one log never passes for another's."""
    return f"{_ORIGIN_PREFIX}{municipality_nis}"


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """signed-note's key hash: the first 4 bytes of SHA-256(name, newline, type, key)."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(key_name.encode() + b"\n" + _ED25519 + raw).digest()[:4]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What is signed: a municipality's log had ``tree_size`` entries with this root."""

    municipality_nis: str
    tree_size: int
    root_hash: bytes
    signed_at: datetime  # aware
    run_id: int | None = None

    def body(self) -> str:
        stamp = self.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [
            log_origin(self.municipality_nis),
            str(self.tree_size),
            base64.b64encode(self.root_hash).decode(),
            f"time {stamp}",
        ]
        if self.run_id is not None:
            lines.append(f"run {self.run_id}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint with its signature, as kept in the database and in files."""

    checkpoint: Checkpoint
    key_name: str
    key_id: bytes  # 4 bytes
    signature: bytes  # 64 bytes, Ed25519 over the body's UTF-8 bytes

    def note(self) -> str:
        """The text written to checkpoint files (signed-note format)."""
        signed = base64.b64encode(self.key_id + self.signature).decode()
        return f"{self.checkpoint.body()}\n{_SIGNATURE_PREFIX}{self.key_name} {signed}\n"

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        """True when the signature is this key's over exactly this checkpoint's text."""
        if self.key_id != key_id(self.key_name, public_key):
            return False
        try:
            public_key.verify(self.signature, self.checkpoint.body().encode())
        except InvalidSignature:
            return False
        return True


def signed_checkpoint(
    checkpoint: Checkpoint, private_key: Ed25519PrivateKey, key_name: str
) -> SignedCheckpoint:
    """Sign a checkpoint's text."""
    return SignedCheckpoint(
        checkpoint,
        key_name,
        key_id(key_name, private_key.public_key()),
        private_key.sign(checkpoint.body().encode()),
    )


def is_log_origin(name: str) -> bool:
    """Whether a key name names one municipality's log (its own key), not the installation."""
    return name.startswith(_ORIGIN_PREFIX)


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public key an auditor verifies with, and what it may have signed: its name (the
    installation's, or a municipality's log origin: then that log only) and, when the
    configuration says so, the moments it signed between."""

    name: str
    public_key: Ed25519PublicKey
    valid_from: datetime | None = None  # aware; None: from the start
    valid_until: datetime | None = None  # when the next key took over; None: still signing
    source: str = ""  # where it was read from, for messages

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @property
    def label(self) -> str:
        """How reports name the key: its name and key id, as signed-note writes them."""
        return f"{self.name}+{self.key_id.hex()}"

    def vkey(self) -> str:
        """The key as a signed-note verifier key: name+keyid+base64(type || key)."""
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.label}+{base64.b64encode(_ED25519 + raw).decode()}"

    def refusal(self, signed: SignedCheckpoint) -> str | None:
        """Why this key did not sign ``signed`` (None: it did)."""
        if signed.key_name != self.name or signed.key_id != self.key_id:
            return "another key"
        origin = log_origin(signed.checkpoint.municipality_nis)
        if is_log_origin(self.name) and self.name != origin:
            return f"the key of another municipality's log ({self.label})"
        if not signed.signed_by(self.public_key):
            return "a signature that does not match the checkpoint: forged or altered"
        moment = signed.checkpoint.signed_at
        if self.valid_from is not None and moment < self.valid_from:
            return f"{self.label} before it was in use (from {self.valid_from.isoformat()})"
        if self.valid_until is not None and moment >= self.valid_until:
            return f"{self.label} after it was replaced ({self.valid_until.isoformat()})"
        return None


def parsed_vkey(text: str) -> tuple[str, Ed25519PublicKey]:
    """A signed-note verifier key (``name+keyid+base64(0x01 || key)``): its name and key."""
    name, key_hash, encoded = [*text.strip().split("+", 2), "", ""][:3]  # base64 has "+"
    try:
        raw = base64.b64decode(encoded, validate=True)
        if not name or len(raw) != 33 or raw[:1] != _ED25519:
            raise ValueError("expected name+keyid+base64 of an Ed25519 key")
        public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError as err:  # binascii.Error is a ValueError
        raise CheckpointFormatError(f"not a verifier key: {err}") from err
    if key_hash != key_id(name, public_key).hex():
        raise CheckpointFormatError("not a verifier key: its key id does not match its key")
    return name, public_key


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The public keys an auditor verifies with: a checkpoint is valid when one of them signed
    it under its own name, for a log it may sign, at a moment it was in use."""

    keys: tuple[VerifierKey, ...]

    def signer_of(self, signed: SignedCheckpoint) -> VerifierKey | None:
        return next((key for key in self.keys if key.refusal(signed) is None), None)

    def refusal(self, signed: SignedCheckpoint) -> str:
        """Why no key of the ring signed it, in words."""
        reasons = [r for key in self.keys if (r := key.refusal(signed)) != "another key"]
        if reasons:
            return "signed by " + "; ".join(dict.fromkeys(r for r in reasons if r))
        return f"signed by {signed.key_name}+{signed.key_id.hex()}, none of the public keys given"


def parsed_checkpoint(text: str) -> SignedCheckpoint:
    """A signed checkpoint read back from its text (a file or the database); its signature
    is not checked here (see `SignedCheckpoint.signed_by`)."""
    body, separator, signatures = text.partition("\n\n")
    if not separator:
        raise CheckpointFormatError("no blank line between the checkpoint and its signature")
    lines = body.split("\n")
    if len(lines) < 4 or not lines[0].startswith(_ORIGIN_PREFIX):
        raise CheckpointFormatError(f"not a dispatch-log checkpoint (origin {lines[0]!r})")
    try:
        tree_size = int(lines[1])
        root_hash = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error) as err:
        raise CheckpointFormatError(f"bad tree size or root hash: {err}") from err
    extensions = dict(line.partition(" ")[::2] for line in lines[3:])
    try:
        signed_at = datetime.strptime(extensions["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        run_id = int(extensions["run"]) if "run" in extensions else None
    except (KeyError, ValueError) as err:
        raise CheckpointFormatError(f"bad or missing time or run line: {err}") from err
    nis = lines[0].removeprefix(_ORIGIN_PREFIX)
    if not (nis.isdigit() and len(nis) == 5) or tree_size < 0:  # a NIS code has 5 digits
        raise CheckpointFormatError(f"bad origin or tree size ({lines[0]!r}, {lines[1]!r})")
    checkpoint = Checkpoint(nis, tree_size, root_hash, signed_at, run_id)
    if checkpoint.body() != body + "\n" or len(root_hash) != 32:  # SHA-256
        raise CheckpointFormatError("the checkpoint's text is not in its canonical form")
    first = signatures.strip("\n").split("\n")[0]
    name, _, encoded = first.removeprefix(_SIGNATURE_PREFIX).partition(" ")
    if not first.startswith(_SIGNATURE_PREFIX) or not name or not encoded:
        raise CheckpointFormatError("no signature line")
    try:
        signed = base64.b64decode(encoded, validate=True)
    except ValueError as err:  # binascii.Error, or a character outside ASCII
        raise CheckpointFormatError(f"the signature is not base64: {err}") from err
    if len(signed) != 4 + 64:  # key id and Ed25519 signature
        raise CheckpointFormatError("the signature has the wrong length for Ed25519")
    return SignedCheckpoint(checkpoint, name, signed[:4], signed[4:])
