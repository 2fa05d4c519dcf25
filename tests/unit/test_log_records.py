"""Reading entries back from their published bytes (`reminders recover`): the decoding done
apart from the chain gives what reading each entry in the chain gives."""

from __future__ import annotations

import json

import pytest

from reminders.domain.dispatch_log import LogEntry, genesis_hash
from reminders.domain.log_records import (
    DecisionRecord,
    EntryFormatError,
    chained_entry,
    decoded_bundle,
    entry_from_bytes,
    record_with,
)
from reminders.domain.merkle import leaf_hash

DETAILS = {"volume": "2027-03-01-run-1/volume-001.pdf", "page": 3, "pages": 1,
           "templates": "driving_licence.nl", "template_sha256": "ab" * 32,
           "address_sha256": "cd" * 32}  # fmt: skip


def letter(seq: int) -> bytes:
    entry = LogEntry(
        "44021", seq, 1, "letter", "2027-03-01T00:30:00.000000Z", "driving_licence",
        f"DL{seq:08d}", "3_months_before", None, "nl", f"44021-1-{seq}",
        json.dumps(DETAILS, sort_keys=True, separators=(",", ":")), "", "",
    )  # fmt: skip
    return entry.canonical()


def test_a_bundle_decoded_apart_gives_the_entries_read_in_the_chain() -> None:
    entries = [letter(0), letter(1)]
    prev = genesis_hash("44021")
    for data, decoded in zip(entries, decoded_bundle(entries), strict=True):
        assert not isinstance(decoded, str)
        columns, details = decoded
        entry = chained_entry(columns, prev, leaf_hash(data))
        assert entry == entry_from_bytes(data, prev)
        assert details == DETAILS
        record = record_with(entry, details)
        assert isinstance(record, DecisionRecord)
        assert record.letter is not None
        assert record.letter.first_page == 3
        prev = entry.entry_hash


def test_an_entry_not_in_its_canonical_form_is_named_and_the_others_still_decode() -> None:
    spaced = json.dumps(json.loads(letter(1)), sort_keys=True).encode()  # same fields, spaces
    decoded = decoded_bundle([letter(0), spaced, b"{not json"])
    assert not isinstance(decoded[0], str)
    assert decoded[1] == "entry 1 is not in its canonical form"
    assert isinstance(decoded[2], str)
    assert decoded[2].startswith("not a log entry")
    with pytest.raises(EntryFormatError, match="canonical form"):
        entry_from_bytes(spaced, genesis_hash("44021"))
