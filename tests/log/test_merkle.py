"""RFC 9162 trees and proofs, checked against the RFC's recursive definitions written here."""

from __future__ import annotations

import hashlib

import pytest

from hub.log import merkle

# --- An independent reference: RFC 9162 section 2.1, written as the RFC writes it. ----------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) by the RFC's recursion on the entries themselves."""
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _k(len(d))
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    if len(d) <= 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n])."""
    return ref_subproof(m, d, True) if 0 < m < len(d) else []


# --- The tree under test: grown with `append`, read through its stored nodes. -----------------


class Tree:
    """An in-memory store of the nodes `merkle.append` creates."""

    def __init__(self) -> None:
        self.size = 0
        self.nodes: dict[merkle.Node, bytes] = {}
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}

    def add(self, entries: list[bytes]) -> None:
        created, root = merkle.append(self.size, self.nodes, [merkle.leaf_hash(e) for e in entries])
        self.nodes.update(created)
        self.size += len(entries)
        self.roots[self.size] = root

    def source(self, wanted):
        return {node: self.nodes[node] for node in wanted}


def _entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


EDGE_SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129]
PAIRS_UP_TO = 70


@pytest.fixture(scope="module")
def grown() -> tuple[Tree, list[bytes]]:
    """A tree grown one leaf at a time up to 129 leaves, keeping the root of every size."""
    tree = Tree()
    entries = _entries(129)
    for entry in entries:
        tree.add([entry])
    return tree, entries


def test_leaf_and_node_hashes_use_the_rfc_prefixes():
    assert merkle.leaf_hash(b"x") == _h(b"\x00x")
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == _h(b"\x01" + b"a" * 32 + b"b" * 32)
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_roots_of_every_size_match_the_recursive_definition(grown):
    tree, entries = grown
    for size in range(0, 130):
        assert tree.roots[size] == ref_mth(entries[:size]), size


def test_growing_in_batches_gives_the_same_nodes_as_one_at_a_time(grown):
    one_by_one, entries = grown
    batched = Tree()
    for chunk in (1, 2, 5, 8, 13, 35, 64, 1):
        batched.add(entries[batched.size : batched.size + chunk])
    assert batched.size == 129
    assert batched.nodes == one_by_one.nodes
    assert batched.roots[129] == ref_mth(entries)


def test_stored_nodes_are_exactly_the_complete_subtrees(grown):
    tree, entries = grown
    for node, value in tree.nodes.items():
        assert node.end <= 129
        assert value == ref_mth(entries[node.begin : node.end])
    # 129 leaves hold 128 + 64 + ... + 1 complete interior subtrees of the first 128, plus 1.
    assert len(tree.nodes) == 129 + 127


@pytest.mark.parametrize("size", EDGE_SIZES)
def test_inclusion_proofs_match_path_for_the_rfc_edge_sizes(grown, size):
    tree, entries = grown
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, tree.source)
        assert proof == ref_path(index, entries[:size])
        merkle.verify_inclusion(
            index, size, merkle.leaf_hash(entries[index]), proof, tree.roots[size]
        )


def test_consistency_proofs_match_proof_for_all_pairs_up_to_70(grown):
    tree, entries = grown
    for new in range(0, PAIRS_UP_TO + 1):
        for old in range(0, new + 1):
            proof = merkle.consistency_proof(old, new, tree.source)
            assert proof == ref_proof(old, entries[:new]), (old, new)
            merkle.verify_consistency(old, new, tree.roots[old], tree.roots[new], proof)


def test_inclusion_proofs_verify_for_all_pairs_up_to_70(grown):
    tree, entries = grown
    for size in range(1, PAIRS_UP_TO + 1):
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, tree.source)
            assert proof == ref_path(index, entries[:size])
            merkle.verify_inclusion(
                index, size, merkle.leaf_hash(entries[index]), proof, tree.roots[size]
            )


def test_proof_sizes_are_logarithmic():
    assert len(merkle.inclusion_ranges(0, 1)) == 0
    assert len(merkle.inclusion_ranges(5, 1 << 20)) == 20
    assert len(merkle.inclusion_ranges(1 << 20, (1 << 20) + 1)) == 1
    assert len(merkle.inclusion_ranges((1 << 20) - 1, (1 << 20) + 1)) == 21
    assert len(merkle.consistency_ranges(1000, 1_000_000)) <= 2 * 20
    # and each proof hash needs at most log2(n) stored nodes
    ranges = merkle.inclusion_ranges(0, (1 << 20) - 1)
    assert len(merkle.nodes_for(ranges)) <= 2 * 20


def _flip(value: bytes, at: int = 0) -> bytes:
    return value[:at] + bytes([value[at] ^ 1]) + value[at + 1 :]


@pytest.mark.parametrize("size", [2, 3, 7, 8, 9, 33, 65])
def test_tampered_inclusion_proofs_are_refused(grown, size):
    tree, entries = grown
    root = tree.roots[size]
    for index in range(size):
        leaf = merkle.leaf_hash(entries[index])
        proof = merkle.inclusion_proof(index, size, tree.source)
        attacks = [
            (index, size, merkle.leaf_hash(b"forged"), proof),  # another entry
            (index, size, merkle.node_hash(leaf, leaf), proof),  # an interior node as a leaf
            (index, size, leaf, [*proof, proof[0]]),  # one hash too many
            (index, size, leaf, proof[:-1]),  # one hash too few
            (index, size, leaf, proof[::-1]) if len(proof) > 1 else None,  # reordered
            (index ^ 1, size, leaf, proof) if (index ^ 1) < size else None,  # another index
        ]
        for i in range(len(proof)):
            changed = list(proof)
            changed[i] = _flip(changed[i], i % 32)
            attacks.append((index, size, leaf, changed))
        for attack in filter(None, attacks):
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(*attack, root)
        # The size is bound to the root by the checkpoint: a proof for one size does not
        # verify against the tree head of another.
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size + 1, leaf, proof, tree.roots[size + 1])


def test_inclusion_refuses_out_of_range_indexes_and_bad_hash_lengths(grown):
    tree, entries = grown
    leaf = merkle.leaf_hash(entries[0])
    for index, size in [(-1, 4), (4, 4), (0, 0)]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaf, [], tree.roots[4])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(0, 2, leaf, [b"short"], tree.roots[2])
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(4, 4)


def test_tampered_consistency_proofs_are_refused(grown):
    tree, _ = grown
    for new in [3, 7, 8, 9, 17, 33, 65]:
        for old in range(1, new):
            proof = merkle.consistency_proof(old, new, tree.source)
            r_old, r_new = tree.roots[old], tree.roots[new]
            attacks = [
                (old, new, _flip(r_old), r_new, proof),  # a rewritten past
                (old, new, r_old, _flip(r_new), proof),  # a forked present
                (old, new, r_old, r_new, proof[:-1]),
                (old, new, r_old, r_new, [*proof, proof[0]]),
                (old + 1, new, r_old, r_new, proof),
                (old, new + 1, r_old, tree.roots[new + 1], proof),  # another size's head
                (new, old, r_new, r_old, proof),  # rollback: from larger to smaller
            ]
            for i in range(len(proof)):
                changed = list(proof)
                changed[i] = _flip(changed[i], 31 - i % 32)
                attacks.append((old, new, r_old, r_new, changed))
            for attack in attacks:
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(*attack)


def test_consistency_with_a_mutated_leaf_has_no_proof(grown):
    """A log that changed leaf 5 after publishing size 8 cannot prove 8 -> 16."""
    tree, entries = grown
    forged = Tree()
    forged.add([*entries[:5], b"mutated", *entries[6:16]])
    proof = merkle.consistency_proof(8, 16, forged.source)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(8, 16, tree.roots[8], forged.roots[16], proof)


def test_equal_and_empty_sizes(grown):
    tree, _ = grown
    merkle.verify_consistency(5, 5, tree.roots[5], tree.roots[5], [])
    merkle.verify_consistency(0, 9, merkle.EMPTY_ROOT, tree.roots[9], [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(5, 5, tree.roots[5], tree.roots[6], [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(5, 5, tree.roots[5], tree.roots[5], [tree.roots[1]])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(0, 9, tree.roots[1], tree.roots[9], [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(3, 9, tree.roots[3], tree.roots[9], [])


def test_range_nodes_refuses_ranges_no_tree_has():
    with pytest.raises(ValueError):
        merkle.range_nodes(3, 7)  # starts mid-subtree
    with pytest.raises(ValueError):
        merkle.range_nodes(4, 4)
    assert merkle.range_nodes(8, 15) == [
        merkle.Node(2, 2),
        merkle.Node(1, 6),
        merkle.Node(0, 14),
    ]
