"""A dispatch log as a tiled transparency log (C2SP tlog-tiles), for publishing it beside the
volumes and reading it back without the database.

The layout, under a log's root folder:

    checkpoint                      the newest signed checkpoint (reminders.domain.checkpoint)
    tile/<L>/<N>[.p/<W>]            hash tiles: 256 consecutive Merkle tree hashes at height 8·L
    tile/entries/<N>[.p/<W>]        entry bundles: 256 entries, each a big-endian uint16 length
                                    followed by the entry's bytes

``<N>`` is written in 3-digit path elements, all but the last prefixed with ``x``
(1234067 → ``x001/x234/067``); ``.p/<W>`` marks a partial tile of W < 256 hashes (the
rightmost one of its level). A level-0 tile holds leaf hashes; a hash at level L ≥ 1 is the
Merkle tree hash of a full tile at level L - 1. The entries are the bytes the dispatch log
hashes (`LogEntry.canonical`), so the leaf hashes are RFC 6962's and the tree's root is the
root the checkpoints sign.

Everything here is arithmetic over bytes the caller reads or writes: building the tiles a log
grows by, recomputing a published log bundle by bundle and comparing every tile, the hash of
any subtree from the tiles, and RFC 6962 consistency proofs (RFC 9162 §2.1.4) between two sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from reminders.domain.merkle import HASH_SIZE, TreeFrontier, leaf_hash, node_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # hashes in a full tile, and entries in a full bundle
MAX_ENTRY_BYTES = 0xFFFF  # an entry's length is a uint16
CHECKPOINT_PATH = "checkpoint"


class TileFormatError(ValueError):
    """A tile or an entry bundle that is not what its place in the tree requires."""


def _index_path(index: int) -> str:
    """``x001/x234/067`` for 1234067: 3-digit elements, all but the last prefixed with x."""
    if index < 0:
        raise ValueError(f"a tile index is not negative, got {index}")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"a tile is 1 to {TILE_WIDTH} wide, got {width}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """Where the hash tile at ``level`` and ``index`` of ``width`` hashes is published."""
    if not 0 <= level <= 63:
        raise ValueError(f"a tile level is 0 to 63, got {level}")
    return f"tile/{level}/{_index_path(index)}{_suffix(width)}"


def bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    """Where the entry bundle ``index`` of ``width`` entries is published."""
    return f"tile/entries/{_index_path(index)}{_suffix(width)}"


def hashes_at(level: int, size: int) -> int:
    """How many complete hashes a tree of ``size`` has at ``level`` (height 8·level)."""
    return size >> (TILE_HEIGHT * level)


def tile_width(level: int, index: int, size: int) -> int:
    """The width of tile ``index`` at ``level`` in a tree of ``size`` (0: no such tile)."""
    return max(0, min(TILE_WIDTH, hashes_at(level, size) - index * TILE_WIDTH))


@dataclass(frozen=True, slots=True)
class TileRef:
    """A hash tile (``level`` ≥ 0) or an entry bundle (``level`` None) of some width."""

    level: int | None
    index: int
    width: int

    @property
    def path(self) -> str:
        if self.level is None:
            return bundle_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH


def tiles_of(size: int) -> Iterator[TileRef]:
    """Every hash tile and entry bundle of a tree of ``size``, level by level (bundles
    first), left to right: the full ones and the rightmost partial one of each level."""
    for level in (None, *range(64)):
        count = size if level is None else hashes_at(level, size)
        if count == 0:
            return
        for index in range(-(-count // TILE_WIDTH)):
            yield TileRef(level, index, min(TILE_WIDTH, count - index * TILE_WIDTH))


def bundle(entries: Sequence[bytes]) -> bytes:
    """Entries as a bundle: each one's length as a big-endian uint16, then its bytes."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit a bundle")
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
    return b"".join(parts)


def unbundled(data: bytes) -> list[bytes]:
    """A bundle's entries; TileFormatError when it is cut off inside an entry."""
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileFormatError("ends inside an entry's length")
        length = int.from_bytes(data[at : at + 2], "big")
        end = at + 2 + length
        if end > len(data):
            raise TileFormatError(f"entry {len(entries)} is cut off")
        entries.append(data[at + 2 : end])
        at = end
    return entries


def hashes_of(tile: bytes) -> list[bytes]:
    """A tile's hashes; TileFormatError when its length is not a whole number of them."""
    if len(tile) % HASH_SIZE:
        raise TileFormatError(f"{len(tile)} bytes is not a whole number of hashes")
    return [tile[at : at + HASH_SIZE] for at in range(0, len(tile), HASH_SIZE)]


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash over a power-of-two run of hashes of one level (a full tile, or
    the part of one a subtree covers), hashing pairs up to the top."""
    level = list(hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError(f"expected a power of two of hashes, got {len(level)}")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


# -- growing a published tree -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Growth:
    """What a published log gains between two sizes: the tiles and bundles to write (each
    the widest that now exists at its place), and those its old size had left partial."""

    tiles: list[tuple[TileRef, bytes]]
    # Tiles now full that were partial: their partial versions (kept for the checkpoints of
    # earlier sizes, as tlog-tiles requires) may now be deleted.
    superseded: list[TileRef]


def grown(
    old_size: int,
    new_size: int,
    entries: Sequence[bytes],
    edges: Mapping[int, bytes],
    leaves: Sequence[bytes] | None = None,
) -> Growth:
    """The tiles of a tree grown from ``old_size`` to ``new_size``.

    ``entries`` are the entries from the start of the old size's last bundle
    (``old_size // 256 * 256``) to ``new_size``; ``edges[level]`` (level ≥ 1) is the old
    size's partial tile at that level, as published (empty or absent when it had none);
    ``leaves``, when given, are the entries' leaf hashes. The caller checks the new root
    against the signed checkpoint: it covers the edges it read.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"a log grows, from {old_size} to {new_size}?")
    base = old_size // TILE_WIDTH * TILE_WIDTH
    if len(entries) != new_size - base:
        raise ValueError(f"expected entries {base} to {new_size}, got {len(entries)}")
    tiles: list[tuple[TileRef, bytes]] = []
    superseded: list[TileRef] = []
    if new_size == old_size:
        return Growth(tiles, superseded)
    _emit(None, base, old_size, list(entries), tiles, superseded, joined=bundle)
    # this level's hashes, from index `start` on
    hashes = list(leaves) if leaves is not None else [leaf_hash(entry) for entry in entries]
    level, start = 0, base
    while hashes_at(level, new_size) > hashes_at(level, old_size):
        _emit(level, start, hashes_at(level, old_size), hashes, tiles, superseded,
              joined=b"".join)  # fmt: skip
        # One hash a level up per full tile of this one: none of them was full at the old
        # size, so they follow the old size's partial tile of the level above (its edge).
        above = [
            perfect_root(hashes[i : i + TILE_WIDTH])
            for i in range(0, len(hashes) - TILE_WIDTH + 1, TILE_WIDTH)
        ]
        level += 1
        if hashes_at(level, new_size) == hashes_at(level, old_size):
            break
        old_count = hashes_at(level, old_size)
        start = old_count // TILE_WIDTH * TILE_WIDTH
        edge = hashes_of(edges.get(level, b""))
        if len(edge) != old_count - start:
            raise TileFormatError(
                f"{tile_path(level, start // TILE_WIDTH, max(1, old_count - start))} has "
                f"{len(edge)} hashes, not {old_count - start}"
            )
        hashes = edge + above
    return Growth(tiles, superseded)


GROWTH_CHUNK = 32 * TILE_WIDTH  # entries tiled at a time: flat memory for any log


@dataclass(slots=True)
class TreeGrowth:
    """A published tree growing from ``old``, entries fed in order: the full tiles and
    bundles come out as soon as they are complete, the partial ones once, at `finish`.
    Memory stays at a chunk of entries and one partial tile per level. (Which partial tiles
    of ``old`` the growth made full: `superseded_between`.)"""

    old: int
    size: int
    _at: int  # the size tiled so far
    _entries: list[bytes]  # from the start of the bundle holding _at, on
    _leaves: list[bytes]
    _edges: dict[int, bytes]  # the partial tile of each level at _at
    # The partial tiles of the size tiled so far, by (level, index): written at `finish`.
    _partials: dict[tuple[int | None, int], tuple[TileRef, bytes]] = field(default_factory=dict)

    @classmethod
    def start(cls, old: int, first: Sequence[bytes], edges: Mapping[int, bytes]) -> TreeGrowth:
        """``first``: the entries from ``old // 256 * 256`` to ``old``; ``edges``: the old
        size's partial tiles above level 0 (as `edges_needed(old, any larger size)` names)."""
        if len(first) != old % TILE_WIDTH:
            raise ValueError(f"expected {old % TILE_WIDTH} entries before {old}, got {len(first)}")
        return cls(old, old, old, list(first), [leaf_hash(e) for e in first], dict(edges))

    def add(self, entry: bytes, leaf: bytes | None = None) -> list[tuple[TileRef, bytes]]:
        """Feed the next entry (and its leaf hash, when known); returns the full tiles it
        completes, a chunk at a time."""
        self._entries.append(entry)
        self._leaves.append(leaf if leaf is not None else leaf_hash(entry))
        self.size += 1
        if len(self._entries) < GROWTH_CHUNK or self.size % TILE_WIDTH:
            return []
        return self._cut()

    def finish(self) -> list[tuple[TileRef, bytes]]:
        """Every tile still to write for the tree's size: full ones, and the partial ones
        (of every level, also those no entry since the last chunk changed)."""
        full = self._cut()
        return [*full, *self._partials.values()]

    def _cut(self) -> list[tuple[TileRef, bytes]]:
        """Tile what was fed since the last cut; returns the tiles that became full."""
        growth = grown(self._at, self.size, self._entries, self._edges, self._leaves)
        full = []
        for ref, data in growth.tiles:  # level by level, left to right: the last one wins
            if ref.level:
                self._edges[ref.level] = b"" if ref.is_full else data
            if ref.is_full:
                full.append((ref, data))
                self._partials.pop((ref.level, ref.index), None)
            else:
                self._partials[(ref.level, ref.index)] = (ref, data)
        keep = self.size % TILE_WIDTH  # the entries of the bundle still partial
        self._entries = self._entries[len(self._entries) - keep :] if keep else []
        self._leaves = self._leaves[len(self._leaves) - keep :] if keep else []
        self._at = self.size
        return full


def superseded_between(old_size: int, new_size: int) -> list[TileRef]:
    """The tiles (and bundles) partial at ``old_size`` and full at ``new_size``: their
    partial versions may go once the new size is published."""
    found = []
    for level in (None, *range(64)):
        old = old_size if level is None else hashes_at(level, old_size)
        new = new_size if level is None else hashes_at(level, new_size)
        if new == 0:
            break
        if old % TILE_WIDTH and new >= (old // TILE_WIDTH + 1) * TILE_WIDTH:
            found.append(TileRef(level, old // TILE_WIDTH, TILE_WIDTH))
    return found


def edges_of(size: int) -> list[TileRef]:
    """The partial tiles above level 0 of a tree of ``size``: what growing it starts from."""
    return edges_needed(size, 1 << 62)


def edges_needed(old_size: int, new_size: int) -> list[TileRef]:
    """The old size's partial tiles above level 0 that `grown` needs (``edges``)."""
    needed = []
    level = 1
    while hashes_at(level, new_size) > hashes_at(level, old_size):
        old_count = hashes_at(level, old_size)
        if old_count % TILE_WIDTH:
            needed.append(TileRef(level, old_count // TILE_WIDTH, old_count % TILE_WIDTH))
        level += 1
    return needed


def _emit(
    level: int | None,
    start: int,
    old_count: int,
    values: Sequence[bytes],
    tiles: list[tuple[TileRef, bytes]],
    superseded: list[TileRef],
    *,
    joined: Callable[[Sequence[bytes]], bytes],
) -> None:
    """The tiles (or bundles) of one level from index ``start`` on, given their values."""
    for offset in range(0, len(values), TILE_WIDTH):
        part = values[offset : offset + TILE_WIDTH]
        index = (start + offset) // TILE_WIDTH
        tiles.append((TileRef(level, index, len(part)), joined(part)))
        old_width = max(0, min(TILE_WIDTH, old_count - index * TILE_WIDTH))
        if 0 < old_width < TILE_WIDTH and len(part) == TILE_WIDTH:
            superseded.append(TileRef(level, index, TILE_WIDTH))


# -- reading a published tree ---------------------------------------------------------------------

# Reads the hash tile at (level, index) of the given width; None when it is not there.
TileReader = Callable[[int, int, int], bytes | None]


class TileMissingError(LookupError):
    """A tile the tree needs is not published (or not readable)."""


@dataclass(slots=True)
class TiledTree:
    """A published tree of ``size`` entries, read through its hash tiles: the hash of any of
    its subtrees, its root, consistency proofs from an older size. Tiles are read once."""

    size: int
    read: TileReader
    _tiles: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)

    def stored_hash(self, level: int, index: int) -> bytes:
        """The hash at ``level`` (height 8·level) and ``index``, from the tile holding it."""
        number = index // TILE_WIDTH
        if (level, number) not in self._tiles:
            width = tile_width(level, number, self.size)
            if index >= hashes_at(level, self.size):
                raise TileMissingError(f"no hash {index} at level {level} in a tree of {self.size}")
            data = self.read(level, number, width)
            if data is None:
                raise TileMissingError(f"{tile_path(level, number, width)} is missing")
            hashes = hashes_of(data)
            if len(hashes) != width:
                raise TileFormatError(
                    f"{tile_path(level, number, width)} has {len(hashes)} hashes, not {width}"
                )
            self._tiles[(level, number)] = hashes
        return self._tiles[(level, number)][index % TILE_WIDTH]

    def perfect(self, height: int, index: int) -> bytes:
        """The hash of the perfect subtree of ``2**height`` leaves starting at leaf
        ``index * 2**height``."""
        level, below = divmod(height, TILE_HEIGHT)
        span = 1 << below
        return perfect_root([self.stored_hash(level, index * span + i) for i in range(span)])

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) as RFC 6962 §2.1 defines it, for a range the RFC's recursion
        makes (``start`` a multiple of the largest power of two below ``end - start``)."""
        count = end - start
        if count <= 0 or end > self.size:
            raise ValueError(f"no subtree {start}..{end} in a tree of {self.size}")
        if count & (count - 1) == 0 and start % count == 0:
            return self.perfect(count.bit_length() - 1, start // count)
        split = _largest_power_of_two_below(count)
        return node_hash(self.subtree(start, start + split), self.subtree(start + split, end))

    def root(self) -> bytes:
        return self.subtree(0, self.size) if self.size else leaf_root_of_empty()

    def consistency_proof(self, old_size: int) -> list[bytes]:
        """PROOF(old_size, D[size]) of RFC 6962 §2.1.2."""
        if not 0 < old_size <= self.size:
            raise ValueError(f"no consistency proof from {old_size} to {self.size}")
        return self._subproof(old_size, 0, self.size, complete=True)

    def _subproof(self, m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self.subtree(start, end)]
        k = _largest_power_of_two_below(n)
        if m <= k:
            return [
                *self._subproof(m, start, start + k, complete=complete),
                self.subtree(start + k, end),
            ]
        return [
            *self._subproof(m - k, start + k, end, complete=False),
            self.subtree(start, start + k),
        ]


def leaf_root_of_empty() -> bytes:
    """MTH of the empty tree: SHA-256 of nothing (RFC 6962 §2.1)."""
    return TreeFrontier().root()


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def is_consistent(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``old_size`` with ``old_root`` to be a prefix of the
    tree of ``new_size`` with ``new_root`` (RFC 9162 §2.1.4.2)."""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or any(len(node) != HASH_SIZE for node in proof):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# -- checking a published tree, bundle by bundle -------------------------------------------------


@dataclass(slots=True)
class TreeCheck:
    """Recomputes a published tree of ``size`` from its entry bundles, fed in order, and
    compares every hash tile with what it must hold; collects the root at ``sizes``.

    Memory stays at one partial tile per level, whatever the size of the log.
    """

    size: int
    read: TileReader
    sizes: Collection[int] = ()
    roots: dict[int, bytes] = field(default_factory=dict)  # the root at each of ``sizes``
    frontiers: dict[int, str] = field(default_factory=dict)  # and the tree's frontier there
    frontier: TreeFrontier = field(default_factory=TreeFrontier)
    _pending: dict[int, list[bytes]] = field(default_factory=dict)

    def bundles(self) -> Iterator[TileRef]:
        """The bundles to feed, in order."""
        for index in range(-(-self.size // TILE_WIDTH)):
            yield TileRef(None, index, min(TILE_WIDTH, self.size - index * TILE_WIDTH))

    def add(self, ref: TileRef, entries: Sequence[bytes]) -> list[bytes]:
        """Feed the next bundle's entries; returns their leaf hashes. Raises TileFormatError
        naming the first file that does not hold what it must."""
        if len(entries) != ref.width:
            raise TileFormatError(f"{ref.path} holds {len(entries)} entries, not {ref.width}")
        leaves = [leaf_hash(entry) for entry in entries]
        for leaf in leaves:
            self.frontier.add(leaf)
            if self.frontier.size in self.sizes:
                self.roots[self.frontier.size] = self.frontier.root()
                self.frontiers[self.frontier.size] = self.frontier.encoded()
        self._compare(0, ref.index, leaves, what=f"the entries of {ref.path}")
        return leaves

    def _compare(self, level: int, index: int, hashes: list[bytes], *, what: str) -> None:
        path = tile_path(level, index, len(hashes))
        if self.read(level, index, len(hashes)) != b"".join(hashes):
            found = self.read(level, index, len(hashes))
            state = "is missing" if found is None else "does not match " + what
            raise TileFormatError(f"{path} {state}")
        if len(hashes) < TILE_WIDTH:
            return  # a partial tile is hashed into no tile above (tlog-tiles)
        above = self._pending.setdefault(level + 1, [])
        above.append(perfect_root(hashes))
        if len(above) == TILE_WIDTH:
            self._pending[level + 1] = []
            self._compare(level + 1, index // TILE_WIDTH, above, what=f"the tiles of level {level}")

    def finish(self) -> bytes:
        """After the last bundle: compare the partial tiles above level 0, and return the
        tree's root."""
        if self.frontier.size != self.size:
            raise TileFormatError(f"{self.frontier.size} entries fed, {self.size} expected")
        for level in sorted(self._pending):
            hashes = self._pending[level]
            if hashes:
                index = hashes_at(level, self.size) // TILE_WIDTH
                self._compare(level, index, hashes, what=f"the tiles of level {level - 1}")
        return self.frontier.root()
