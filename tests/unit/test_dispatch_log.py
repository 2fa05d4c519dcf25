"""The dispatch log: a hash chain whose Merkle roots signed checkpoints commit to. Building
one, and every way of tampering with it that `verify_log` must find (and locate)."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.domain.checkpoint import Checkpoint, signed_checkpoint
from reminders.domain.dispatch_log import (
    KnownCheckpoint,
    LogAppender,
    LogEntry,
    LogEvent,
    LogSubject,
    LogVerdict,
    NewEntry,
    canonical_json,
    chained_hash,
    entry_details,
    genesis_hash,
    holder_commitment,
    log_timestamp,
    verify_log,
)
from reminders.domain.merkle import TreeFrontier, leaf_hash
from reminders.domain.merkle import root as merkle_root

Row = tuple[LogEntry, LogSubject | None]

NIS = "21004"
OTHER_NIS = "44021"
HOLDER = "85073003328"
OTHER_HOLDER = "93051822361"
CHANGED_HOLDER = "85073003427"
NATIONAL_NUMBERS = (HOLDER, OTHER_HOLDER, CHANGED_HOLDER)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))
RUN = 7
START = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)


def _at(seconds: int) -> str:
    return log_timestamp(START + timedelta(seconds=seconds))


NEW_ENTRIES = [
    NewEntry(RUN, LogEvent.RUN, _at(0), {"date": "2026-11-25", "registry_import": 3}),
    NewEntry(
        RUN, LogEvent.SKIP, _at(1), {}, "passport", "EP123456", "first", "deceased", holder=HOLDER
    ),
    NewEntry(
        RUN,
        LogEvent.SKIP,
        _at(2),
        {"note": "renewed"},
        document_kind="driving_licence",
        document_number="0123456789",
        stage="second",
        reason="already_renewed",
    ),
    NewEntry(
        RUN,
        LogEvent.LETTER,
        _at(3),
        {"volume": "21004-7-1.pdf", "page": 1},
        document_kind="eid",
        document_number="592123456789",
        stage="first",
        language="nl",
        reference="R-2026-000001",
        holder=HOLDER,
    ),
    NewEntry(
        RUN,
        LogEvent.LETTER,
        _at(4),
        {"volume": "21004-7-1.pdf", "page": 3},
        document_kind="passport",
        document_number="EP654321",
        stage="expired",
        language="fr",
        reference="R-2026-000002",
        holder=OTHER_HOLDER,
    ),
    NewEntry(
        RUN, LogEvent.VOLUME, _at(5), {"file": "21004-7-1.pdf", "sha256": "ab" * 32, "letters": 2}
    ),
    NewEntry(RUN, LogEvent.SEALED, _at(6), {"entries": 7}),
    NewEntry(None, LogEvent.REVEALED, _at(7), {"by": "clerk", "entries": [3]}),
]
SIZE = len(NEW_ENTRIES)
LETTER_SEQ = 3  # the first letter: every column but `reason` is set


def _salts() -> Callable[[], bytes]:
    """A deterministic salt source: the same log is built twice alike."""
    counter = itertools.count()
    return lambda: hashlib.sha256(next(counter).to_bytes(8, "big")).digest()[:16]


def _built(new_entries: Sequence[NewEntry] = NEW_ENTRIES) -> tuple[LogAppender, list[Row]]:
    appender = LogAppender.empty(NIS, salt=_salts())
    return appender, [appender.append(new) for new in new_entries]


APPENDER, ROWS = _built()
ENTRIES = [entry for entry, _ in ROWS]


def _known(
    rows: Sequence[Row],
    *,
    nis: str = NIS,
    valid: bool = True,
    source: str = "test checkpoint",
) -> KnownCheckpoint:
    """A checkpoint signed over the log ``rows``."""
    root = merkle_root(entry.leaf() for entry, _ in rows)
    checkpoint = Checkpoint(nis, len(rows), root, START + timedelta(minutes=5), RUN)
    return KnownCheckpoint(signed_checkpoint(checkpoint, KEY, "reminders"), source, valid)


CHECKPOINT = _known(ROWS)


def _verified(
    rows: Sequence[Row],
    checkpoints: Sequence[KnownCheckpoint] = (CHECKPOINT,),
    stored_sizes: Sequence[int] | None = None,
) -> LogVerdict:
    """verify_log over the rows; no message may ever show a national number."""
    if stored_sizes is None:
        stored_sizes = [known.signed.checkpoint.tree_size for known in checkpoints]
    verdict = verify_log(NIS, rows, checkpoints, stored_sizes=stored_sizes)
    for problem in verdict.problems:
        for number in NATIONAL_NUMBERS:
            assert number not in problem.message
    return verdict


def _messages(verdict: LogVerdict) -> str:
    return "\n".join(problem.message for problem in verdict.problems)


def _first_problem(verdict: LogVerdict) -> tuple[int | None, str]:
    problem = verdict.first_problem
    assert problem is not None, "the log passed as intact"
    return problem.seq, problem.message


# -- an untouched log --------------------------------------------------------------------------


def test_an_untouched_log_is_intact() -> None:
    assert CHECKPOINT.signed.signed_by(KEY.public_key())
    assert CHECKPOINT.signed.checkpoint.root_hash == APPENDER.frontier.root()
    verdict = _verified(ROWS)
    assert verdict.problems == []
    assert verdict.intact
    assert verdict.first_problem is None
    assert (verdict.entries, verdict.checkpoints, verdict.erased_subjects) == (SIZE, 1, 0)


def test_an_empty_log_without_checkpoints_is_intact() -> None:
    verdict = verify_log(NIS, [], [], stored_sizes=[])
    assert verdict.intact
    assert (verdict.entries, verdict.checkpoints) == (0, 0)


def test_the_appender_places_and_chains_the_entries() -> None:
    assert APPENDER.size == SIZE
    assert [entry.seq for entry in ENTRIES] == list(range(SIZE))
    assert ENTRIES[0].prev_hash == genesis_hash(NIS)
    for before, entry in itertools.pairwise(ENTRIES):
        assert entry.prev_hash == before.entry_hash
    for entry in ENTRIES:
        assert entry.municipality_nis == NIS
        assert entry.entry_hash == chained_hash(entry.prev_hash, leaf_hash(entry.canonical()))
    assert APPENDER.head_hash == ENTRIES[-1].entry_hash
    assert [entry.event for entry in ENTRIES] == [new.event.value for new in NEW_ENTRIES]


def test_the_canonical_form_is_every_column_but_the_hashes_as_sorted_compact_json() -> None:
    entry = ENTRIES[LETTER_SEQ]
    columns = {f.name: getattr(entry, f.name) for f in fields(LogEntry)}
    del columns["prev_hash"], columns["entry_hash"]
    expected = json.dumps(columns, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry.canonical() == expected.encode()
    assert entry.leaf() == leaf_hash(entry.canonical())


def test_genesis_hashes_differ_by_municipality() -> None:
    assert genesis_hash(NIS) != genesis_hash(OTHER_NIS)


def test_the_log_keeps_no_national_number_only_a_salted_commitment() -> None:
    holders = {i: new.holder for i, new in enumerate(NEW_ENTRIES) if new.holder is not None}
    assert set(holders) == {1, 3, 4}
    for entry, subject in ROWS:
        for f in fields(LogEntry):
            for number in NATIONAL_NUMBERS:
                assert number not in str(getattr(entry, f.name)), (entry.seq, f.name)
        for number in NATIONAL_NUMBERS:
            assert number.encode() not in entry.canonical()
        details = entry_details(entry)
        if entry.seq in holders:
            assert subject is not None
            assert subject == LogSubject(entry.seq, holders[entry.seq], subject.salt)
            assert details["holder"] == holder_commitment(holders[entry.seq], subject.salt)
        else:
            assert subject is None
            assert "holder" not in details


def test_each_holder_gets_its_own_salt() -> None:
    salts = [subject.salt for _, subject in ROWS if subject is not None]
    assert len(set(salts)) == len(salts) == 3
    commitments = [entry_details(entry)["holder"] for entry in (ENTRIES[1], ENTRIES[3])]
    assert commitments[0] != commitments[1]  # the same holder, not linkable across entries


def test_the_commitment_is_salted_sha256() -> None:
    salt = bytes(16)
    expected = hashlib.sha256(salt + HOLDER.encode()).hexdigest()
    assert holder_commitment(HOLDER, salt) == expected
    assert holder_commitment(HOLDER, b"\x01" * 16) != expected


def test_canonical_json_is_sorted_compact_and_keeps_non_ascii() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'


def test_log_timestamp_is_utc_with_microseconds() -> None:
    assert _at(0) == "2026-11-25T00:30:00.000000Z"


# -- the tree frontier -------------------------------------------------------------------------


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_an_empty_frontier_has_the_empty_tree_root() -> None:
    assert TreeFrontier().root() == hashlib.sha256(b"").digest()


def test_the_frontier_root_equals_the_merkle_root_after_each_of_100_adds() -> None:
    leaves = _leaves(100)
    frontier = TreeFrontier()
    for n, leaf in enumerate(leaves, start=1):
        frontier.add(leaf)
        assert frontier.size == n
        assert len(frontier.subtrees) == n.bit_count()
        assert frontier.root() == merkle_root(leaves[:n]), n


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=100))
def test_the_frontier_root_equals_the_merkle_root_of_any_leaves(leaves: list[bytes]) -> None:
    frontier = TreeFrontier()
    for leaf in leaves:
        frontier.add(leaf)
    assert frontier.size == len(leaves)
    assert frontier.root() == merkle_root(leaves)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 5, 8, 13, 64, 99])
def test_a_frontier_decodes_from_its_encoding_and_grows_alike(size: int) -> None:
    leaves = _leaves(size + 7)
    frontier = TreeFrontier()
    for leaf in leaves[:size]:
        frontier.add(leaf)
    decoded = TreeFrontier.decoded(size, frontier.encoded())
    assert decoded == frontier
    assert decoded.root() == frontier.root()
    for leaf in leaves[size:]:
        decoded.add(leaf)
    assert decoded.root() == merkle_root(leaves)


def test_the_frontier_encoding_is_its_subtree_hashes_in_hex() -> None:
    frontier = TreeFrontier()
    for leaf in _leaves(5):
        frontier.add(leaf)
    parts = frontier.encoded().split(",")
    assert [bytes.fromhex(part) for part in parts] == frontier.subtrees
    assert frontier.subtrees[-1] == _leaves(5)[4]  # 5 = 4 + 1: the last leaf stands alone


@pytest.mark.parametrize(
    ("size", "subtrees"),
    [(5, 1), (5, 3), (5, 0), (0, 1), (1, 0), (8, 2), (7, 2)],
)
def test_a_frontier_with_the_wrong_number_of_subtrees_is_refused(size: int, subtrees: int) -> None:
    text = ",".join(digest.hex() for digest in _leaves(subtrees))
    with pytest.raises(ValueError, match=f"a tree of {size} needs {size.bit_count()} subtrees"):
        TreeFrontier.decoded(size, text)


# -- tampering with entries --------------------------------------------------------------------

COLUMNS = [f.name for f in fields(LogEntry) if f.name not in ("prev_hash", "entry_hash")]


def _changed(entry: LogEntry, column: str) -> Any:
    """Another plausible value for the column."""
    value = getattr(entry, column)
    if column == "details":
        return canonical_json({**entry_details(entry), "page": 99})
    if isinstance(value, int):
        return value + 1  # for seq, lowering it is test_an_entry_moved_back_by_its_seq_...
    if isinstance(value, str):
        return value[:-1] + ("1" if value[-1] != "1" else "2")
    return RUN + 1 if column == "run_id" else "x"


def _with(rows: Sequence[Row], position: int, entry: LogEntry) -> list[Row]:
    edited = list(rows)
    edited[position] = (entry, rows[position][1])
    return edited


@pytest.mark.parametrize("position", [0, LETTER_SEQ, SIZE - 1], ids=["first", "middle", "last"])
@pytest.mark.parametrize("column", COLUMNS)
def test_an_edited_column_is_found_at_its_entry(column: str, position: int) -> None:
    entry = ENTRIES[position]
    edited = replace(entry, **{column: _changed(entry, column)})
    assert edited.canonical() != entry.canonical()
    verdict = _verified(_with(ROWS, position, edited))
    seq, message = _first_problem(verdict)
    assert seq == position
    if column != "seq":  # a moved seq reads first as a gap in the numbering
        assert "was altered" in message
    assert "test checkpoint does not match" in _messages(verdict)


@pytest.mark.parametrize("position", [0, LETTER_SEQ, SIZE - 1], ids=["first", "middle", "last"])
@pytest.mark.parametrize("column", ["entry_hash", "prev_hash"])
def test_an_edited_hash_is_found_at_its_entry(column: str, position: int) -> None:
    entry = ENTRIES[position]
    forged: dict[str, Any] = {column: hashlib.sha256(b"forged").hexdigest()}
    edited = replace(entry, **forged)
    seq, message = _first_problem(_verified(_with(ROWS, position, edited)))
    assert (seq, "was altered" in message) == (position, True)


def test_an_entry_moved_back_by_its_seq_column_is_found_at_its_place() -> None:
    edited = replace(ENTRIES[LETTER_SEQ], seq=1)
    seq, _ = _first_problem(_verified(_with(ROWS, LETTER_SEQ, edited)))
    assert seq == LETTER_SEQ


def test_an_edit_with_the_whole_chain_recomputed_is_caught_by_the_checkpoint_only() -> None:
    forged = replace(NEW_ENTRIES[LETTER_SEQ], reference="R-2026-999999")
    _, rows = _built([*NEW_ENTRIES[:LETTER_SEQ], forged, *NEW_ENTRIES[LETTER_SEQ + 1 :]])
    assert rows[:LETTER_SEQ] == ROWS[:LETTER_SEQ]
    assert _verified(rows, checkpoints=[]).problems[0].message.startswith("no valid signed")
    verdict = _verified(rows)
    assert [p.seq for p in verdict.problems] == [None]
    assert verdict.problems[0].message.startswith("test checkpoint does not match")


def test_a_deleted_entry_is_reported_missing() -> None:
    verdict = _verified([*ROWS[:LETTER_SEQ], *ROWS[LETTER_SEQ + 1 :]])
    seq, message = _first_problem(verdict)
    assert seq == LETTER_SEQ
    assert f"entry {LETTER_SEQ} " in message
    assert "missing" in message
    assert "truncated" in _messages(verdict)  # one entry fewer than the checkpoint covers


def test_deleted_entries_are_reported_as_a_range() -> None:
    seq, message = _first_problem(_verified([*ROWS[:2], *ROWS[5:]]))
    assert seq == 2
    assert "entries 2-4 " in message
    assert "missing" in message


def test_a_deleted_first_entry_is_reported_missing() -> None:
    seq, message = _first_problem(_verified(ROWS[1:]))
    assert seq == 0
    assert "entry 0 " in message
    assert "missing" in message


def _forged_letter() -> NewEntry:
    return replace(NEW_ENTRIES[LETTER_SEQ], reference="R-2026-000666", holder=None)


def test_a_naively_inserted_entry_is_found() -> None:
    """An entry inserted with made-up hashes."""
    forged = replace(
        ENTRIES[LETTER_SEQ], reference="R-2026-000666", prev_hash="00" * 32, entry_hash="11" * 32
    )
    verdict = _verified([*ROWS[:LETTER_SEQ], (forged, None), *ROWS[LETTER_SEQ:]])
    seq, message = _first_problem(verdict)
    assert seq == LETTER_SEQ
    assert "altered" in message


def test_an_inserted_entry_hashed_onto_its_predecessor_is_found() -> None:
    """An entry that is well formed and follows its predecessor: the first break is the place
    after it, where the next entry no longer follows and repeats its number."""
    appender = LogAppender.empty(NIS, salt=_salts())
    for new in NEW_ENTRIES[:LETTER_SEQ]:
        appender.append(new)
    forged, _ = appender.append(_forged_letter())
    verdict = _verified([*ROWS[:LETTER_SEQ], (forged, None), *ROWS[LETTER_SEQ:]])
    seq, _ = _first_problem(verdict)
    assert seq == LETTER_SEQ + 1
    assert "inserted, deleted or moved" in _messages(verdict)


def test_an_insertion_with_the_chain_recomputed_is_caught_by_the_checkpoint() -> None:
    new_entries = [*NEW_ENTRIES[:LETTER_SEQ], _forged_letter(), *NEW_ENTRIES[LETTER_SEQ:]]
    _, rows = _built(new_entries)
    assert rows[:LETTER_SEQ] == ROWS[:LETTER_SEQ]
    verdict = _verified(rows)
    assert not verdict.intact
    assert "test checkpoint does not match" in _messages(verdict)
    assert "covered by no signed checkpoint" in _messages(verdict)  # the extra entry


def test_an_insertion_that_keeps_the_size_is_caught_by_the_checkpoint_alone() -> None:
    """The forger drops the last entry so the size still fits the checkpoint."""
    new_entries = [*NEW_ENTRIES[:LETTER_SEQ], _forged_letter(), *NEW_ENTRIES[LETTER_SEQ:-1]]
    _, rows = _built(new_entries)
    verdict = _verified(rows)
    assert len(verdict.problems) == 1
    seq, message = _first_problem(verdict)
    assert seq is None
    assert message.startswith("test checkpoint does not match")


def test_swapped_entries_are_found_at_the_first_of_them() -> None:
    rows = list(ROWS)
    rows[2], rows[3] = rows[3], rows[2]
    verdict = _verified(rows)
    seq, _ = _first_problem(verdict)
    assert seq == 2
    assert "moved" in _messages(verdict)
    assert "does not match" in _messages(verdict)


def test_a_truncated_log_is_found_against_the_checkpoint_of_its_former_size() -> None:
    verdict = _verified(ROWS[:-2])
    seq, message = _first_problem(verdict)
    assert seq == SIZE - 2
    assert "truncated" in message
    assert f"test checkpoint covers {SIZE} entries" in message


def test_a_truncated_log_is_found_by_a_checkpoint_kept_outside() -> None:
    """The stored checkpoint was cut back with the log; a file kept by an auditor was not."""
    stored = _known(ROWS[:-1], source="stored checkpoint")
    outside = _known(ROWS, source="auditor.checkpoint")
    verdict = _verified(ROWS[:-1], [stored, outside], stored_sizes=[SIZE - 1])
    seq, message = _first_problem(verdict)
    assert seq == SIZE - 1
    assert "truncated" in message
    assert f"auditor.checkpoint covers {SIZE} entries" in message


def test_a_truncation_matching_every_checkpoint_goes_unseen() -> None:
    """Why checkpoints are kept outside the database: without one of the larger size, the
    shorter log is a valid log."""
    assert _verified(ROWS[:-1], [_known(ROWS[:-1])]).intact


def test_an_entry_appended_after_the_checkpoint_is_covered_by_none() -> None:
    appender, rows = _built()
    rows.append(appender.append(NewEntry(RUN, LogEvent.SKIP, _at(9), {}, reason="late")))
    verdict = _verified(rows)
    seq, message = _first_problem(verdict)
    assert seq == SIZE
    assert f"entry {SIZE} " in message
    assert "covered by no signed checkpoint" in message
    assert len(verdict.problems) == 1


def test_a_log_without_any_stored_checkpoint_is_reported() -> None:
    verdict = _verified(ROWS, checkpoints=[])
    assert [p.seq for p in verdict.problems] == [None]
    assert "no valid signed checkpoint" in verdict.problems[0].message


def test_a_checkpoint_without_valid_signature_is_reported_with_the_reason() -> None:
    verdict = _verified(ROWS, [_known(ROWS, valid=False)])
    seq, message = _first_problem(verdict)
    assert seq is None
    assert message.startswith("test checkpoint (size 8) has no valid signature: ")
    assert message.endswith("no valid signature by the installation's key")  # the key ring's why
    assert "no valid signed checkpoint is stored" in _messages(verdict)
    assert verdict.checkpoints == 1


def test_a_checkpoint_of_another_municipality_is_reported() -> None:
    verdict = _verified(ROWS, [CHECKPOINT, _known(ROWS, nis=OTHER_NIS, source="other.txt")])
    assert [p.seq for p in verdict.problems] == [None]
    assert verdict.problems[0].message.startswith("other.txt ")
    assert f"the log of {OTHER_NIS}" in verdict.problems[0].message
    assert verdict.checkpoints == 2


def test_a_checkpoint_of_another_municipality_does_not_seal_this_log() -> None:
    verdict = _verified(ROWS, [_known(ROWS, nis=OTHER_NIS)])
    assert "no valid signed checkpoint is stored" in _messages(verdict)


def test_a_log_of_another_municipality_is_not_this_log() -> None:
    """The same entries written to another municipality's log fail from the first."""
    appender = LogAppender.empty(OTHER_NIS, salt=_salts())
    rows = [appender.append(new) for new in NEW_ENTRIES]
    seq, message = _first_problem(_verified(rows))
    assert (seq, "altered" in message) == (0, True)


def test_a_checkpoint_over_another_root_is_reported() -> None:
    signed = CHECKPOINT.signed
    other = replace(signed.checkpoint, root_hash=hashlib.sha256(b"x").digest())
    forged = signed_checkpoint(other, KEY, signed.key_name)
    verdict = _verified(ROWS, [KnownCheckpoint(forged, "test checkpoint", True)])
    assert [p.seq for p in verdict.problems] == [None]
    assert "test checkpoint does not match" in _messages(verdict)


def test_every_checkpoint_is_checked_at_its_size() -> None:
    checkpoints = [_known(ROWS[:n], source=f"checkpoint {n}") for n in (1, 4, SIZE)]
    assert _verified(ROWS, checkpoints).intact
    edited = replace(ENTRIES[2], reason="other_reason")
    verdict = _verified(_with(ROWS, 2, edited), checkpoints)
    mismatched = [p.message.split(" does not match")[0] for p in verdict.problems if p.seq is None]
    assert mismatched == ["checkpoint 4", f"checkpoint {SIZE}"]


# -- the holders beside the log ----------------------------------------------------------------


def _with_subject(position: int, subject: LogSubject | None) -> list[Row]:
    rows = list(ROWS)
    rows[position] = (rows[position][0], subject)
    return rows


def test_a_changed_national_number_no_longer_matches_its_commitment() -> None:
    subject = ROWS[LETTER_SEQ][1]
    assert subject is not None
    changed = replace(subject, national_number=CHANGED_HOLDER)
    verdict = _verified(_with_subject(LETTER_SEQ, changed))
    assert len(verdict.problems) == 1
    seq, message = _first_problem(verdict)
    assert seq == LETTER_SEQ
    assert "holder kept beside it was altered" in message


def test_a_changed_salt_no_longer_matches_its_commitment() -> None:
    subject = ROWS[1][1]
    assert subject is not None
    seq, message = _first_problem(_verified(_with_subject(1, replace(subject, salt=bytes(16)))))
    assert (seq, "no longer matches the entry's commitment" in message) == (1, True)


def test_a_holder_added_beside_an_entry_without_one_is_reported() -> None:
    verdict = _verified(_with_subject(2, LogSubject(2, HOLDER, bytes(16))))
    seq, message = _first_problem(verdict)
    assert seq == 2
    assert "holder" in message


def test_an_erased_holder_is_counted_not_a_problem() -> None:
    verdict = _verified(_with_subject(LETTER_SEQ, None))
    assert verdict.intact
    assert verdict.erased_subjects == 1


def test_all_holders_erased_leaves_the_log_intact() -> None:
    verdict = _verified([(entry, None) for entry in ENTRIES])
    assert verdict.intact
    assert verdict.erased_subjects == 3


# -- messages ------------------------------------------------------------------------------


def test_entries_are_described_without_personal_data() -> None:
    described = [entry.described() for entry in ENTRIES]
    for fact in ("entry 1 ", "skip", "passport", "EP123456", "first", "deceased", "run 7"):
        assert fact in described[1]
    for fact in (f"entry {LETTER_SEQ} ", "letter", "R-2026-000001"):
        assert fact in described[LETTER_SEQ]
    for text in described:
        for number in NATIONAL_NUMBERS:
            assert number not in text
