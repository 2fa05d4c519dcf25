"""The Merkle tree over a dispatch log (RFC 6962 §2.1, as restated by RFC 9162 §2.1).

Leaves and nodes are hashed with distinct prefixes (0x00, 0x01), so a leaf can never pass for
a node. The root of the first ``n`` entries is what a signed checkpoint commits to; an
inclusion proof (audit path) lets anyone holding a checkpoint check that one entry is in it
without the rest of the log. Written here because no maintained Python package offers it;
the tests pin the certificate-transparency test vectors.

>>> root([leaf_hash(b"")]).hex()[:16]
'6e340b9cffb37a98'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32


def leaf_hash(data: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An inner node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH of the leaves, streaming: keeps one hash per level (log n of them), not the tree."""
    frontier = TreeFrontier()
    for leaf in leaf_hashes:
        frontier.add(leaf)
    return frontier.root()


@dataclass(slots=True)
class TreeFrontier:
    """A tree kept as its perfect subtrees, one per set bit of its size, largest first: a log
    appends and computes its new root without reading its old leaves again.

    Perfect subtrees merge as soon as they are complete; the root folds the remaining ones
    right to left, which is exactly RFC 6962's split at the largest power of two.
    """

    size: int = 0
    subtrees: list[bytes] = field(default_factory=list)

    def add(self, leaf: bytes) -> None:
        digest, size = leaf, self.size
        while size & 1:  # every trailing one bit is a perfect subtree that now merges
            digest = node_hash(self.subtrees.pop(), digest)
            size >>= 1
        self.subtrees.append(digest)
        self.size += 1

    def root(self) -> bytes:
        if not self.subtrees:
            return hashlib.sha256(b"").digest()  # the empty tree
        digest = self.subtrees[-1]
        for left in reversed(self.subtrees[:-1]):
            digest = node_hash(left, digest)
        return digest

    def encoded(self) -> str:
        return ",".join(digest.hex() for digest in self.subtrees)

    @classmethod
    def decoded(cls, size: int, text: str) -> TreeFrontier:
        subtrees = [bytes.fromhex(part) for part in text.split(",") if part]
        if len(subtrees) != size.bit_count():
            expected = size.bit_count()
            raise ValueError(f"a tree of {size} needs {expected} subtrees, got {len(subtrees)}")
        return cls(size, subtrees)


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) of RFC 6962 §2.1.1: the sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaf_hashes)}")
    path: list[bytes] = []
    leaves = leaf_hashes
    while len(leaves) > 1:
        split = _largest_power_of_two_below(len(leaves))
        if index < split:
            path.append(root(leaves[split:]))
            leaves = leaves[:split]
        else:
            path.append(root(leaves[:split]))
            leaves, index = leaves[split:], index - split
    path.reverse()  # RFC order: the leaf's sibling first
    return path


def root_from_inclusion_proof(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root a proof leads to (RFC 9162 §2.1.3.2); compare it with a signed checkpoint's.

    Raises ValueError for a proof that cannot belong to a tree of that size.
    """
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of {tree_size}")
    fn, sn, digest = index, tree_size - 1, leaf
    for sibling in proof:
        if len(sibling) != HASH_SIZE or sn == 0:
            raise ValueError("the proof does not fit the tree size")
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            digest = node_hash(digest, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the proof is too short for the tree size")
    return digest


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 6962: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)
