"""The tiled log (C2SP tlog-tiles) checked against an independent reading of the texts: the
tile paths, the hashes each tile must hold and the partial tiles of every size are computed
here straight from the tlog-tiles specification and RFC 6962 §2.1 (hashlib only, none of the
product's Merkle code), and compared with what the product writes as a log grows; consistency
proofs are compared with RFC 6962 §2.1.2's PROOF and checked per RFC 9162 §2.1.4.2."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.domain.tiles import (
    TILE_WIDTH,
    TiledTree,
    TileFormatError,
    TileReader,
    TreeCheck,
    TreeGrowth,
    bundle,
    bundle_path,
    edges_needed,
    edges_of,
    grown,
    is_consistent,
    superseded_between,
    tile_path,
    unbundled,
)

# -- the independent reading: the texts, nothing of the product ------------------------------


def spec_index(n: int) -> str:
    """tlog-tiles: "a non-negative integer encoded into zero-padded 3-digit path elements. All
    but the last path element MUST begin with an x"."""
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + part for part in parts[:-1]] + [parts[-1]])


def spec_tile_name(level: int | str, n: int, width: int) -> str:
    suffix = "" if width == 256 else f".p/{width}"
    return f"tile/{level}/{spec_index(n)}{suffix}"


def mth(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1: MTH({}) = SHA-256(), MTH({d0}) = SHA-256(0x00 || d0), and
    MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of 2 < n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def rfc_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.2: PROOF(m, D[n]) = SUBPROOF(m, D[n], true)."""

    def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if b else [mth(d)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return [*subproof(m, d[:k], b), mth(d[k:])]
        return [*subproof(m - k, d[k:], False), mth(d[:k])]

    return subproof(m, leaves, True)


def spec_files(entries: Sequence[bytes]) -> dict[str, bytes]:
    """Every tile and bundle tlog-tiles says a tree of these entries has: "the n-th tile at
    level l ... is the sequence of MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) *
    256**l])"; "the partial tile at level l for a tree of size s has floor(s / 256**l) mod 256
    entries. Empty tiles MUST NOT be served"; bundles are "big-endian uint16 length-prefixed
    log entries"."""
    size = len(entries)
    leaf = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
    files: dict[str, bytes] = {}
    for n in range(0, (size + 255) // 256):
        part = entries[n * 256 : (n + 1) * 256]
        files[spec_tile_name("entries", n, len(part))] = b"".join(
            len(e).to_bytes(2, "big") + e for e in part
        )
    level = 0
    while size // 256**level:
        count = size // 256**level  # complete hashes at this level
        for n in range((count + 255) // 256):
            width = min(256, count - n * 256)
            hashes = []
            for i in range(width):
                first, end = (n * 256 + i) * 256**level, (n * 256 + i + 1) * 256**level
                hashes.append(leaf[first] if level == 0 and end - first == 1 else _mth_of_leaves(
                    leaf[first:end]))  # fmt: skip
            files[spec_tile_name(level, n, width)] = b"".join(hashes)
        level += 1
    return files


def _mth_of_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaves given by their leaf hashes (the same recursion as `mth`)."""
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < len(leaf_hashes):
        k *= 2
    left, right = _mth_of_leaves(leaf_hashes[:k]), _mth_of_leaves(leaf_hashes[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


# -- the product, growing a published tree as runs do --------------------------------------


def entries_of(size: int) -> list[bytes]:
    return [f'{{"seq":{i},"x":"{"y" * (i % 7)}"}}'.encode() for i in range(size)]


def published(entries: Sequence[bytes], steps: Sequence[int]) -> dict[str, bytes]:
    """The files the product leaves after growing the log through ``steps`` (the sizes of
    its checkpoints), deleting superseded partial tiles as the publish step does."""
    files: dict[str, bytes] = {}
    old = 0
    for new in steps:
        edges = {ref.level or 0: files[ref.path] for ref in edges_needed(old, new)}
        growth = grown(old, new, entries[old // TILE_WIDTH * TILE_WIDTH : new], edges)
        for ref, data in growth.tiles:
            files[ref.path] = data
        for ref in growth.superseded:
            for path in [p for p in files if p.startswith(ref.path + ".p/")]:
                del files[path]
        old = new
    return files


@pytest.mark.parametrize(
    ("n", "path"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_tile_indexes_are_written_as_the_spec_says(n: int, path: str) -> None:
    """tlog-tiles' own example: 1234067 is x001/x234/067."""
    assert spec_index(n) == path
    assert tile_path(0, n) == f"tile/0/{path}"
    assert tile_path(3, n, 17) == f"tile/3/{path}.p/17"
    assert bundle_path(n, 1) == f"tile/entries/{path}.p/1"


def test_the_spec_examples_of_partial_tiles() -> None:
    """ "A tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level
    0 tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    partial level 2 tile of width 1"; "a tree of size 256 ... a full level 0 tile and a partial
    level 1 tile of width 1"."""
    files = published(entries_of(70_000), [70_000])
    hash_tiles = sorted(path for path in files if "entries" not in path)
    assert len([p for p in hash_tiles if p.startswith("tile/0/") and ".p/" not in p]) == 273
    assert [p for p in hash_tiles if ".p/" in p] == [
        "tile/0/273.p/112",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
    ]
    assert "tile/1/000" in files
    assert sorted(published(entries_of(256), [256])) == [
        "tile/0/000",
        "tile/1/000.p/1",
        "tile/entries/000",
    ]


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 512, 513, 1000, 65_536, 70_000])
def test_a_tree_published_at_once_holds_exactly_the_spec_s_tiles(size: int) -> None:
    """Every tile and bundle the spec requires for the size, each with the hashes the spec
    defines, and nothing else."""
    entries = entries_of(size)
    assert published(entries, [size]) == spec_files(entries)


def test_a_tree_grown_run_by_run_keeps_the_partial_tiles_of_its_checkpoints() -> None:
    """Grown through many checkpoints (as nights are), the log holds the spec's tiles for its
    size, and the partial tiles of earlier checkpoints until their tile is full ("Logs MUST
    serve partial tiles corresponding to tree sizes for which a checkpoint was produced, but
    MAY delete any partial tile once the corresponding full tile is ... available")."""
    steps = [1, 3, 200, 256, 300, 511, 1000, 1024, 65_535, 65_536, 65_700, 70_000]
    entries = entries_of(steps[-1])
    files = published(entries, steps)
    expected = spec_files(entries)
    assert {path: files[path] for path in expected} == expected
    for step in [*steps[:8], 65_700]:  # earlier checkpoints' tiles: there, or their tile full
        for path, data in spec_files(entries[:step]).items():
            if path in files:
                assert files[path] == data, path
            else:
                assert ".p/" in path, path
                assert path.split(".p/")[0] in files, path
    # Every tile that was partial at a checkpoint is full by 70,000 or still has the width
    # it had then: no narrower partial tile is left over.
    assert sorted(set(files) - set(expected)) == []
    middle = published(entries, [65_700, 65_750])  # two checkpoints in one level-0 tile
    assert {"tile/0/256.p/164", "tile/0/256.p/214"} <= set(middle)
    assert "tile/0/256.p/164" not in published(entries, [65_700, 65_800])  # full: deleted


def test_the_root_and_any_subtree_are_read_from_the_tiles() -> None:
    """TiledTree's root is RFC 6962's MTH, for sizes around tile boundaries."""
    for size in (1, 5, 255, 256, 257, 600, 65_537):
        entries = entries_of(size)
        files = published(entries, [size])
        tree = TiledTree(size, reader(files))
        assert tree.root() == mth(entries), size


def reader(files: dict[str, bytes]) -> TileReader:
    return lambda level, index, width: files.get(tile_path(level, index, width))


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 31, 300, 600])
def test_consistency_proofs_are_rfc_6962_s_and_verify(size: int) -> None:
    """For every older size m: the proof read from the tiles is PROOF(m, D[n]) of RFC 6962,
    and the RFC 9162 check accepts it, and rejects it for another old root."""
    entries = entries_of(size)
    files = published(entries, [size])
    tree = TiledTree(size, lambda lv, ix, w: files.get(tile_path(lv, ix, w)))
    ms = range(1, size + 1) if size < 40 else [1, 2, 3, 128, 255, 256, 257, 299, 300, size]
    for m in ms:
        proof = tree.consistency_proof(m)
        assert proof == rfc_proof(m, entries), m
        assert is_consistent(m, size, mth(entries[:m]), mth(entries), proof), m
        if m < size:
            assert not is_consistent(m, size, mth(entries[1 : m + 1]), mth(entries), proof), m


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_consistency_proof_that_is_not_right_fails(data: st.DataObject) -> None:
    """Any change to a valid proof, its sizes or its roots makes the check fail."""
    size = data.draw(st.integers(2, 70))
    m = data.draw(st.integers(1, size - 1))
    entries = entries_of(size)
    proof = rfc_proof(m, entries)
    old, new = mth(entries[:m]), mth(entries)
    assert is_consistent(m, size, old, new, proof)
    # (Not the new size alone: a proof binds the shape it walks, and another size can share it.)
    change = data.draw(st.sampled_from(["node", "drop", "extra", "m", "old", "new"]))
    if change == "node" and proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        proof = [*proof[:at], bytes([proof[at][0] ^ 1]) + proof[at][1:], *proof[at + 1 :]]
    elif change == "drop" and proof:
        proof = proof[:-1]
    elif change == "extra":
        proof = [*proof, hashlib.sha256(b"x").digest()]
    elif change == "m":
        m = m + 1 if m + 1 < size else m - 1 if m > 1 else m
        if mth(entries[:m]) == old:
            return
    elif change == "old":
        old = hashlib.sha256(old).digest()
    elif change == "new":
        new = hashlib.sha256(new).digest()
    else:
        return  # nothing to change in an empty proof that way
    assert not is_consistent(m, size, old, new, proof)


def test_bundles_round_trip_and_refuse_what_is_cut_off() -> None:
    entries = [b"", b"a", bytes(range(256)) * 3]
    data = bundle(entries)
    assert data[:2] == b"\x00\x00"
    assert unbundled(data) == entries
    with pytest.raises(TileFormatError):
        unbundled(data[:-1])
    with pytest.raises(ValueError, match="does not fit"):
        bundle([b"x" * 65_536])


def _check(files: dict[str, bytes], size: int) -> bytes:
    check = TreeCheck(size, lambda lv, ix, w: files.get(tile_path(lv, ix, w)))
    for ref in check.bundles():
        check.add(ref, unbundled(files[ref.path]))
    return check.finish()


def test_checking_a_tree_reads_back_every_tile() -> None:
    """An intact tree checks and gives its root; a changed tile, a missing one and a bundle
    whose entries were reordered (with its level-0 tile) are each found."""
    size = 70_000
    entries = entries_of(size)
    files = published(entries, [size])
    assert _check(files, size) == mth(entries)
    for path, damage in (("tile/1/000", "change"), ("tile/2/000.p/1", "remove"),
                         ("tile/0/100", "remove"), ("tile/1/001.p/17", "change")):  # fmt: skip
        changed = dict(files)
        if damage == "change":
            changed[path] = b"\x00" + files[path][1:]
        else:
            del changed[path]
        with pytest.raises(TileFormatError, match="does not match" if damage == "change" else
                           "missing"):  # fmt: skip
            _check(changed, size)
    reordered = dict(files)
    part = entries[256:512]
    part[0], part[1] = part[1], part[0]
    reordered["tile/entries/001"] = bundle(part)
    reordered["tile/0/001"] = b"".join(hashlib.sha256(b"\x00" + e).digest() for e in part)
    with pytest.raises(TileFormatError, match="tile/1/000 does not match"):
        _check(reordered, size)


@pytest.mark.parametrize("steps", [[70_000], [1, 300, 65_600, 70_000]], ids=str)
def test_a_tree_fed_entry_by_entry_gives_the_same_tiles(steps: list[int]) -> None:
    """TreeGrowth (how the seal stages tiles, and publishing from the database streams them)
    leaves the same files as growing in one step, with the same partial tiles superseded,
    also a partial tile a level above that no entry of the last chunk changed."""
    entries = entries_of(steps[-1])
    files: dict[str, bytes] = {}
    old = 0
    for new in steps:
        edges = {ref.level or 0: files[ref.path] for ref in edges_of(old)}
        growth = TreeGrowth.start(old, entries[old // TILE_WIDTH * TILE_WIDTH : old], edges)
        written = []
        for entry in entries[old:new]:
            written += growth.add(entry)
        assert all(ref.is_full for ref, _ in written)  # partial tiles only at the end
        written += growth.finish()
        files.update((ref.path, data) for ref, data in written)
        for ref in superseded_between(old, new):
            for path in [p for p in files if p.startswith(ref.path + ".p/")]:
                del files[path]
        old = new
    assert files == published(entries, steps)
