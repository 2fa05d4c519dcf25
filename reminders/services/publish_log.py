"""The dispatch log published beside the volumes, and what a run checks against it first.

After a run is sealed, its municipalities' logs are published into the output folder as tiled
logs (C2SP tlog-tiles, reminders/domain/tiles.py): the tiles the log grew by, then its newest
signed checkpoint. That folder is the installation's memory outside its database: a database
restored from a backup is behind it, and a run must not start from there (it would hand out run
ids, references and letters a second time). So before a run decides anything,
`refuse_if_behind` compares each municipality's database log with its published one, by an RFC
6962 consistency proof read from the published tiles, and stops the run with what to do
(`reminders recover`). A published log behind the database (a publish that was killed, an
output folder restored from an older copy) is simply brought up to date by the next publish.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from reminders.domain.checkpoint import (
    CheckpointFormatError,
    KeyRing,
    SignedCheckpoint,
    parsed_checkpoint,
)
from reminders.domain.merkle import TreeFrontier
from reminders.domain.tiles import (
    CHECKPOINT_PATH,
    GROWTH_CHUNK,
    TILE_WIDTH,
    TiledTree,
    TileFormatError,
    TileMissingError,
    TileReader,
    TreeGrowth,
    edges_of,
    is_consistent,
    superseded_between,
    tile_path,
)
from reminders.errors import Reason, ReasonCode, RemindersError
from reminders.services.ports import DispatchLogStore, PublishedLog, PublishedLogs
from reminders.services.run_control import RunControl

log = logging.getLogger(__name__)


class BehindPublishedLogError(RemindersError):
    """A municipality's database log is behind (or forked from) its published log: nothing is
    run until `reminders recover` has restored it (exit 1)."""


class PublishedLogError(RemindersError):
    """The published log cannot be brought up to date from the database (exit 1)."""


@dataclass(frozen=True, slots=True)
class PublishedState:
    """A municipality's database log against its published one."""

    municipality_nis: str
    database_size: int  # the database's newest checkpoint's size (0: none)
    published: SignedCheckpoint | None  # the published checkpoint, when readable
    problem: str | None  # why no run may start, or None

    @property
    def published_size(self) -> int:
        return self.published.checkpoint.tree_size if self.published else 0


def published_checkpoint(
    municipality_nis: str, published: PublishedLog, keys: KeyRing
) -> SignedCheckpoint | None:
    """The published log's checkpoint, checked (origin, signature); None when there is none.
    Raises PublishedLogError saying what is wrong with one that does not check."""
    text = published.read(CHECKPOINT_PATH)
    if text is None:
        return None
    where = f"{published.location}/{CHECKPOINT_PATH}"
    try:
        signed = parsed_checkpoint(text.decode("utf-8"))
    except (CheckpointFormatError, UnicodeDecodeError) as err:
        raise PublishedLogError(f"{where} is not a readable checkpoint: {err}") from err
    if signed.checkpoint.municipality_nis != municipality_nis:
        raise PublishedLogError(
            f"{where} is the checkpoint of the log of {signed.checkpoint.municipality_nis}"
        )
    if keys.signer_of(signed) is None:
        raise PublishedLogError(f"{where} is not signed by a key of this installation: "
                                f"{keys.refusal(signed)}")  # fmt: skip
    return signed


def published_state(
    municipality_nis: str,
    store: DispatchLogStore,
    published: PublishedLog,
    keys: KeyRing,
) -> PublishedState:
    """Whether the database's log of a municipality may go on from where it stands: it must
    hold at least what was published, and the two must agree on what they both hold."""
    nis = municipality_nis
    head = store.head(nis)
    size = head.checkpoint_size or 0
    try:
        signed = published_checkpoint(nis, published, keys)
    except PublishedLogError as err:
        return PublishedState(nis, size, None, f"{err}: check it with `reminders audit verify "
                              f"--from {published.location}`")  # fmt: skip
    if signed is None:
        return PublishedState(nis, size, None, None)
    checkpoint = signed.checkpoint
    try:
        if checkpoint.tree_size > size:
            note = head.checkpoint_note
            newest = parsed_checkpoint(note).checkpoint.root_hash if note else b""
            agrees = _extends(published, checkpoint.tree_size, checkpoint.root_hash, size, newest)
        else:
            agrees = _database_root(store, nis, checkpoint.tree_size) == checkpoint.root_hash
    except (TileMissingError, TileFormatError) as err:
        return PublishedState(
            nis, size, signed,
            f"the published log of {nis} ({checkpoint.tree_size} entries) cannot be read "
            f"({err}): check it with `reminders audit verify --from {published.location}`",
        )  # fmt: skip
    when = f"{checkpoint.signed_at:%Y-%m-%d %H:%M} UTC"
    if not agrees:
        problem = (
            f"the dispatch log of {nis} in the database ({size} entries) and the one published "
            f"in {published.location} ({checkpoint.tree_size} entries, signed {when}) differ "
            "on the entries they both hold: the database is not the one that published it; "
            '`reminders recover` cannot restore it (see docs/operations.md, "Backup, restore, '
            'recover")'
        )
    elif checkpoint.tree_size > size:
        problem = (
            f"the dispatch log of {nis} in the database has {size} entries, but "
            f"{checkpoint.tree_size} were published in {published.location} (signed {when}): "
            "the database was restored from an older backup: run `reminders recover`"
        )
    else:
        problem = None
    return PublishedState(nis, size, signed, problem)


def _database_root(store: DispatchLogStore, nis: str, size: int) -> bytes:
    """The root of the database log's first ``size`` entries: from its checkpoint of that
    size when it has one (always, for what this installation published), else recomputed."""
    for row in store.checkpoints(nis):
        if row.tree_size == size:
            return parsed_checkpoint(row.note).checkpoint.root_hash
    frontier = TreeFrontier()
    for start in range(0, size, GROWTH_CHUNK):
        for entry in store.entry_range(nis, start, min(size, start + GROWTH_CHUNK)):
            frontier.add(entry.leaf())
    return frontier.root()


def _extends(
    published: PublishedLog, size: int, root_hash: bytes, old_size: int, old_root: bytes
) -> bool:
    """Whether the published tree of ``size`` extends the tree of ``old_size`` and
    ``old_root``: an RFC 6962 consistency proof, computed from the published tiles."""
    if old_size == 0:
        return True
    tree = TiledTree(size, tile_reader(published))
    if tree.root() != root_hash:
        raise TileFormatError(f"its tiles do not lead to its checkpoint's root (size {size})")
    return is_consistent(old_size, size, old_root, root_hash, tree.consistency_proof(old_size))


def tile_reader(published: PublishedLog) -> TileReader:
    """Reads a published log's hash tiles by level, index and width."""
    return lambda level, index, width: published.read(tile_path(level, index, width))


def refuse_if_behind(
    nis_codes: Iterable[str],
    store: DispatchLogStore,
    logs: PublishedLogs,
    keys: KeyRing,
) -> None:
    """Stop (BehindPublishedLogError, exit 1) before anything is decided when a municipality's
    database log is behind or forked from its published log."""
    states = [published_state(nis, store, logs.log(nis), keys) for nis in sorted(set(nis_codes))]
    problems = [state.problem for state in states if state.problem is not None]
    behind = ", ".join(state.municipality_nis for state in states if state.problem is not None)
    reason = Reason(ReasonCode.LOG_BEHIND, {"municipality": behind})
    if len(problems) == 1:
        raise BehindPublishedLogError(f"{problems[0]}. Nothing was done", reason=reason)
    if problems:
        listed = "\n  ".join(problems)
        raise BehindPublishedLogError(
            f"{len(problems)} municipalities cannot be run, nothing was done:\n  {listed}",
            reason=reason,
        )


# -- publishing -------------------------------------------------------------------------------


def publish_logs(
    nis_codes: Collection[str],
    store: DispatchLogStore,
    logs: PublishedLogs,
    keys: KeyRing,
    control: RunControl,
) -> dict[str, int]:
    """Publish each municipality's log up to its newest checkpoint; returns the entries each
    published log now holds."""
    sizes = {}
    for nis in sorted(nis_codes):
        sizes[nis] = publish_log(nis, store, logs.log(nis), keys, control)
    return sizes


def publish_log(
    municipality_nis: str,
    store: DispatchLogStore,
    published: PublishedLog,
    keys: KeyRing,
    control: RunControl,
) -> int:
    """Bring a municipality's published log up to the database's newest checkpoint: the tiles
    and bundles it grew by (those the seal staged, or built from the database), then the
    checkpoint. Idempotent: an attempt killed half-way is finished by the next, which
    rewrites nothing that is already right."""
    nis = municipality_nis
    head = store.head(nis)
    if not head.checkpoint_size or head.checkpoint_note is None:
        return 0
    size, note = head.checkpoint_size, head.checkpoint_note
    state = published_state(nis, store, published, keys)
    if state.problem is not None and state.published is not None:
        raise PublishedLogError(state.problem)
    old = state.published_size if state.problem is None else 0
    published.discard()
    if old == size and published.read(CHECKPOINT_PATH) == note.encode():
        published.staged().clear()
        return size
    target = parsed_checkpoint(note).checkpoint.root_hash
    reached = _adopted(published, state, size, note)
    adopted = reached == target
    superseded = [ref.path for ref in superseded_between(old, size)]
    if reached != target and old:
        reached = _grow(nis, store, published, old, size)
    if reached != target:
        if old:  # a published tile was not what it should be: build them all again
            log.warning("published log of %s: its tiles disagree with the database", nis)
        published.discard()
        reached = _grow(nis, store, published, 0, size)
        if reached != target:
            raise PublishedLogError(
                f"the dispatch log of {nis} in the database does not lead to its own newest "
                "checkpoint's root: run `reminders audit verify`"
            )
    control.reached("publish:log-tiles")
    published.write(CHECKPOINT_PATH, note.encode())
    published.commit()
    control.reached("publish:log-checkpoint")
    for path in superseded:  # only now: the old checkpoint's partial tiles were still needed
        published.remove_partials(path)
    published.sync()
    log.info("published log of %s: %d entries (from %d%s)", nis, size, old,
             ", tiles staged by the seal" if adopted else "")  # fmt: skip
    return size


def _adopted(published: PublishedLog, state: PublishedState, size: int, note: str) -> bytes:
    """Move the tiles the seal staged into place if they grow the published log to this
    checkpoint; returns the root the log's tiles then lead to (empty if none were adopted)."""
    staged = published.staged()
    base = _base_mark(state.published)
    if staged.read(CHECKPOINT_PATH) != note.encode() or staged.read(_BASE) != base:
        staged.clear()
        return b""
    published.adopt_staged()
    try:
        return TiledTree(size, tile_reader(published)).root()
    except (TileMissingError, TileFormatError):
        return b""


_BASE = "base"  # in the staged area: the published checkpoint the staged tiles grow from


def _base_mark(published: SignedCheckpoint | None) -> bytes:
    if published is None:
        return b"0"
    checkpoint = published.checkpoint
    return f"{checkpoint.tree_size} {checkpoint.root_hash.hex()}".encode()


def _grow(nis: str, store: DispatchLogStore, published: PublishedLog, old: int, size: int) -> bytes:
    """Write the tiles of the published tree grown from ``old`` to ``size`` from the
    database's entries, a chunk at a time, and commit them; returns the root they now lead
    to (empty when they lead nowhere)."""
    edges = {ref.level or 0: published.read(ref.path) or b"" for ref in edges_of(old)}
    base = old // TILE_WIDTH * TILE_WIDTH
    first = [entry.canonical() for entry in store.entry_range(nis, base, old)]
    try:
        growth = TreeGrowth.start(old, first, edges)
        for start in range(old, size, GROWTH_CHUNK):
            for entry in store.entry_range(nis, start, min(size, start + GROWTH_CHUNK)):
                for ref, data in growth.add(entry.canonical()):
                    published.write(ref.path, data)
        for ref, data in growth.finish():
            published.write(ref.path, data)
    except TileFormatError:  # an edge read from the folder is damaged or missing
        published.discard()
        return b""
    published.commit()
    try:
        return TiledTree(size, tile_reader(published)).root()
    except (TileMissingError, TileFormatError):
        return b""


# -- tiles staged by the seal -------------------------------------------------------------------


class TileStager:
    """Prepares a log's tiles while the seal appends its entries (it has their bytes and leaf
    hashes at hand), in the published log's scratch area, for the publish step to move into
    place: publishing then reads nothing back from the database. Files are not synced here:
    the publish step syncs them as it moves them."""

    def __init__(self, growth: TreeGrowth, staged: PublishedLog, base: bytes) -> None:
        self.growth, self.staged, self.base = growth, staged, base

    @classmethod
    def start(
        cls,
        nis: str,
        store: DispatchLogStore,
        published: PublishedLog,
        keys: KeyRing,
    ) -> TileStager | None:
        """A stager for a log about to grow, or None when its published log is not exactly
        the database's (the publish step then builds from the database)."""
        state = published_state(nis, store, published, keys)
        size = store.head(nis).checkpoint_size or 0
        if state.problem is not None or state.published_size != size:
            return None
        edges = {}
        for ref in edges_of(size):
            data = published.read(ref.path)
            if data is None:
                return None
            edges[ref.level or 0] = data
        base = size // TILE_WIDTH * TILE_WIDTH
        first = [entry.canonical() for entry in store.entry_range(nis, base, size)]
        staged = published.staged()
        staged.clear()
        staged.write(_BASE, _base_mark(state.published))
        stager = cls(TreeGrowth.start(size, first, edges), staged, _base_mark(state.published))
        # Entries appended since the newest checkpoint (a reveal between runs): the seal's
        # checkpoint covers them too.
        for entry in store.entry_range(nis, size, store.head(nis).size):
            stager.add(entry.canonical(), entry.leaf())
        return stager

    def add(self, entry: bytes, leaf: bytes) -> None:
        for ref, data in self.growth.add(entry, leaf):
            self.staged.write(ref.path, data)

    def finish(self, note: str) -> None:
        """After the last entry: the partial tiles, and the checkpoint they are for."""
        for ref, data in self.growth.finish():
            self.staged.write(ref.path, data)
        self.staged.write(CHECKPOINT_PATH, note.encode())
