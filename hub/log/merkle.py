"""RFC 9162 Merkle hash trees: hashing, proofs as ranges, verification. Pure, no storage.

A tree over leaves D[0:n] hashes a leaf as SHA-256(0x00 || entry) and a node as
SHA-256(0x01 || left || right); MTH(D[0:n]) splits at the largest power of two below n
(RFC 9162 section 2.1.1). Proofs (sections 2.1.3 and 2.1.4) are computed here as the
*ranges* whose subtree hashes they list, so a store can fetch every hash a proof needs in
one read: each range decomposes into at most log2(n) complete, aligned subtrees
(`Node`), which is what the log stores. Verification needs nothing but hashes.

This module is also the core of the offline verifier (`hub.log.verify`): it imports
nothing from the server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): the hash of one leaf."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below size (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


@dataclass(frozen=True, slots=True, order=True)
class Node:
    """A complete subtree: leaves [index * 2**level, (index + 1) * 2**level)."""

    level: int
    index: int

    @property
    def begin(self) -> int:
        """Its first leaf."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past its last leaf."""
        return (self.index + 1) << self.level


Range = tuple[int, int]


def range_nodes(begin: int, end: int) -> list[Node]:
    """The complete subtrees whose right fold is MTH(D[begin:end]), left to right.

    Holds for every range the RFC's recursion produces: `begin` is a multiple of a power of
    two at least end - begin, so MTH splits off the largest power of two each time.
    """
    size = end - begin
    if size <= 0:
        raise ValueError(f"empty range [{begin}, {end})")
    if begin & ((1 << (size - 1).bit_length()) - 1):
        raise ValueError(f"range [{begin}, {end}) is not a subtree of any tree")
    nodes = []
    at = begin
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append(Node(level, at >> level))
            at += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive subtrees given left to right, largest first (a right fold)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes form PATH(index, D[0:size]), leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
    ranges.reverse()
    return ranges


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The subtrees whose hashes form PROOF(old, D[0:new]) (RFC 9162 SUBPROOF)."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    ranges: list[Range] = []
    begin, end, whole = 0, new, True
    m = old
    while m != end - begin:
        k = _split(end - begin)
        if m <= k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
            m -= k
            whole = False
    if not whole:
        ranges.append((begin, end))
    ranges.reverse()
    return ranges


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    """Every stored node the given ranges need."""
    return {node for begin, end in ranges for node in range_nodes(begin, end)}


def hashes_for(ranges: Iterable[Range], nodes: Mapping[Node, bytes]) -> list[bytes]:
    """The hash of each range, from the stored nodes (KeyError if one is missing)."""
    return [fold([nodes[n] for n in range_nodes(b, e)]) for b, e in ranges]


def frontier(size: int) -> list[Node]:
    """The complete subtrees that make up a tree of `size` leaves, left to right."""
    return range_nodes(0, size) if size else []


def append(
    size: int, edge: Mapping[Node, bytes], leaves: Sequence[bytes]
) -> tuple[dict[Node, bytes], bytes]:
    """Appends leaf hashes to a tree of `size` leaves whose frontier hashes are `edge`.

    Returns every node completed by the appended leaves (the leaves included) and the new
    root: what a store writes to grow the tree without reading anything else.
    """
    known = {node: edge[node] for node in frontier(size)}
    created: dict[Node, bytes] = {}
    for offset, leaf in enumerate(leaves):
        node, value = Node(0, size + offset), leaf
        created[node] = value
        known[node] = value
        while node.index & 1:
            left = known[Node(node.level, node.index - 1)]
            node, value = Node(node.level + 1, node.index >> 1), node_hash(left, value)
            created[node] = value
            known[node] = value
    total = size + len(leaves)
    root = fold([known[n] for n in frontier(total)])
    return created, root


def root_from(size: int, nodes: Mapping[Node, bytes]) -> bytes:
    """The root of a tree of `size` leaves from its frontier nodes."""
    return fold([nodes[n] for n in frontier(size)])


class ProofError(ValueError):
    """A proof does not verify: it is malformed or does not match the hashes given."""


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2), or ProofError."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "a proof hash")
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raises ProofError unless the proof shows leaf `index` in the tree with this root."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raises ProofError unless the proof shows tree `old` is a prefix of tree `new`
    (RFC 9162 section 2.1.4.2)."""
    _check_hash(old_root, "the old root")
    _check_hash(new_root, "the new root")
    if not 0 <= old <= new:
        raise ProofError(f"size {old} is larger than size {new}")
    if old == new:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("two roots of the same size differ")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        if old_root != EMPTY_ROOT:
            raise ProofError("the root of the empty tree is SHA-256 of nothing")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    for p in path:
        _check_hash(p, "a proof hash")
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root")


HashSource = Callable[[Iterable[Node]], Mapping[Node, bytes]]


def inclusion_proof(index: int, size: int, source: HashSource) -> list[bytes]:
    """PATH(index, D[0:size]) from a source of stored node hashes."""
    ranges = inclusion_ranges(index, size)
    return hashes_for(ranges, source(nodes_for(ranges)))


def consistency_proof(old: int, new: int, source: HashSource) -> list[bytes]:
    """PROOF(old, D[0:new]) from a source of stored node hashes."""
    ranges = consistency_ranges(old, new)
    return hashes_for(ranges, source(nodes_for(ranges)))
