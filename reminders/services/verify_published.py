"""Verifying a dispatch log as published in the output folder, with nothing but its files and
the installation's public key (no database): `reminders audit verify --from DIR`, and the part
of `reminders audit verify` that looks at the output folder.

Every entry bundle is read and hashed, every hash tile compared with what the entries make of
it, and the root they lead to with the signed checkpoint at the log's root; checkpoint files
kept elsewhere (and those beside the volumes) are checked against the root at their size. A
changed, missing, cut-off or reordered tile or bundle, or a checkpoint signed by another key,
makes the verdict BROKEN with the file named.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reminders.domain.checkpoint import (
    CheckpointFormatError,
    KeyRing,
    SignedCheckpoint,
    parsed_checkpoint,
)
from reminders.domain.dispatch_log import LogProblem, LogVerdict
from reminders.domain.tiles import (
    CHECKPOINT_PATH,
    TileFormatError,
    TileRef,
    TreeCheck,
    tile_path,
    unbundled,
)
from reminders.services.ports import PublishedLog

# Hands each bundle's entries (in order, with the index of the first) to whoever reads the
# log along with the check: `reminders recover` appends them.
EntriesSink = Callable[[int, Sequence[bytes], Sequence[bytes]], None]  # first, entries, leaves


@dataclass(frozen=True, slots=True)
class KeptCheckpoint:
    """A checkpoint file to check against the published log: its name and text."""

    source: str
    text: str


def verify_published(
    published: PublishedLog,
    keys: KeyRing,
    *,
    municipality_nis: str | None = None,
    kept: Sequence[KeptCheckpoint] = (),
    sink: EntriesSink | None = None,
    frontiers: dict[int, str] | None = None,
) -> LogVerdict:
    """Recompute a published log from its files and check it against its signed checkpoint
    and the ``kept`` checkpoint files; one verdict (``municipality_nis`` from the checkpoint's
    origin when not given). With a ``sink``, each bundle's entries are handed to it once the
    tiles agree with them (the sink checks what the entries say: `reminders recover`); it
    may raise to stop there. ``frontiers`` gets the tree's frontier at the size of each kept
    checkpoint and at the log's own size."""
    where = published.location
    text = published.read(CHECKPOINT_PATH)
    verdict = LogVerdict(municipality_nis or "?")
    if text is None:
        verdict.problems.append(LogProblem(None, f"{where}: no {CHECKPOINT_PATH} file"))
        return verdict
    try:
        signed = parsed_checkpoint(text.decode("utf-8"))
    except (CheckpointFormatError, UnicodeDecodeError) as err:
        verdict.problems.append(LogProblem(None, f"{where}/{CHECKPOINT_PATH}: {err}"))
        return verdict
    checkpoint = signed.checkpoint
    if municipality_nis is None:
        verdict.municipality_nis = checkpoint.municipality_nis
    elif checkpoint.municipality_nis != municipality_nis:
        verdict.problems.append(
            LogProblem(None, f"{where}/{CHECKPOINT_PATH} is the checkpoint of the log of "
                       f"{checkpoint.municipality_nis}")
        )  # fmt: skip
        return verdict
    verdict.checkpoints += 1
    if keys.signer_of(signed) is not None:
        verdict.latest = signed
    else:
        verdict.problems.append(
            LogProblem(
                None,
                f"{where}/{CHECKPOINT_PATH} (size {checkpoint.tree_size}) has no valid signature "
                f"by the public keys given: forged, altered or {keys.refusal(signed)}",
            )
        )
    others = _kept(verdict, kept, keys)
    sizes = {c.checkpoint.tree_size for _, c in others if c.checkpoint.tree_size}
    sizes.add(checkpoint.tree_size)
    check = TreeCheck(
        checkpoint.tree_size,
        lambda level, index, width: published.read(tile_path(level, index, width)),
        sizes=sizes,
    )
    try:
        for ref in check.bundles():
            entries = _bundle(published, ref, verdict.municipality_nis, places=sink is None)
            leaves = check.add(ref, entries)
            if sink is not None:
                sink(ref.index * 256, entries, leaves)
        reached = check.finish()
        if frontiers is not None:
            frontiers.update(check.frontiers)
    except TileFormatError as err:
        verdict.problems.append(LogProblem(None, f"{where}/{err}"))
        return verdict
    verdict.entries = checkpoint.tree_size
    if reached != checkpoint.root_hash:
        verdict.problems.append(
            LogProblem(
                None,
                f"{where}: the entries and tiles lead to another root than its checkpoint's "
                f"(size {checkpoint.tree_size}): entries were changed, moved or replaced",
            )
        )
    for source, other in others:
        size = other.checkpoint.tree_size
        if size > checkpoint.tree_size:
            verdict.problems.append(
                LogProblem(
                    checkpoint.tree_size,
                    f"{source} covers {size} entries, the published log only "
                    f"{checkpoint.tree_size}: its end is missing",
                )
            )
        elif size and check.roots.get(size) != other.checkpoint.root_hash:
            verdict.problems.append(
                LogProblem(
                    None,
                    f"{source} does not match the published log's first {size} entries: "
                    "entries it covers were changed, or the log was rewritten",
                )
            )
    return verdict


def _kept(
    verdict: LogVerdict, kept: Sequence[KeptCheckpoint], keys: KeyRing
) -> list[tuple[str, SignedCheckpoint]]:
    """The kept checkpoints of this log that read and carry a valid signature; the others
    are problems."""
    usable = []
    for file in kept:
        try:
            signed = parsed_checkpoint(file.text)
        except CheckpointFormatError as err:
            verdict.problems.append(LogProblem(None, f"{file.source}: {err}"))
            continue
        if signed.checkpoint.municipality_nis != verdict.municipality_nis:
            continue  # another municipality's: checked with its own log
        verdict.checkpoints += 1
        if keys.signer_of(signed) is None:
            verdict.problems.append(
                LogProblem(None, f"{file.source} has no valid signature by the public keys "
                           f"given: {keys.refusal(signed)}")
            )  # fmt: skip
            continue
        usable.append((file.source, signed))
    return usable


def _bundle(published: PublishedLog, ref: TileRef, nis: str, *, places: bool) -> list[bytes]:
    """A bundle's entries, each checked (``places``) to be the entry of its place in this
    log."""
    data = published.read(ref.path)
    if data is None:
        raise TileFormatError(f"{ref.path} is missing")
    try:
        entries = unbundled(data)
    except TileFormatError as err:
        raise TileFormatError(f"{ref.path}: {err}") from err
    if not places:
        return entries
    first = ref.index * 256
    for offset, entry in enumerate(entries):
        try:
            fields = json.loads(entry)
            seq, origin = fields["seq"], fields["municipality_nis"]
        except (ValueError, KeyError, TypeError) as err:
            raise TileFormatError(f"{ref.path}: entry {first + offset} is not a log entry") from err
        if seq != first + offset or origin != nis:
            raise TileFormatError(
                f"{ref.path}: entry {first + offset} holds entry {seq} of the log of {origin}: "
                "moved or replaced"
            )
    return entries


def published_statement(verdict: LogVerdict) -> tuple[str, ...]:
    """What verifying a published log established, in sentences."""
    nis = verdict.municipality_nis
    if not verdict.intact:
        first = verdict.first_problem
        lines = [f"The published dispatch log of {nis} is BROKEN."]
        lines.extend(p.message + "." for p in ([first] if first else []))
        lines.extend(p.message + "." for p in verdict.problems if p is not first)
        return tuple(lines)
    assert verdict.latest is not None  # noqa: S101 - an intact verdict has its checkpoint
    checkpoint = verdict.latest.checkpoint
    lines = [
        f"The published dispatch log of {nis} was recomputed from its files: "
        f"{verdict.entries:,} entries in their bundles, every hash tile matching them, leading "
        f"to the root its checkpoint signs (root {checkpoint.root_hash.hex()}).",
        f"{verdict.checkpoints:,} signed checkpoints checked against the public key and the "
        "log's root at their size.",
    ]
    return tuple(lines)
