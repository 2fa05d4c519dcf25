"""The RFC 6962 Merkle tree: the certificate-transparency test vectors, a reference MTH and
PATH written straight from RFC 6962 §2.1, and inclusion proofs that fail when anything in
them is wrong."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.domain.merkle import (
    HASH_SIZE,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_inclusion_proof,
)

# certificate-transparency's test leaves and the roots of their first 0..8 (RFC 6962 tests)
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path) from certificate-transparency's tests
CT_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def reference_mth(entries: Sequence[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 §2.1 defines it, over the entries' data (not hashes)."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = _split(n)
    return hashlib.sha256(
        b"\x01" + reference_mth(entries[:k]) + reference_mth(entries[k:])
    ).digest()


def reference_path(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 6962 §2.1.1 defines it."""
    n = len(entries)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*reference_path(m, entries[:k]), reference_mth(entries[k:])]
    return [*reference_path(m - k, entries[k:]), reference_mth(entries[:k])]


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1), by counting up."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _data(n: int) -> list[bytes]:
    """n distinct entries of varying lengths."""
    return [bytes([i % 256]) * (i % 5) + i.to_bytes(2, "big") for i in range(n)]


def _verifies(index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], want: bytes) -> bool:
    """Whether the proof leads to ``want`` (a proof that does not fit is not a proof)."""
    try:
        return root_from_inclusion_proof(index, tree_size, leaf, proof) == want
    except ValueError:
        return False


def test_leaf_and_node_hashes_use_the_rfc_6962_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = leaf_hash(b"l"), leaf_hash(b"r")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert node_hash(left, right) != node_hash(right, left)


def test_a_leaf_never_hashes_like_the_node_with_the_same_bytes() -> None:
    left, right = leaf_hash(b"l"), leaf_hash(b"r")
    assert leaf_hash(left + right) != node_hash(left, right)


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_root_matches_the_certificate_transparency_vectors(size: int) -> None:
    assert root(leaf_hash(leaf) for leaf in CT_LEAVES[:size]).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), CT_PROOFS)
def test_inclusion_proof_matches_the_certificate_transparency_vectors(
    index: int, size: int, path: list[str]
) -> None:
    leaves = [leaf_hash(leaf) for leaf in CT_LEAVES[:size]]
    proof = inclusion_proof(index, leaves)
    assert [node.hex() for node in proof] == path
    assert root_from_inclusion_proof(index, size, leaves[index], proof).hex() == CT_ROOTS[size]


def test_root_agrees_with_the_rfc_definition_for_sizes_0_to_70() -> None:
    data = _data(70)
    for size in range(71):
        assert root([leaf_hash(d) for d in data[:size]]) == reference_mth(data[:size]), size


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=40))
def test_root_agrees_with_the_rfc_definition_for_any_leaves(data: list[bytes]) -> None:
    assert root([leaf_hash(d) for d in data]) == reference_mth(data)


def test_root_accepts_a_one_pass_iterator() -> None:
    data = _data(13)
    assert root(leaf_hash(d) for d in data) == reference_mth(data)


def test_every_proof_of_sizes_1_to_70_matches_the_rfc_path_and_leads_to_the_root() -> None:
    data = _data(70)
    for size in range(1, 71):
        leaves = [leaf_hash(d) for d in data[:size]]
        want = reference_mth(data[:size])
        for index in range(size):
            proof = inclusion_proof(index, leaves)
            assert proof == reference_path(index, data[:size]), (index, size)
            assert root_from_inclusion_proof(index, size, leaves[index], proof) == want


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_proof_for_any_leaves_leads_to_their_root(data: st.DataObject) -> None:
    entries = data.draw(st.lists(st.binary(max_size=16), min_size=1, max_size=40))
    index = data.draw(st.integers(0, len(entries) - 1))
    leaves = [leaf_hash(d) for d in entries]
    proof = inclusion_proof(index, leaves)
    assert root_from_inclusion_proof(index, len(leaves), leaves[index], proof) == root(leaves)


SIZES = [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33]


@pytest.mark.parametrize("size", SIZES)
def test_a_proof_fails_for_a_wrong_leaf(size: int) -> None:
    leaves = [leaf_hash(d) for d in _data(size)]
    want = root(leaves)
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        assert _verifies(index, size, leaves[index], proof, want)
        assert not _verifies(index, size, leaf_hash(b"forged"), proof, want)
        if size > 1:  # another leaf of the same tree
            assert not _verifies(index, size, leaves[(index + 1) % size], proof, want)


@pytest.mark.parametrize("size", SIZES)
def test_a_proof_fails_for_any_other_index(size: int) -> None:
    leaves = [leaf_hash(d) for d in _data(size)]
    want = root(leaves)
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        for other in range(size):
            if other != index:
                assert not _verifies(other, size, leaves[index], proof, want), (index, other)


@pytest.mark.parametrize("size", SIZES)
def test_a_proof_fails_against_a_tree_of_another_size(size: int) -> None:
    """Claimed for a tree of another size, the proof does not lead to that tree's root."""
    leaves = [leaf_hash(d) for d in _data(40)]
    roots = [root(leaves[:n]) for n in range(41)]
    for index in range(size):
        proof = inclusion_proof(index, leaves[:size])
        for other in range(index + 1, 41):
            if other != size:
                assert not _verifies(index, other, leaves[index], proof, roots[other]), other


@pytest.mark.parametrize("size", SIZES)
def test_a_truncated_or_extended_proof_raises(size: int) -> None:
    leaves = [leaf_hash(d) for d in _data(size)]
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        with pytest.raises(ValueError, match="does not fit"):
            root_from_inclusion_proof(index, size, leaves[index], [*proof, leaf_hash(b"x")])
        if proof:
            with pytest.raises(ValueError, match="too short"):
                root_from_inclusion_proof(index, size, leaves[index], proof[:-1])


@pytest.mark.parametrize("size", [s for s in SIZES if s > 1])
def test_a_proof_with_a_flipped_bit_fails(size: int) -> None:
    leaves = [leaf_hash(d) for d in _data(size)]
    want = root(leaves)
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        for position in range(len(proof)):
            for bit in (0, 8 * HASH_SIZE - 1):  # the first and the last bit of the node
                node = bytearray(proof[position])
                node[bit // 8] ^= 0x80 >> (bit % 8)
                tampered = [*proof[:position], bytes(node), *proof[position + 1 :]]
                assert not _verifies(index, size, leaves[index], tampered, want), (index, bit)


def test_a_proof_node_of_the_wrong_length_raises() -> None:
    leaves = [leaf_hash(d) for d in _data(4)]
    proof = inclusion_proof(1, leaves)
    with pytest.raises(ValueError, match="does not fit"):
        root_from_inclusion_proof(1, 4, leaves[1], [proof[0][:-1], *proof[1:]])


@pytest.mark.parametrize("index", [-1, 5, 6])
def test_inclusion_proof_of_an_index_outside_the_tree_raises(index: int) -> None:
    leaves = [leaf_hash(d) for d in _data(5)]
    with pytest.raises(ValueError, match="not in a tree of 5"):
        inclusion_proof(index, leaves)


def test_inclusion_proof_in_an_empty_tree_raises() -> None:
    with pytest.raises(ValueError, match="not in a tree of 0"):
        inclusion_proof(0, [])


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (6, 5), (0, 0)])
def test_root_from_proof_of_an_index_outside_the_tree_raises(index: int, size: int) -> None:
    with pytest.raises(ValueError, match=f"not in a tree of {size}"):
        root_from_inclusion_proof(index, size, leaf_hash(b"x"), [])
