"""C2SP tlog-tiles: paths, widths, a mirror that rebuilds the tree from tiles alone and
checks it against the signed checkpoint, and who may fetch entry bundles."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from hub.access.models import AccessEvent
from hub.db import unit_of_work
from hub.log import merkle, store, tiles, verify
from hub.log.entry import Entry
from tests.declarations.conftest import PLATFORM

SYNTHETIC = 300  # a full level-0 tile, a partial one of 44, a level-1 tile of width 1


# --- pure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "text"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_an_index_is_written_in_x_prefixed_three_digit_elements(index: int, text: str) -> None:
    assert tiles.encode_index(index) == text
    assert tiles.parse_path(f"0/{text}") == tiles.Tile(0, index)


@pytest.mark.parametrize(
    "path",
    [
        "0/1",  # not three digits
        "0/x001",  # the last element has no x
        "0/001/002",  # only the last lacks the x
        "0/x000/001",  # a leading zero element
        "00/000",  # a level with a leading zero
        "64/000",  # above the highest level
        "0/000.p/0",  # an empty tile
        "0/000.p/256",  # a partial tile is narrower than a full one
        "0/000.p/012",  # a width with a leading zero
        "hashes/000",
        "entries/000.p/",
        "-1/000",
    ],
)
def test_malformed_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(tiles.TileError):
        tiles.parse_path(path)


def test_tiles_of_a_tree_of_70000_are_those_of_the_spec_example() -> None:
    found = tiles.tiles_of(70_000)
    level0 = [t for t in found if t.level == 0]
    assert [t for t in level0 if not t.partial] == [tiles.Tile(0, n) for n in range(273)]
    assert [t for t in level0 if t.partial] == [tiles.Tile(0, 273, 112)]
    assert [t for t in found if t.level == 1] == [tiles.Tile(1, 0), tiles.Tile(1, 1, 17)]
    assert [t for t in found if t.level == 2] == [tiles.Tile(2, 0, 1)]
    assert tiles.tiles_of(256) == [tiles.Tile(0, 0), tiles.Tile(1, 0, 1)]
    assert tiles.Tile(1, 1, 17).path() == "tile/1/001.p/17"


def test_a_bundle_round_trips_and_a_truncated_one_is_refused() -> None:
    entries = [b"", b"a", b"x" * 300]
    data = tiles.bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a"
    assert tiles.unbundle(data) == entries
    for cut in (1, 4, len(data) - 1):
        with pytest.raises(tiles.TileError):
            tiles.unbundle(data[:cut])


def _reference_tree(size: int) -> tuple[dict[merkle.Node, bytes], list[bytes], bytes]:
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(size)]
    nodes, root = merkle.append(0, {}, leaves)
    return nodes, leaves, root


def _served(nodes: dict[merkle.Node, bytes], size: int) -> tiles.Fetch:
    """What a log serves for a tree of `size`: tile hashes from the stored nodes."""

    def fetch(path: str) -> bytes:
        tile = tiles.parse_path(path.removeprefix("tile/"))
        level = tiles.HEIGHT * tile.level
        hashes = [nodes[merkle.Node(level, tile.first + i)] for i in range(tile.width)]
        assert tiles.tile_for(tile.level, tile.index, size) == tile, path
        return b"".join(hashes)

    return fetch


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH written out, independent of hub.log.merkle's fold."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 255, 256, 257, 511, 513, 65_535, 65_537])
def test_a_mirror_rebuilds_roots_and_proofs_from_tiles_alone(size: int) -> None:
    nodes, leaves, root = _reference_tree(size)
    assert _mth(leaves) == root
    reader = tiles.TileReader(size, _served(nodes, size))
    assert reader.root() == root
    reader.check_levels()
    for index in {0, size // 2, size - 1}:
        proof = reader.inclusion_proof(index)
        assert proof == merkle.inclusion_proof(index, size, lambda w: {n: nodes[n] for n in w})
        merkle.verify_inclusion(index, size, leaves[index], proof, root)
    old = max(1, size // 3)
    old_root = _mth(leaves[:old])
    merkle.verify_consistency(old, size, old_root, root, reader.consistency_proof(old))


def test_a_mirror_detects_a_tile_that_does_not_match_the_tile_above() -> None:
    size = 600
    nodes, _, root = _reference_tree(size)
    honest = _served(nodes, size)

    def lying(path: str) -> bytes:
        data = honest(path)
        return b"\xff" * 32 + data[32:] if path == "tile/0/001" else data

    reader = tiles.TileReader(size, lying)
    reader.tile(0, 1)
    with pytest.raises(tiles.TileError):
        reader.check_levels()
    # The root does not say so by itself for this tile (its hash is read from level 1):
    # check_levels is what ties every fetched tile to the checkpoint.
    assert reader.root() == root


# --- over HTTP -------------------------------------------------------------------------


async def _seed(app: Starlette, count: int) -> list[bytes]:
    """Queues `count` synthetic entries (valid leaves) for the app's own sequencer."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": f"{i:024x}",
            "content_hash": hashlib.sha256(str(i).encode()).hexdigest(),
            "standard_id": "cbec.order",
            "standard_version": "1.0.0",
            "declarant": PLATFORM if i % 2 else "91330100MA2CXXXX01",
            "client_id": "hub_tiles",
            "received_at": now,
            "chain_index": 10_000_000 + i,
        }
        for i in range(count)
    ]
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await store.enqueue(session=session, declarations=rows, now=now)
    return [row["entry"] for row in store.entry_rows(rows, now=now)]


async def _fetch(http: httpx.AsyncClient, path: str, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.get(f"/log/{path}", headers=headers)
    assert response.status_code == 200, (path, response.text)
    assert response.headers["content-type"] == "application/octet-stream"
    assert "immutable" in response.headers["cache-control"]
    return response.content


async def test_a_mirror_of_the_served_tiles_matches_the_signed_checkpoint(
    http: httpx.AsyncClient, app: Starlette, get_token: Any, wait_for_size: Any
) -> None:
    queued = await _seed(app, SYNTHETIC)
    text = await wait_for_size(SYNTHETIC)
    keys = verify.log_keys((await http.get("/.well-known/jwks.json")).json())
    head = verify.open_head(text, keys)
    size = head.size
    cache: dict[str, bytes] = {}

    def fetch(path: str) -> bytes:
        return cache[path]

    for tile in tiles.tiles_of(size):  # public: no token
        cache[tile.path()] = await _fetch(http, tile.path())
    reader = tiles.TileReader(size, fetch)
    assert reader.root() == head.root
    reader.check_levels()

    customs = await get_token(scopes="customs:read", name="customs")
    leaves = []
    for n in range(-(-size // tiles.WIDTH)):
        tile = tiles.tile_for(0, n, size)
        assert tile is not None
        bundle = await _fetch(http, tiles.Tile(0, n, tile.width, entries=True).path(), customs)
        entries = tiles.unbundle(bundle)
        hashes = tiles.split_hashes(fetch(tile.path()), tile.width)
        assert [merkle.leaf_hash(e) for e in entries] == hashes
        leaves.extend(entries)
    for entry in leaves:
        Entry.decode(entry)  # the exact canonical bytes, not a re-encoding
    assert leaves[-SYNTHETIC:] == queued

    # An inclusion proof computed from tiles alone verifies against the checkpoint.
    for index in (0, 255, 256, size - 1):
        proof = reader.inclusion_proof(index)
        merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof, head.root)
        as_served = {
            "leafIndex": index,
            "treeSize": size,
            "leafHash": merkle.leaf_hash(leaves[index]).hex(),
            "entry": base64.b64encode(leaves[index]).decode(),
            "hashes": [h.hex() for h in proof],
        }
        verify.check_inclusion(as_served, head)


async def test_entry_bundles_are_only_for_readers_of_every_declaration(
    http: httpx.AsyncClient, app: Starlette, get_token: Any, wait_for_size: Any
) -> None:
    await _seed(app, 3)
    await wait_for_size(3)
    path = "/log/tile/entries/000.p/3"
    anonymous = await http.get(path)
    assert anonymous.status_code == 401
    assert _code(anonymous) == "UNAUTHENTICATED"
    # The declarant of some entries, a witness and a bank see none of them: each entry
    # names a declarant, a client and a time, and a bundle holds other enterprises'.
    for scopes, enterprise in (
        ("declare", PLATFORM),
        ("witness", None),
        ("finance:read", None),
        ("tax:read forex:read market:read", None),
    ):
        token = await get_token(scopes=scopes, enterprise=enterprise, name=f"c {scopes}")
        refused = await http.get(path, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403, (scopes, refused.text)
        assert _code(refused) == "FORBIDDEN"
        assert refused.content.count(b"hub_tiles") == 0
    # The hash tile of the same leaves is public.
    public = await http.get("/log/tile/0/000.p/3")
    assert public.status_code == 200 and len(public.content) == 3 * 32
    assert public.headers["cache-control"] == "public, max-age=31536000, immutable"
    audit = await get_token(scopes="audit:read", name="supervisor")
    allowed = await http.get(path, headers={"Authorization": f"Bearer {audit}"})
    assert allowed.status_code == 200
    assert allowed.headers["cache-control"].startswith("private")
    async with app.state.runtime.session_factory() as session:
        events = (
            await session.scalars(
                select(AccessEvent).where(AccessEvent.operation_name == f"GET {path}")
            )
        ).all()
    assert len(events) == 1 and PLATFORM in events[0].enterprises  # the read is audited


async def test_tiles_the_tree_does_not_have_are_not_served(
    http: httpx.AsyncClient, app: Starlette, get_token: Any, wait_for_size: Any
) -> None:
    await _seed(app, 5)
    await wait_for_size(5)
    size = int((await http.get("/log/checkpoint")).text.split("\n")[1])
    customs = await get_token(scopes="customs:read", name="customs")
    auth = {"Authorization": f"Bearer {customs}"}
    for path in (
        "tile/0/000",  # not full yet
        f"tile/0/000.p/{size + 1}",  # wider than the tree
        "tile/1/000.p/1",  # no level-1 hash below 256 leaves
        "tile/0/001.p/1",
        "tile/entries/000",
    ):
        response = await http.get(f"/log/{path}", headers=auth)
        assert response.status_code == 404, path
        assert _code(response) == "NO_TILE"
        assert response.headers["cache-control"] == "no-store"
    bad = await http.get("/log/tile/0/1", headers=auth)
    assert bad.status_code == 400 and _code(bad) == "BAD_REQUEST"
    narrower = await http.get(f"/log/tile/0/000.p/{size - 1}")
    assert narrower.status_code == 200 and len(narrower.content) == (size - 1) * 32
