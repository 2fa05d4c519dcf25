"""A published entry's bytes read back (`entry_from_bytes`): the entry they are the canonical
form of, or a refusal; and orjson's fast canonical check against the definition."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminders.domain.dispatch_log import (
    LogAppender,
    LogEntry,
    LogEvent,
    NewEntry,
    canonical_json,
    genesis_hash,
    is_canonical_form,
    log_timestamp,
)
from reminders.domain.log_records import EntryFormatError, entry_from_bytes

NIS = "21004"
AT = log_timestamp(datetime(2027, 3, 1, 0, 30, tzinfo=UTC))
LETTER = NewEntry(
    4, LogEvent.LETTER, AT, {"volume": "volume-001.pdf", "page": 3, "note": "Ölçü \u2028 ✓"},
    document_kind="eid", document_number="592123456789", stage="first", language="de",
    reference="21004-000004-000001", holder="85073003328",
)  # fmt: skip


def _entry() -> LogEntry:
    appender = LogAppender.empty(NIS, salt=lambda: bytes(16))
    appender.append(NewEntry(4, LogEvent.RUN, AT, {"date": "2027-03-01"}))
    entry, _ = appender.append(LETTER)
    return entry


ENTRY = _entry()
DATA = ENTRY.canonical()


def _fields() -> dict[str, object]:
    fields: dict[str, object] = json.loads(DATA)
    return fields


def test_an_entrys_canonical_bytes_give_the_entry_back_with_its_hashes() -> None:
    assert entry_from_bytes(DATA, ENTRY.prev_hash) == ENTRY
    assert entry_from_bytes(DATA, genesis_hash(NIS)).entry_hash != ENTRY.entry_hash


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"\xff\xfe{}",  # not UTF-8
        b"[1, 2]",
        b"{}",
    ],
)
def test_bytes_that_are_no_entry_are_refused(data: bytes) -> None:
    with pytest.raises(EntryFormatError, match="not a log entry"):
        entry_from_bytes(data, ENTRY.prev_hash)


def test_an_extra_or_a_missing_field_is_refused() -> None:
    extra = {**_fields(), "holder": "85073003328"}
    missing = {key: value for key, value in _fields().items() if key != "stage"}
    for fields in (extra, missing):
        with pytest.raises(EntryFormatError, match="unexpected fields"):
            entry_from_bytes(canonical_json(fields).encode(), ENTRY.prev_hash)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("seq", "1"), ("seq", 1.0), ("run_id", "4"), ("municipality_nis", 21004),
        ("event", None), ("recorded_at", None), ("details", {"page": 3}),
        ("document_kind", 1.5), ("document_number", 592123456789), ("stage", ["first"]),
        ("reason", True), ("language", {"de": 1}), ("reference", 7),
    ],
)  # fmt: skip
def test_a_field_of_the_wrong_type_is_refused(key: str, value: object) -> None:
    data = canonical_json({**_fields(), key: value}).encode()
    with pytest.raises(EntryFormatError, match="wrong type"):
        entry_from_bytes(data, ENTRY.prev_hash)


@pytest.mark.parametrize(
    "data",
    [
        json.dumps(json.loads(DATA), sort_keys=True).encode(),  # spaces
        json.dumps(json.loads(DATA), separators=(",", ":")).encode(),  # keys in entry order
        canonical_json(_fields()).replace("Ö", "\\u00d6").encode(),  # escaped non-ASCII
        canonical_json(_fields()).replace("\u2028", "\\u2028").encode(),
        canonical_json(_fields()).replace('"seq":', '"seq": ').encode(),
        canonical_json(_fields()).replace('{"details"', '{"stage":"x","details"').encode(),
    ],
)
def test_the_same_fields_in_other_bytes_are_refused(data: bytes) -> None:
    assert data != DATA
    with pytest.raises(EntryFormatError):
        entry_from_bytes(data, ENTRY.prev_hash)


JSON_TEXT = st.text(st.characters(codec="utf-8"))  # any code point UTF-8 can carry
SCALARS = st.one_of(
    st.none(), st.integers(min_value=-(2**63), max_value=2**64 - 1), st.booleans(), JSON_TEXT
)


@given(st.dictionaries(JSON_TEXT, SCALARS, max_size=12))
def test_orjson_encodes_text_integers_and_null_exactly_as_the_definition(
    value: dict[str, object],
) -> None:
    """The premise of is_canonical_form's fast path: where orjson says yes, so would the
    definition (keys in code point order, the same escapes, non-ASCII as is)."""
    assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == canonical_json(value).encode()
    assert is_canonical_form(value, canonical_json(value).encode())


def test_the_definition_decides_where_orjson_writes_other_bytes() -> None:
    """A float orjson writes otherwise (no entry holds one): the definition's bytes are
    accepted all the same."""
    value = {"x": float("nan")}
    assert orjson.dumps(value) != canonical_json(value).encode()
    assert is_canonical_form(value, canonical_json(value).encode())
