"""What auditors do with the dispatch log: verify it, prove that one letter is in it, check
such a proof with the public key alone, export it, and report on one run.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from reminders.domain.audit_report import (
    MunicipalityRunReport,
    ReportImport,
    ReportVolume,
    RunAuditReport,
)
from reminders.domain.checkpoint import (
    CheckpointFormatError,
    KeyRing,
    SignedCheckpoint,
    parsed_checkpoint,
)
from reminders.domain.dispatch_log import (
    RUN_EVENTS,
    KnownCheckpoint,
    LogEntry,
    LogEvent,
    LogProblem,
    LogQuery,
    LogSubject,
    LogVerdict,
    NewEntry,
    entry_details,
    log_timestamp,
    verify_log,
)
from reminders.domain.merkle import inclusion_proof, leaf_hash, root_from_inclusion_proof
from reminders.domain.model import Language
from reminders.domain.national_number import formatted_national_number, masked_national_number
from reminders.domain.tiles import CHECKPOINT_PATH
from reminders.errors import RemindersError, UsageError
from reminders.services.ports import CheckpointSigner, DispatchLogStore, PublishedLogs
from reminders.services.seal_log import append_and_seal
from reminders.services.verify_published import KeptCheckpoint, verify_published

PROOF_FORMAT = "reminders-inclusion-proof/1"
LISTED_PROBLEMS = 10  # a rewritten log breaks every entry after the change: say so, briefly
EXPORT_FIELDS = (
    "run_id", "municipality_nis", "event", "document_kind", "document_number", "stage",
    "reason", "language", "volume", "page", "recorded_at", "entry_hash", "national_number",
    "reference", "seq", "pages", "templates", "template_sha256", "address_sha256", "expires_on",
)  # fmt: skip


class NotInLogError(RemindersError):
    """The letter or run asked about is not in the dispatch log (exit 1)."""


# -- verify ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutsideCheckpoint:
    """A checkpoint file an auditor kept, read back."""

    source: str  # the file's name, for messages
    signed: SignedCheckpoint


def verify_logs(
    store: DispatchLogStore,
    keys: KeyRing,
    *,
    municipalities: Sequence[str] | None = None,
    outside: Sequence[OutsideCheckpoint] = (),
    published: PublishedLogs | None = None,
    configured: Collection[str] = (),
) -> list[LogVerdict]:
    """Recompute each municipality's log and check it against its stored checkpoints and any
    kept outside; one verdict per municipality. With ``published`` (the output folder) each
    log published there is verified too, and must be a prefix of the database's; a
    ``configured`` municipality whose runs were sealed but whose log has no entries is
    BROKEN (an emptied log)."""
    sealed = {nis: run for nis, run in store.sealed_runs().items() if nis in configured}
    if municipalities is None:
        logged = set(store.municipalities()) | set(sealed)
        logged.update(o.signed.checkpoint.municipality_nis for o in outside)
        if published is not None:
            logged.update(published.published())
        municipalities = sorted(logged)
    verdicts = []
    for nis in municipalities:
        extra = list(outside)
        found: LogVerdict | None = None
        if published is not None and published.log(nis).read(CHECKPOINT_PATH) is not None:
            folder = published.log(nis)
            files = [KeptCheckpoint(path, text) for path, text in published.run_checkpoints(nis)]
            found = verify_published(folder, keys, municipality_nis=nis, kept=files)
            if found.latest is not None:  # the database must hold what was published
                source = f"the published log's checkpoint ({folder.location}/{CHECKPOINT_PATH})"
                extra.append(OutsideCheckpoint(source, found.latest))
        verdict = _verified(store, keys, nis, extra)
        if found is not None:
            verdict.checkpoints += found.checkpoints
            verdict.problems.extend(
                LogProblem(p.seq, f"published log: {p.message}") for p in found.problems
            )
            if found.latest is not None and found.latest.checkpoint.tree_size > verdict.entries:
                verdict.problems.append(
                    LogProblem(
                        verdict.entries,
                        f"the database is behind its published log ({verdict.entries} entries "
                        f"against {found.latest.checkpoint.tree_size}): it was restored from an "
                        "older backup; run `reminders recover`",
                    )
                )
        if verdict.entries == 0 and nis in sealed:
            verdict.problems.append(
                LogProblem(
                    0,
                    f"run {sealed[nis]} and earlier were sealed for {nis}, but its dispatch log "
                    "has no entries: it was emptied",
                )
            )
        verdicts.append(verdict)
    return verdicts


def record_verdicts(
    store: DispatchLogStore,
    verdicts: Sequence[LogVerdict],
    *,
    verified_at: datetime,
    verified_by: str,
) -> None:
    """Keep each verdict, so `reminders status` can say when each log was last verified."""
    for verdict in verdicts:
        latest = verdict.latest.checkpoint if verdict.latest else None
        first = verdict.first_problem
        store.record_verification(
            verdict.municipality_nis,
            verified_at=verified_at,
            verified_by=verified_by,
            tree_size=verdict.entries,
            root_hash=latest.root_hash.hex() if latest else None,
            intact=verdict.intact,
            problem=first.message if first else None,
        )


def _verified(
    store: DispatchLogStore,
    keys: KeyRing,
    nis: str,
    outside: Sequence[OutsideCheckpoint],
) -> LogVerdict:
    stored: list[KnownCheckpoint] = []
    unreadable: list[LogProblem] = []
    for row in store.checkpoints(nis):
        source = f"the stored checkpoint at size {row.tree_size}" + (
            f" (run {row.run_id})" if row.run_id is not None else ""
        )
        try:
            signed = parsed_checkpoint(row.note)
        except CheckpointFormatError as err:
            unreadable.append(LogProblem(None, f"{source} cannot be read: {err}"))
            continue
        if signed.checkpoint.tree_size != row.tree_size:
            unreadable.append(
                LogProblem(None, f"{source} holds a checkpoint of size "
                           f"{signed.checkpoint.tree_size}: altered")
            )  # fmt: skip
            continue
        stored.append(_known(signed, source, keys))
    kept = [
        _known(o.signed, o.source, keys)
        for o in outside
        if o.signed.checkpoint.municipality_nis == nis
    ]
    verdict = verify_log(
        nis,
        store.entries(nis),
        [*stored, *kept],
        stored_sizes=[k.signed.checkpoint.tree_size for k in stored],
    )
    verdict.problems.extend(unreadable)
    valid = [k for k in stored if k.valid_signature]
    newest = max(valid, key=lambda k: k.signed.checkpoint.tree_size, default=None)
    verdict.latest = newest.signed if newest else None
    for known in sorted(valid, key=lambda k: k.signed.checkpoint.tree_size):
        verdict.signers.setdefault(known.signer or "", []).append(known.signed.checkpoint.tree_size)
    return verdict


def _known(signed: SignedCheckpoint, source: str, keys: KeyRing) -> KnownCheckpoint:
    """A checkpoint with the key that signed it, or why none of ``keys`` did."""
    signer = keys.signer_of(signed)
    if signer is not None:
        return KnownCheckpoint(signed, source, True, signer.label)
    return KnownCheckpoint(signed, source, False, refusal=keys.refusal(signed))


def outside_checkpoint(name: str, text: str) -> OutsideCheckpoint:
    """A checkpoint file's text, read; a file that is no checkpoint is bad input (exit 2)."""
    try:
        return OutsideCheckpoint(name, parsed_checkpoint(text))
    except CheckpointFormatError as err:
        raise UsageError(f"{name}: not a dispatch-log checkpoint: {err}") from err


# -- inclusion proofs ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LetterProof:
    """That one letter's entry is in its municipality's log, as a signed checkpoint has it."""

    entry: LogEntry
    tree_size: int
    audit_path: tuple[bytes, ...]
    checkpoint_note: str

    def as_json(self) -> dict[str, Any]:
        return {
            "format": PROOF_FORMAT,
            "reference": self.entry.reference,
            "municipality_nis": self.entry.municipality_nis,
            "leaf_index": self.entry.seq,
            "tree_size": self.tree_size,
            "entry": self.entry.canonical().decode(),
            "audit_path": [node.hex() for node in self.audit_path],
            "checkpoint": self.checkpoint_note,
        }


def prove_letter(store: DispatchLogStore, reference: str) -> LetterProof:
    """An RFC 6962 inclusion proof of a letter's entry under its log's newest checkpoint."""
    entry = store.letter_entry(reference)
    if entry is None:
        raise NotInLogError(f"no letter with reference {reference!r} in the dispatch log")
    nis = entry.municipality_nis
    head = store.head(nis)
    size, note = head.checkpoint_size, head.checkpoint_note
    if size is None or note is None or size <= entry.seq:
        raise NotInLogError(f"letter {reference} is in no signed checkpoint of the log of {nis}")
    leaves = [e.leaf() for e in store.leaf_entries(nis, size)]
    if len(leaves) != size:
        raise NotInLogError(
            f"the log of {nis} has {len(leaves)} entries, its checkpoint {size}: "
            "run `reminders audit verify`"
        )
    path = inclusion_proof(entry.seq, leaves)
    return LetterProof(entry, size, tuple(path), note)


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The outcome of checking a proof: the entry it is about, and what failed if anything."""

    entry: Mapping[str, Any]
    problems: tuple[str, ...]
    checkpoint: SignedCheckpoint | None
    signer: str | None = None  # the key that signed its checkpoint (name+key id)

    @property
    def valid(self) -> bool:
        return not self.problems


def check_proof(text: str, keys: KeyRing) -> ProofCheck:
    """Check a proof with nothing but public keys: the checkpoint's signature (by one of
    ``keys``, allowed to sign that log), then the audit path from the entry's leaf hash up
    to the checkpoint's root."""
    try:
        entry_text, entry, index, size, path, signed = _proof_fields(text)
    except ValueError as err:
        raise UsageError(f"not an inclusion proof of `reminders audit prove`: {err}") from err
    problems = _outer_mismatches(json.loads(text), entry)
    checkpoint = signed.checkpoint
    signer = keys.signer_of(signed)
    if signer is None:
        problems.append(f"the checkpoint is not valid: {keys.refusal(signed)}")
    if checkpoint.tree_size != size or entry.get("seq") != index:
        problems.append("the proof's tree size or leaf index differs from its checkpoint's")
    if entry.get("municipality_nis") != checkpoint.municipality_nis:
        problems.append("the entry belongs to another municipality's log than the checkpoint")
    try:
        reached = root_from_inclusion_proof(index, size, leaf_hash(entry_text.encode()), path)
    except ValueError as err:
        problems.append(f"the audit path does not fit the tree: {err}")
    else:
        if reached != checkpoint.root_hash:
            problems.append("the entry and audit path do not lead to the checkpoint's root")
    return ProofCheck(entry, tuple(problems), signed, signer.label if signer else None)


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# What a proof says outside its entry for people to read; the signed entry must agree.
_OUTER_FIELDS = ("reference", "municipality_nis")


def _outer_mismatches(proof: Mapping[str, Any], entry: Mapping[str, Any]) -> list[str]:
    """The fields a proof shows beside its entry that disagree with the entry (which is what
    the signature covers): a proof is about the letter its entry names, not its label."""
    return [
        f"the proof's {key} {proof.get(key)!r} is not its signed entry's {entry.get(key)!r}"
        for key in _OUTER_FIELDS
        if proof.get(key) != entry.get(key)
    ]


def _proof_fields(
    text: str,
) -> tuple[str, dict[str, Any], int, int, list[bytes], SignedCheckpoint]:
    """The entry (text and object), leaf index, tree size, audit path and checkpoint of a
    proof, each of the type `audit prove` writes; ValueError naming the first that is not."""
    proof = json.loads(text)
    if not isinstance(proof, dict):
        raise ValueError("expected a JSON object")
    if proof.get("format") != PROOF_FORMAT:
        raise ValueError(f"format: expected {PROOF_FORMAT!r}")
    entry_text, nodes, note = proof.get("entry"), proof.get("audit_path"), proof.get("checkpoint")
    index, size = _whole_number(proof, "leaf_index"), _whole_number(proof, "tree_size")
    if not isinstance(nodes, list) or not all(
        isinstance(node, str) and _SHA256_HEX.fullmatch(node) for node in nodes
    ):
        raise ValueError("audit_path: expected a list of SHA-256 hashes in hexadecimal")
    if not isinstance(note, str):
        raise ValueError("checkpoint: expected the signed checkpoint's text")
    if not isinstance(entry_text, str):
        raise ValueError("entry: expected the entry's canonical JSON, as text")
    entry = json.loads(entry_text)
    if not isinstance(entry, dict):
        raise ValueError("entry: expected a JSON object")
    signed = parsed_checkpoint(note)  # CheckpointFormatError is a ValueError
    return entry_text, entry, index, size, [bytes.fromhex(node) for node in nodes], signed


def _whole_number(proof: dict[str, Any], key: str) -> int:
    value = proof.get(key)
    # bool is an int to Python, not a number in a proof
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key}: expected a whole number, got {value!r}")
    return value


# -- export ----------------------------------------------------------------------------------


def export_rows(
    store: DispatchLogStore,
    municipalities: Sequence[str],
    *,
    run_id: int | None = None,
    reveal: bool = False,
    output_dir: PurePath | None = None,
) -> Iterator[dict[str, Any]]:
    """One row per letter or skip (interfaces.md §4), national numbers masked to their check
    digits unless ``reveal``; holders erased under retention export empty; volumes relative
    to ``output_dir`` (the resolved output folder), never the server's absolute path."""
    for nis in municipalities:
        for entry, subject in store.entries(nis, run_id=run_id):
            if entry.event in (LogEvent.LETTER, LogEvent.SKIP):
                yield logged_row(entry, subject, reveal=reveal, output_dir=output_dir)


def record_reveal(
    store: DispatchLogStore,
    signer: CheckpointSigner,
    municipalities: Sequence[str],
    *,
    by: str,
    what: Mapping[str, Any],
    now: Callable[[], datetime],
) -> None:
    """Write to each municipality's log who is about to see national numbers in full, and of
    what, before they are shown (domain.md §6.3); sealed with a checkpoint like a run."""
    stamp = log_timestamp(now())
    for nis in municipalities:
        entry = NewEntry(None, LogEvent.REVEALED, stamp, {"by": by, **what})
        append_and_seal(nis, [[entry]], store, signer, now=now)


def search_log(
    store: DispatchLogStore,
    municipality_nis: str,
    query: LogQuery,
    *,
    reveal: bool = False,
    limit: int = 100,
    before_seq: int | None = None,
) -> list[dict[str, Any]]:
    """The newest entries of one municipality's log that match ``query``, as export rows
    (with ``event`` for runs, volumes, seals and reveals too), national numbers masked unless
    ``reveal``."""
    found = store.search(municipality_nis, query, limit=limit, before_seq=before_seq)
    return [logged_row(entry, subject, reveal=reveal) for entry, subject in found]


def logged_row(
    entry: LogEntry,
    subject: LogSubject | None,
    *,
    reveal: bool,
    output_dir: PurePath | None = None,
) -> dict[str, Any]:
    """An entry as an export line (interfaces.md §4): national numbers masked to their check
    digits unless ``reveal``; a holder erased under retention exports empty; the volume
    relative to the output folder (`shown_volume`)."""
    details = entry_details(entry)
    number = None
    if subject is not None:
        shown = formatted_national_number if reveal else masked_national_number
        number = shown(subject.national_number)
    return {
        "run_id": entry.run_id,
        "municipality_nis": entry.municipality_nis,
        "event": entry.event,
        "document_kind": entry.document_kind,
        "document_number": entry.document_number,
        "stage": entry.stage,
        "reason": entry.reason,
        "language": entry.language,
        "volume": shown_volume(details.get("volume"), entry.municipality_nis, output_dir),
        "page": details.get("page"),
        "recorded_at": entry.recorded_at,
        "entry_hash": entry.entry_hash,
        "national_number": number,
        "reference": entry.reference,
        "seq": entry.seq,
        "pages": details.get("pages"),
        "templates": details.get("templates"),
        "template_sha256": details.get("template_sha256"),
        "address_sha256": details.get("address_sha256"),
        "expires_on": details.get("expires_on"),
    }


def shown_volume(logged: object, municipality_nis: str, output_dir: PurePath | None) -> Any:
    """A volume's path as the log holds it (absolute, on the server that printed it) relative
    to the output folder: ``<NIS>/<date>-run-<id>/volume-001.pdf``. A path outside the folder
    (the folder moved since) is cut at its municipality's folder, or else to its file name."""
    if not isinstance(logged, str):
        return logged
    path = PurePath(logged)
    if output_dir is not None and path.is_relative_to(output_dir):
        return path.relative_to(output_dir).as_posix()
    parts = path.parts
    if municipality_nis in parts[:-1]:
        start = len(parts) - 1 - parts[:-1][::-1].index(municipality_nis) - 1
        return PurePath(*parts[start:]).as_posix()
    return path.name


# -- the auditor's report on a run ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportedMunicipality:
    """What the report needs from the configuration about a municipality."""

    name: str
    language: Language


def run_report(
    store: DispatchLogStore,
    keys: KeyRing,
    run_id: int,
    municipalities: Mapping[str, ReportedMunicipality],
    *,
    only: str | None = None,
    now: Callable[[], datetime],
) -> RunAuditReport:
    """The report on one run, from the log's own entries, with each log verified now."""
    covered = [nis for nis in store.run_municipalities(run_id) if only in (None, nis)]
    if not covered:
        where = f" for {only}" if only else ""
        raise NotInLogError(f"run {run_id} is not in the dispatch log{where}")
    sections = []
    for nis in covered:
        verdict = _verified(store, keys, nis, ())
        checkpoint = next((c for c in store.checkpoints(nis) if c.run_id == run_id), None)
        if checkpoint is None:
            raise NotInLogError(f"run {run_id} has no checkpoint in the log of {nis}")
        known = municipalities.get(nis, ReportedMunicipality(nis, Language.NL))
        sections.append(
            _section(store, run_id, nis, known, parsed_checkpoint(checkpoint.note), verdict)
        )
    return RunAuditReport(run_id, now(), tuple(sections))


def _section(
    store: DispatchLogStore,
    run_id: int,
    nis: str,
    known: ReportedMunicipality,
    signed: SignedCheckpoint,
    verdict: LogVerdict,
) -> MunicipalityRunReport:
    by_stage: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    volumes: list[ReportVolume] = []
    header: dict[str, Any] = {}
    first_seq: int | None = None
    last_seq = 0
    for entry, _ in store.entries(nis, run_id=run_id):
        if entry.event not in RUN_EVENTS:
            continue  # after the print (a release, a reprint...): sealed later, on its own
        first_seq = entry.seq if first_seq is None else first_seq
        last_seq = entry.seq
        details = entry_details(entry)
        if entry.event == LogEvent.RUN:
            header = details
        elif entry.event == LogEvent.LETTER:
            by_stage[f"{entry.document_kind}/{entry.stage}"] += 1
            by_language[entry.language or ""] += 1
            by_channel["paper"] += 1
        elif entry.event == LogEvent.EMAILED:  # issue 25: a letter too, by e-mail
            by_stage[f"{entry.document_kind}/{entry.stage}"] += 1
            by_language[entry.language or ""] += 1
            by_channel["email"] += 1
        elif entry.event == LogEvent.EMAIL_FAILED:  # its letter follows, on paper
            by_channel["paper"] -= 1
            by_channel["paper_after_email"] += 1
        elif entry.event == LogEvent.SKIP:
            by_reason[entry.reason or ""] += 1
        elif entry.event == LogEvent.VOLUME:
            volumes.append(
                ReportVolume(
                    details.get("path", ""), details.get("sha256", ""), details.get("letters", 0),
                    details.get("pages", 0), details.get("language"),
                )
            )  # fmt: skip
    checkpoint = signed.checkpoint
    return MunicipalityRunReport(
        nis_code=nis,
        name=known.name,
        language=known.language,
        run_id=run_id,
        as_of=date.fromisoformat(header.get("as_of", "1970-01-01")),
        started_at=header.get("started_at", ""),
        started_by=header.get("started_by", ""),
        config_sha256=header.get("config_sha256", ""),
        code_version=header.get("code_version", ""),
        imports=tuple(
            ReportImport(
                i["import_id"], i["kind"], i["file_name"], i["file_sha256"], i["finished_at"]
            )
            for i in header.get("registry", ())
        ),
        first_seq=first_seq or 0,
        last_seq=last_seq,
        letters_by_stage=tuple(sorted(by_stage.items())),
        letters_by_language=tuple(sorted(by_language.items())),
        skips_by_reason=tuple(sorted(by_reason.items())),
        # Only where e-mail plays a part: a report of paper alone stays as it was.
        letters_by_channel=(
            tuple(sorted((channel, n) for channel, n in by_channel.items() if n))
            if by_channel["email"] or by_channel["paper_after_email"]
            else ()
        ),
        volumes=tuple(volumes),
        checkpoint_note=signed.note(),
        checkpoint_size=checkpoint.tree_size,
        checkpoint_root=checkpoint.root_hash.hex(),
        checkpoint_signed_at=checkpoint.signed_at.isoformat().replace("+00:00", "Z"),
        key_id=signed.key_id.hex(),
        verified=verdict.intact,
        verification=verification_statement(verdict),
    )


def verification_statement(verdict: LogVerdict) -> tuple[str, ...]:
    """What verification established, in sentences for a report or a terminal."""
    nis = verdict.municipality_nis
    if verdict.intact:
        lines = [
            f"The dispatch log of {nis} was recomputed entry by entry: {verdict.entries:,} "
            "entries, each matching its hash and following the one before it.",
            f"{_counted(verdict.checkpoints, 'signed checkpoint')} checked against the public "
            "keys: each matches the Merkle root of the entries it covers.",
        ]
        for signer, sizes in verdict.signers.items():
            lines.append(
                f"Signed by {signer}: {_counted(len(sizes), 'checkpoint')} "
                f"(sizes {sizes[0]:,} to {sizes[-1]:,})."
            )
        if verdict.latest is not None:
            lines.append(
                f"The newest checkpoint covers all {verdict.latest.checkpoint.tree_size:,} "
                f"entries (root {verdict.latest.checkpoint.root_hash.hex()})."
            )
        if verdict.erased_subjects:
            lines.append(
                f"{verdict.erased_subjects:,} holders were erased; their commitments stay."
            )
        return tuple(lines)
    first = verdict.first_problem
    lines = [f"The dispatch log of {nis} is BROKEN: {_counted(len(verdict.problems), 'problem')}."]
    if first is not None:
        lines.append(f"First: {first.message}.")
    others = [p for p in verdict.problems if p is not first]
    lines.extend(p.message + "." for p in others[:LISTED_PROBLEMS])
    if len(others) > LISTED_PROBLEMS:
        lines.append(f"... and {len(others) - LISTED_PROBLEMS:,} more (see --json).")
    return tuple(lines)


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
