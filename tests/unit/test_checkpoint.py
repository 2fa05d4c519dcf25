"""Signed checkpoints (C2SP tlog-checkpoint in a signed-note): their text, their signature,
and reading them back."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.domain.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    SignedCheckpoint,
    key_id,
    log_origin,
    parsed_checkpoint,
    signed_checkpoint,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NAME = "reminders"
ROOT = hashlib.sha256(b"the root").digest()
SIGNED_AT = datetime(2026, 11, 25, 0, 31, 2, tzinfo=UTC)
CHECKPOINT = Checkpoint("21004", 1234, ROOT, SIGNED_AT, 42)


def _signed(checkpoint: Checkpoint = CHECKPOINT) -> SignedCheckpoint:
    return signed_checkpoint(checkpoint, KEY, NAME)


def _note() -> str:
    return _signed().note()


def test_the_note_has_the_signed_note_shape() -> None:
    lines = _note().split("\n")
    assert lines[:7] == [
        "reminders/dispatch-log/21004",
        "1234",
        base64.b64encode(ROOT).decode(),
        "time 2026-11-25T00:31:02Z",
        "run 42",
        "",
        lines[6],
    ]
    assert lines[7:] == [""]  # the note ends with one newline
    dash, name, encoded = lines[6].split(" ")
    assert (dash, name) == ("\u2014", NAME)
    signed = base64.b64decode(encoded, validate=True)
    assert len(signed) == 4 + 64
    assert signed[:4] == _independent_key_id(NAME, KEY)
    body = "\n".join(lines[:5]) + "\n"
    KEY.public_key().verify(signed[4:], body.encode())  # raises when not this body's signature


def test_a_checkpoint_without_run_has_no_run_line() -> None:
    lines = _signed(replace(CHECKPOINT, run_id=None)).note().split("\n")
    assert lines[3:5] == ["time 2026-11-25T00:31:02Z", ""]
    assert lines[5].startswith(f"\u2014 {NAME} ")
    assert lines[6:] == [""]


def test_the_time_line_is_in_utc_whatever_the_time_zone_of_the_moment() -> None:
    brussels = SIGNED_AT.astimezone(ZoneInfo("Europe/Brussels"))
    assert brussels.hour == 1
    assert "\ntime 2026-11-25T00:31:02Z\n" in replace(CHECKPOINT, signed_at=brussels).body()


def test_the_origin_names_the_municipality_log() -> None:
    assert log_origin("44021") == "reminders/dispatch-log/44021"
    assert CHECKPOINT.body().startswith("reminders/dispatch-log/21004\n")


@pytest.mark.parametrize("run_id", [42, 0, None])
def test_a_note_reads_back_to_the_same_signed_checkpoint(run_id: int | None) -> None:
    signed = _signed(replace(CHECKPOINT, run_id=run_id))
    parsed = parsed_checkpoint(signed.note())
    assert parsed == signed
    assert parsed.note() == signed.note()
    assert parsed.signed_by(KEY.public_key())


def test_a_note_read_back_has_its_time_in_utc() -> None:
    brussels = SIGNED_AT.astimezone(ZoneInfo("Europe/Brussels"))
    parsed = parsed_checkpoint(_signed(replace(CHECKPOINT, signed_at=brussels)).note())
    assert parsed.checkpoint.signed_at == SIGNED_AT
    assert parsed.checkpoint.signed_at.utcoffset() == timedelta(0)


@settings(max_examples=40, deadline=None)
@given(
    nis=st.from_regex(r"[0-9]{5}", fullmatch=True),
    tree_size=st.integers(0, 2**64),
    root_hash=st.binary(min_size=32, max_size=32),
    signed_at=st.integers(0, 253402300799).map(lambda s: datetime.fromtimestamp(s, UTC)),
    run_id=st.none() | st.integers(0, 2**63),
    key_name=st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True),
)
def test_any_signed_checkpoint_round_trips_through_its_note(
    nis: str,
    tree_size: int,
    root_hash: bytes,
    signed_at: datetime,
    run_id: int | None,
    key_name: str,
) -> None:
    signed = signed_checkpoint(
        Checkpoint(nis, tree_size, root_hash, signed_at, run_id), KEY, key_name
    )
    parsed = parsed_checkpoint(signed.note())
    assert parsed == signed
    assert parsed.note() == signed.note()
    assert parsed.signed_by(KEY.public_key())


def _independent_key_id(name: str, private_key: Ed25519PrivateKey) -> bytes:
    """signed-note's key hash, computed here: SHA-256(name || "\\n" || 0x01 || key)[:4]."""
    raw = private_key.public_key().public_bytes_raw()
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + raw).digest()[:4]


@pytest.mark.parametrize("name", ["reminders", "example.com/log", "a"])
@pytest.mark.parametrize("private_key", [KEY, OTHER_KEY], ids=["zero-key", "other-key"])
def test_key_id_is_the_signed_note_key_hash(name: str, private_key: Ed25519PrivateKey) -> None:
    expected = _independent_key_id(name, private_key)
    assert key_id(name, private_key.public_key()) == expected
    assert signed_checkpoint(CHECKPOINT, private_key, name).key_id == expected


def test_key_ids_differ_by_name_and_by_key() -> None:
    ids = {key_id(name, k.public_key()) for name in ("a", "b") for k in (KEY, OTHER_KEY)}
    assert len(ids) == 4


def test_a_checkpoint_is_signed_by_its_key_only() -> None:
    signed = _signed()
    assert signed.signed_by(KEY.public_key())
    assert not signed.signed_by(OTHER_KEY.public_key())
    assert not signed.signed_by(Ed25519PrivateKey.generate().public_key())


def test_a_renamed_signer_is_not_the_signer() -> None:
    assert not replace(_signed(), key_name="someone-else").signed_by(KEY.public_key())


def test_another_keys_signature_under_this_keys_id_is_not_the_signer() -> None:
    forged = replace(_signed(), signature=OTHER_KEY.sign(CHECKPOINT.body().encode()))
    assert not forged.signed_by(KEY.public_key())


def test_a_wrong_key_id_is_not_the_signer() -> None:
    signed = _signed()
    assert not replace(signed, key_id=bytes(4)).signed_by(KEY.public_key())


def test_a_signature_with_a_flipped_bit_is_not_the_signers() -> None:
    signed = _signed()
    for bit in (0, 255, 511):
        signature = bytearray(signed.signature)
        signature[bit // 8] ^= 1 << (bit % 8)
        assert not replace(signed, signature=bytes(signature)).signed_by(KEY.public_key()), bit


CHANGES: dict[str, dict[str, Any]] = {
    "tree size + 1": {"tree_size": 1235},
    "tree size - 1": {"tree_size": 1233},
    "root": {"root_hash": hashlib.sha256(b"another root").digest()},
    "root, one bit": {"root_hash": bytes([ROOT[0] ^ 1]) + ROOT[1:]},
    "time + 1 s": {"signed_at": SIGNED_AT + timedelta(seconds=1)},
    "time - 1 day": {"signed_at": SIGNED_AT - timedelta(days=1)},
    "run": {"run_id": 43},
    "no run": {"run_id": None},
    "municipality": {"municipality_nis": "44021"},
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_signature_does_not_cover_a_changed_checkpoint(change: dict[str, Any]) -> None:
    signed = _signed()
    tampered = SignedCheckpoint(
        replace(signed.checkpoint, **change), signed.key_name, signed.key_id, signed.signature
    )
    assert tampered.checkpoint != signed.checkpoint
    assert not tampered.signed_by(KEY.public_key())


def test_a_signature_covers_the_added_run_line() -> None:
    signed = _signed(replace(CHECKPOINT, run_id=None))
    tampered = replace(signed, checkpoint=replace(signed.checkpoint, run_id=0))
    assert not tampered.signed_by(KEY.public_key())


def _line_replaced(index: int, line: str) -> Callable[[str], str]:
    def edit(note: str) -> str:
        lines = note.split("\n")
        lines[index] = line
        return "\n".join(lines)

    return edit


def _signature_line(payload: bytes) -> Callable[[str], str]:
    return _line_replaced(6, f"\u2014 {NAME} {base64.b64encode(payload).decode()}")


def _without_line(index: int) -> Callable[[str], str]:
    def edit(note: str) -> str:
        lines = note.split("\n")
        del lines[index]
        return "\n".join(lines)

    return edit


SIGNATURE = _signed().key_id + _signed().signature
MALFORMED: dict[str, tuple[Callable[[str], str], str | None]] = {
    "no blank line": (lambda note: note.replace("\n\n", "\n"), "blank line"),
    "only the body": (lambda note: note.partition("\n\n")[0] + "\n", "blank line"),
    "another log's origin": (
        _line_replaced(0, "example.com/log/21004"),
        "not a dispatch-log checkpoint",
    ),
    "non-numeric size": (_line_replaced(1, "twelve"), "bad tree size"),
    "negative-looking size": (_line_replaced(1, "-"), "bad tree size"),
    "root not base64": (_line_replaced(2, "not*base64!"), "root hash"),
    "root of 31 bytes": (_line_replaced(2, base64.b64encode(ROOT[:31]).decode()), "canonical"),
    "root of 33 bytes": (_line_replaced(2, base64.b64encode(ROOT + b"x").decode()), "canonical"),
    "root of 0 bytes": (_line_replaced(2, "===="), "root hash"),
    "no time line (with run)": (_without_line(3), "missing time"),
    "no time line (nor run)": (
        lambda note: note.replace("time 2026-11-25T00:31:02Z\nrun 42\n", ""),
        None,
    ),
    "time not UTC": (_line_replaced(3, "time 2026-11-25T01:31:02+01:00"), "time"),
    "run not a number": (_line_replaced(4, "run forty-two"), "run"),
    "no signature line": (_line_replaced(6, ""), "no signature line"),
    "signature line without dash": (
        lambda note: note.replace("\u2014 ", "- "),
        "no signature line",
    ),
    "signature line without signature": (_line_replaced(6, f"\u2014 {NAME}"), "no signature"),
    "signature line without name": (
        _line_replaced(6, f"\u2014  {base64.b64encode(SIGNATURE).decode()}"),
        "no signature line",
    ),
    "signature not base64": (_line_replaced(6, f"\u2014 {NAME} not*base64!"), "not base64"),
    "signature one byte short": (_signature_line(SIGNATURE[:-1]), "wrong length"),
    "signature one byte long": (_signature_line(SIGNATURE + b"x"), "wrong length"),
    "signature without key id": (_signature_line(SIGNATURE[4:]), "wrong length"),
    "two spaces after time": (
        _line_replaced(3, "time  2026-11-25T00:31:02Z"),
        "time",
    ),
    "space after the size": (_line_replaced(1, "1234 "), "canonical"),
    "size with leading zero": (_line_replaced(1, "01234"), "canonical"),
    "size with underscore": (_line_replaced(1, "1_234"), "canonical"),
    "run with leading zero": (_line_replaced(4, "run 042"), "canonical"),
    "space at the end of the run line": (_line_replaced(4, "run 42 "), "canonical"),
    "time without leading zeros": (_line_replaced(3, "time 2026-11-25T0:31:2Z"), "canonical"),
    "unknown extension line": (
        lambda note: note.replace("run 42\n", "run 42\nsigner bob\n"),
        "canonical",
    ),
    "root with non-canonical padding bits": (
        _line_replaced(2, base64.b64encode(ROOT).decode()[:-2] + "B="),
        "canonical",
    ),
    "windows line ends": (lambda note: note.replace("\n", "\r\n"), "blank line"),
}


@pytest.mark.parametrize(("edit", "match"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_note_is_refused(edit: Callable[[str], str], match: str | None) -> None:
    note = _note()
    malformed = edit(note)
    assert malformed != note
    with pytest.raises(CheckpointFormatError, match=match):
        parsed_checkpoint(malformed)


def test_the_format_error_is_a_value_error() -> None:
    assert issubclass(CheckpointFormatError, ValueError)


def _mutated(note: str, data: st.DataObject, characters: st.SearchStrategy[str]) -> str:
    """The note with up to 3 characters somewhere replaced by up to 3 others."""
    position = data.draw(st.integers(0, len(note)))
    cut = data.draw(st.integers(0, 3))
    inserted = data.draw(st.text(characters, max_size=3) | st.sampled_from(["\n", "0", "A"]))
    return note[:position] + inserted + note[position + cut :]


def _refused_or_not_verified(mutated: str) -> None:
    """Read back, the text is refused, or it fails the signature, or it says what was signed."""
    try:
        parsed = parsed_checkpoint(mutated)
    except CheckpointFormatError:
        return
    if parsed.signed_by(KEY.public_key()):
        assert parsed.checkpoint == CHECKPOINT
        assert parsed.key_name == NAME


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_note_mutated_anywhere_in_ascii_is_refused_or_no_longer_verifies(
    data: st.DataObject,
) -> None:
    """Only the signed content passes as signed, however the text was changed."""
    note = _note()
    _refused_or_not_verified(_mutated(note, data, st.characters(max_codepoint=127)))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_note_mutated_anywhere_in_any_text_is_refused_or_no_longer_verifies(
    data: st.DataObject,
) -> None:
    note = _note()
    characters = st.characters(codec="utf-8")  # no lone surrogates
    _refused_or_not_verified(_mutated(note, data, characters))


def test_a_signature_with_a_non_ascii_character_is_a_format_error() -> None:
    note = _note()
    malformed = note.replace(f"{NAME} ", f"{NAME} \u00e9")
    with pytest.raises(CheckpointFormatError):
        parsed_checkpoint(malformed)
