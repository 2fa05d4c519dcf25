"""The dispatch log: per municipality, an append-only chain of entries saying what each run
decided, printed and skipped, and why (issue 6).

Each entry has a canonical form (every column but its hashes, as sorted compact JSON); its
``entry_hash`` is SHA-256 over the previous entry's hash and the RFC 6962 leaf hash of that
form. The leaf hashes also make a Merkle tree (`reminders.domain.merkle`), whose root signed
checkpoints commit to. Editing any column breaks the entry's own hash; deleting, inserting or
moving an entry breaks the link to its predecessor; rewriting the whole chain after that
changes the roots the checkpoints signed; cutting the end off is seen against a checkpoint
kept outside the database.

The log holds no personal data: the holder of a document is recorded as a salted SHA-256
commitment; the national number and the salt sit beside the entry (`LogSubject`), so they can
be shown to who may see them, checked against the commitment, and erased at the end of the
retention period without breaking the chain (domain.md §6.2).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from reminders.domain.checkpoint import SignedCheckpoint
from reminders.domain.merkle import TreeFrontier, leaf_hash


class LogEvent(StrEnum):
    RUN = "run"  # a run began for the municipality: date, config, code, registry read
    SKIP = "skip"  # a (document, stage) that got no letter, and why
    VOLUME = "volume"  # a print volume: file, SHA-256, counts
    LETTER = "letter"  # a letter: document, stage, language, templates, volume and page
    SEALED = "sealed"  # the run's entries for the municipality are complete
    REVEALED = "revealed"  # national numbers were shown unmasked (`audit export --reveal`)
    # After the print (issue 21): each says who, when and on which letter or volume.
    RECUT = "recut"  # a held volume cut again without its cancelled letters, before release
    RELEASED = "released"  # a held volume handed to the print shop (its pick-up folder)
    CANCELLED = "cancelled"  # a printed letter stopped before its volume was released
    REPRINTED = "reprinted"  # a letter printed again, in a reprint volume of its own
    RETURNED = "returned"  # bpost brought a letter back (`reminders returns import`)
    # The e-mail channel (issue 25): a letter the relay accepted by e-mail, and one it
    # refused or that bounced, logged by the run that then prints it on paper.
    EMAILED = "emailed"
    EMAIL_FAILED = "email_failed"


# The events a run writes when it is sealed; the others come later, each sealed on its own.
RUN_EVENTS = frozenset({LogEvent.RUN, LogEvent.SKIP, LogEvent.VOLUME, LogEvent.LETTER,
                        LogEvent.EMAILED, LogEvent.EMAIL_FAILED, LogEvent.SEALED})  # fmt: skip


@dataclass(frozen=True, slots=True)
class LogQuery:
    """What an auditor searches the log for; None matches anything. Times are the log's own
    time stamps (UTC text, log_timestamp), so they compare as text."""

    document_number: str | None = None
    stage: str | None = None
    reason: str | None = None
    event: LogEvent | None = None
    run_id: int | None = None
    recorded_from: str | None = None  # inclusive
    recorded_before: str | None = None  # exclusive


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces, UTF-8 as is: one text per value, on every engine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def is_canonical_form(value: object, data: bytes) -> bool:
    """Whether ``data`` is ``canonical_json(value)`` in UTF-8, ``value`` holding text, integers
    and null only (a decoded log entry). orjson's encoding, some 5x faster, says yes for such
    values exactly when the definition does (tests/unit/test_log_records.py compares them on
    any text); when it says no, the definition decides."""
    return (
        orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == data
        or canonical_json(value).encode() == data
    )


def log_timestamp(moment: datetime) -> str:
    """The log's time stamps: ISO 8601 UTC text with microseconds (aware ``moment``)."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def genesis_hash(municipality_nis: str) -> str:
    """The "previous hash" of a log's first entry: binds the chain to its municipality."""
    return hashlib.sha256(f"reminders dispatch log {municipality_nis}".encode()).hexdigest()


def holder_commitment(national_number: str, salt: bytes) -> str:
    """What the log keeps of a holder: a salted hash (a plain one is guessed in minutes)."""
    return hashlib.sha256(salt + national_number.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry about to be appended; the log assigns its place and hashes."""

    run_id: int | None
    event: LogEvent
    recorded_at: str  # ISO 8601 UTC, kept as text so it reads back identically everywhere
    details: Mapping[str, Any]  # the event's own facts (JSON values)
    document_kind: str | None = None
    document_number: str | None = None
    stage: str | None = None
    reason: str | None = None
    language: str | None = None
    reference: str | None = None  # a letter's reference, as printed on it
    holder: str | None = None  # the holder's national number: committed to, never stored in


@dataclass(frozen=True, slots=True)
class LogEntry:
    """An entry as stored: its columns, in the order of the log."""

    municipality_nis: str
    seq: int  # 0, 1, 2, ...: also its leaf index in the Merkle tree
    run_id: int | None
    event: str
    recorded_at: str
    document_kind: str | None
    document_number: str | None
    stage: str | None
    reason: str | None
    language: str | None
    reference: str | None
    details: str  # canonical JSON of the event's facts
    prev_hash: str  # hex: the previous entry's entry_hash (or the genesis hash)
    entry_hash: str  # hex

    def canonical(self) -> bytes:
        """Every column but the hashes, as the bytes the leaf hash is taken over."""
        return canonical_json(
            {
                "municipality_nis": self.municipality_nis,
                "seq": self.seq,
                "run_id": self.run_id,
                "event": self.event,
                "recorded_at": self.recorded_at,
                "document_kind": self.document_kind,
                "document_number": self.document_number,
                "stage": self.stage,
                "reason": self.reason,
                "language": self.language,
                "reference": self.reference,
                "details": self.details,
            }
        ).encode()

    def leaf(self) -> bytes:
        return leaf_hash(self.canonical())

    def described(self) -> str:
        """How a message names the entry (no personal data)."""
        what = self.event
        if self.reference:
            what += f" {self.reference}"
        elif self.document_kind:
            what += f" {self.document_kind} {self.document_number} {self.stage}"
            if self.reason:
                what += f" ({self.reason})"
        run = f", run {self.run_id}" if self.run_id is not None else ""
        return f"entry {self.seq} ({what}{run})"


@dataclass(frozen=True, slots=True)
class LogSubject:
    """The holder an entry's commitment stands for, kept beside the log."""

    seq: int
    national_number: str
    salt: bytes


def chained_hash(prev_hash: str, leaf: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + leaf).hexdigest()


@dataclass(slots=True)
class LogAppender:
    """Appends entries to one municipality's log: places, commits to holders, hashes."""

    municipality_nis: str
    head_hash: str  # the last entry's hash, or the genesis hash
    frontier: TreeFrontier
    salt: Callable[[], bytes]  # secrets.token_bytes(16) in production
    # Told each entry's canonical bytes and leaf hash as it is appended (the seal stages the
    # published log's tiles with them, instead of reading the entries back).
    observer: Callable[[bytes, bytes], None] | None = None

    @classmethod
    def empty(cls, municipality_nis: str, salt: Callable[[], bytes]) -> LogAppender:
        return cls(municipality_nis, genesis_hash(municipality_nis), TreeFrontier(), salt)

    @property
    def size(self) -> int:
        return self.frontier.size

    def append(self, new: NewEntry) -> tuple[LogEntry, LogSubject | None]:
        details = dict(new.details)
        subject = None
        if new.holder is not None:
            subject = LogSubject(self.size, new.holder, self.salt())
            details["holder"] = holder_commitment(new.holder, subject.salt)
        unhashed = LogEntry(
            self.municipality_nis, self.size, new.run_id, new.event.value, new.recorded_at,
            new.document_kind, new.document_number, new.stage, new.reason, new.language,
            new.reference, canonical_json(details), self.head_hash, "",
        )  # fmt: skip
        canonical = unhashed.canonical()
        leaf = leaf_hash(canonical)
        entry = replace(unhashed, entry_hash=chained_hash(self.head_hash, leaf))
        self.frontier.add(leaf)
        if self.observer is not None:
            self.observer(canonical, leaf)
        self.head_hash = entry.entry_hash
        return entry, subject


@dataclass(frozen=True, slots=True)
class LogProblem:
    """Something verification found; ``seq`` is the first entry concerned, if any."""

    seq: int | None
    message: str


@dataclass(slots=True)
class LogVerdict:
    """What `verify_log` found for one municipality's log."""

    municipality_nis: str
    entries: int = 0
    checkpoints: int = 0  # signed checkpoints checked (stored and outside)
    latest: SignedCheckpoint | None = None  # the newest valid stored checkpoint
    erased_subjects: int = 0  # holders erased (retention): the commitments stay
    problems: list[LogProblem] = field(default_factory=list)
    # Which key signed which stored checkpoints: "name+keyid" -> their tree sizes, ascending.
    signers: dict[str, list[int]] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> LogProblem | None:
        """The first broken entry (lowest seq), else the first problem found."""
        located = [p for p in self.problems if p.seq is not None]
        if located:
            return min(located, key=lambda p: p.seq or 0)
        return next(iter(self.problems), None)


@dataclass(frozen=True, slots=True)
class KnownCheckpoint:
    """A checkpoint to check the log against, and where it came from (for messages)."""

    signed: SignedCheckpoint
    source: str  # "stored checkpoint of run 12" or a file name
    valid_signature: bool
    signer: str | None = None  # the key that signed it (name+keyid), when valid
    refusal: str = "no valid signature by the installation's key"  # why not, when not


def verify_log(
    municipality_nis: str,
    entries: Iterable[tuple[LogEntry, LogSubject | None]],
    checkpoints: Sequence[KnownCheckpoint],
    *,
    stored_sizes: Sequence[int] = (),
) -> LogVerdict:
    """Recompute one municipality's log from its entries and check it against every
    checkpoint. ``stored_sizes`` are the sizes of the database's own checkpoints: entries
    beyond the largest were appended without being sealed."""
    verdict = LogVerdict(municipality_nis)
    by_size: dict[int, list[KnownCheckpoint]] = {}
    for known in checkpoints:
        verdict.checkpoints += 1
        checkpoint = known.signed.checkpoint
        if checkpoint.municipality_nis != municipality_nis:
            verdict.problems.append(
                LogProblem(None, f"{known.source} is for the log of {checkpoint.municipality_nis}")
            )
        elif not known.valid_signature:
            verdict.problems.append(
                LogProblem(
                    None,
                    f"{known.source} (size {checkpoint.tree_size}) has no valid signature: "
                    f"{known.refusal}",
                )
            )
        else:
            by_size.setdefault(checkpoint.tree_size, []).append(known)
    _check_entries(verdict, entries, by_size)
    for size, knowns in sorted(by_size.items()):
        if size > verdict.entries:
            for known in knowns:
                verdict.problems.append(
                    LogProblem(
                        verdict.entries,
                        f"{_span(verdict.entries, size - 1)} missing: the log was truncated "
                        f"({known.source} covers {size} entries, the log has "
                        f"{verdict.entries})",
                    )
                )
    sealed = max((s for s in stored_sizes if s in by_size), default=0)
    if verdict.entries > sealed and sealed == 0:
        verdict.problems.append(
            LogProblem(
                None,
                f"no valid signed checkpoint is stored for the log's {verdict.entries} entries: "
                "its checkpoints were deleted or altered",
            )
        )
    elif verdict.entries > sealed:
        verdict.problems.append(
            LogProblem(
                sealed,
                f"{_span(sealed, verdict.entries - 1)} covered by no signed checkpoint "
                "(added after the last run was sealed)",
            )
        )
    return verdict


def _check_entries(
    verdict: LogVerdict,
    entries: Iterable[tuple[LogEntry, LogSubject | None]],
    by_size: Mapping[int, Sequence[KnownCheckpoint]],
) -> None:
    frontier = TreeFrontier()
    expected_prev = genesis_hash(verdict.municipality_nis)
    expected_seq = 0
    for entry, subject in entries:
        place = frontier.size  # problems are located by place: the seq column may be forged
        if entry.seq > expected_seq:
            missing = _span(expected_seq, entry.seq - 1)
            verdict.problems.append(
                LogProblem(expected_seq, f"{missing} missing: deleted from the log")
            )
        elif entry.seq < expected_seq:
            verdict.problems.append(
                LogProblem(place, f"the entry after entry {expected_seq - 1} is numbered "
                           f"{entry.seq}: renumbered or moved")
            )  # fmt: skip
        expected_seq = max(entry.seq, expected_seq) + 1
        leaf = entry.leaf()
        if entry.municipality_nis != verdict.municipality_nis or (
            chained_hash(entry.prev_hash, leaf) != entry.entry_hash
        ):
            verdict.problems.append(
                LogProblem(place, f"{entry.described()} was altered: its content no "
                           "longer matches its hash")
            )  # fmt: skip
        elif entry.prev_hash != expected_prev:
            verdict.problems.append(
                LogProblem(place, f"{entry.described()} does not follow the entry before "
                           "it: an entry was inserted, deleted or moved here")
            )  # fmt: skip
        _check_subject(verdict, entry, subject)
        expected_prev = entry.entry_hash
        frontier.add(leaf)
        for known in by_size.get(frontier.size, ()):
            if known.signed.checkpoint.root_hash != frontier.root():
                verdict.problems.append(
                    LogProblem(
                        None,
                        f"{known.source} does not match the log's first {frontier.size} entries: "
                        "entries it covers were changed, or the chain was rewritten",
                    )
                )
    verdict.entries = frontier.size


def _span(first: int, last: int) -> str:
    """``entry 7 is`` or ``entries 7-9 are``, for messages."""
    return f"entry {first} is" if last <= first else f"entries {first}-{last} are"


def _check_subject(verdict: LogVerdict, entry: LogEntry, subject: LogSubject | None) -> None:
    holder = entry_details(entry).get("holder")
    if holder is None:
        if subject is not None:
            verdict.problems.append(
                LogProblem(entry.seq, f"{entry.described()} has a holder beside it it never had")
            )
        return
    if subject is None:
        verdict.erased_subjects += 1
    elif holder_commitment(subject.national_number, subject.salt) != holder:
        verdict.problems.append(
            LogProblem(
                entry.seq,
                f"{entry.described()}: the holder kept beside it was altered "
                "(it no longer matches the entry's commitment)",
            )
        )


def entry_details(entry: LogEntry) -> dict[str, Any]:
    """The event's facts of an entry (empty when its details are not JSON)."""
    try:
        parsed = orjson.loads(entry.details)  # recover reads a million
    except orjson.JSONDecodeError:
        try:  # NaN, integers past 64 bits: what json writes and orjson does not read
            parsed = json.loads(entry.details)
        except ValueError:
            return {}
    return parsed if isinstance(parsed, dict) else {}
