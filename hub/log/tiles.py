"""C2SP tlog-tiles: the tree as static tiles and entry bundles. Pure, no server imports.

A tile at level L, index N lists up to 256 consecutive hashes of tree level 8L, starting
at hash N * 256: MTH(D[(N * 256 + i) * 256**L : (N * 256 + i + 1) * 256**L]). Full tiles
hold 256 hashes (8,192 bytes) and never change; the rightmost tiles of a tree are partial
(`.p/W`, 1 <= W <= 255 hashes), and a partial tile of a given width never changes either.
An entry bundle lists the entries of a level-0 tile, each as a big-endian uint16 length and
the exact bytes its leaf hashes. Paths (https://c2sp.org/tlog-tiles):

    tile/<L>/<N>[.p/<W>]        tile/entries/<N>[.p/<W>]

with N in zero-padded three-digit elements, all but the last prefixed by `x`
(1234067 -> x001/x234/067). The hub stores every complete subtree (`log_nodes`), so a tile
is one range read of one level. A mirror needs nothing but these files and a checkpoint:
`TileReader` recomputes any node, proof or root from them, as Go's `tlog.TileHashReader`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hub.log import merkle

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes in a full tile
MAX_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF

_ELEMENT = re.compile(r"^(?:x\d{3}/)*\d{3}$")
_WIDTH = re.compile(r"^[1-9]\d{0,2}$")


class TileError(ValueError):
    """A tile path, tile or bundle that is malformed or does not match the tree."""


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile (level >= 0) or entry bundle (`entries`): its index and width in hashes."""

    level: int
    index: int
    width: int = WIDTH
    entries: bool = False

    @property
    def partial(self) -> bool:
        """Fewer than 256 hashes."""
        return self.width < WIDTH

    @property
    def first(self) -> int:
        """The index, at tree level 8 * level, of its first hash."""
        return self.index * WIDTH

    def path(self) -> str:
        """Its path below the log's prefix (`tile/...`)."""
        kind = "entries" if self.entries else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{kind}/{encode_index(self.index)}{suffix}"


def encode_index(index: int) -> str:
    """N as the spec writes it in a path: 1234067 -> x001/x234/067."""
    if index < 0:
        raise TileError("a tile index is not negative")
    digits = f"{index:d}"
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def parse_path(path: str) -> Tile:
    """Reads `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (the part after `tile/`)."""
    kind, _, rest = path.partition("/")
    if kind == "entries":
        level, entries = 0, True
    elif kind.isascii() and kind.isdigit() and (kind == "0" or not kind.startswith("0")):
        level, entries = int(kind), False
        if level > MAX_LEVEL:
            raise TileError(f"a tile level is at most {MAX_LEVEL}")
    else:
        raise TileError("a tile path is tile/<L>/<N> or tile/entries/<N>")
    index_text, dot, width_text = rest.partition(".p/")
    if not _ELEMENT.match(index_text):
        raise TileError("the tile index is in three-digit elements, x-prefixed but the last")
    groups = [g.removeprefix("x") for g in index_text.split("/")]
    if len(groups) > 1 and groups[0] == "000":
        raise TileError("the tile index has a leading zero element")
    index = int("".join(groups))
    width = WIDTH
    if dot:
        if not _WIDTH.match(width_text) or int(width_text) >= WIDTH:
            raise TileError("a partial tile's width is 1 to 255")
        width = int(width_text)
    return Tile(level, index, width, entries)


def hashes_at(level: int, size: int) -> int:
    """How many hashes tree level 8 * level has in a tree of `size` leaves."""
    return size >> (HEIGHT * level)


def tile_for(level: int, index: int, size: int) -> Tile | None:
    """The tile (full or partial) at `level`, `index` for a tree of `size`; None if empty."""
    available = hashes_at(level, size) - index * WIDTH
    if available <= 0:
        return None
    return Tile(level, index, min(WIDTH, available))


def tiles_of(size: int) -> list[Tile]:
    """Every tile of a tree of `size` leaves, level by level (what a full mirror fetches)."""
    tiles: list[Tile] = []
    level = 0
    while hashes_at(level, size) > 0:
        count = hashes_at(level, size)
        tiles.extend(t for n in range(-(-count // WIDTH)) if (t := tile_for(level, n, size)))
        level += 1
    return tiles


def split_hashes(data: bytes, width: int) -> list[bytes]:
    """A tile's bytes as its hashes; TileError unless it holds exactly `width` hashes."""
    if len(data) != width * merkle.HASH_SIZE:
        raise TileError(f"the tile has {len(data)} bytes, not {width} hashes")
    return [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


def bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise TileError("an entry is longer than 65,535 bytes")
        parts.append(struct.pack(">H", len(entry)) + entry)
    return b"".join(parts)


def unbundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; TileError if it is truncated."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileError("the bundle ends inside a length")
        (length,) = struct.unpack_from(">H", data, at)
        if at + 2 + length > len(data):
            raise TileError("the bundle ends inside an entry")
        entries.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    return entries


def _subtree(hashes: Sequence[bytes]) -> bytes:
    """MTH of 2**k consecutive equal-height subtrees."""
    layer = list(hashes)
    while len(layer) > 1:
        layer = [merkle.node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
    return layer[0]


Fetch = Callable[[str], bytes]


class TileReader:
    """Node hashes of a tree of `size` leaves, computed from tiles fetched by path.

    A node of tree level k = 8 * L + j is the hash of 2**j consecutive hashes of one tile at
    level L. Tiles are checked as they are read: a full tile's hash must be the hash one
    level up, which ties every tile to the checkpoint's root once the root is recomputed.
    """

    def __init__(self, size: int, fetch: Fetch) -> None:
        self.size = size
        self.fetch = fetch
        self._tiles: dict[tuple[int, int], list[bytes]] = {}

    def tile(self, level: int, index: int) -> list[bytes]:
        """The hashes of one tile of this tree (fetched once)."""
        key = (level, index)
        if key not in self._tiles:
            tile = tile_for(level, index, self.size)
            if tile is None:
                raise TileError(f"the tree of size {self.size} has no tile {level}/{index}")
            self._tiles[key] = split_hashes(self.fetch(tile.path()), tile.width)
        return self._tiles[key]

    def node(self, node: merkle.Node) -> bytes:
        """The hash of a complete subtree of this tree."""
        if node.end > self.size:
            raise TileError(f"{node} is not complete in a tree of size {self.size}")
        level, depth = divmod(node.level, HEIGHT)
        first = node.index << depth  # at tree level 8 * level
        hashes = self.tile(level, first // WIDTH)
        return _subtree(hashes[first % WIDTH : first % WIDTH + (1 << depth)])

    def nodes(self, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
        """Several node hashes (a `merkle.HashSource`)."""
        return {n: self.node(n) for n in wanted}

    def root(self) -> bytes:
        """MTH of the whole tree."""
        return merkle.root_from(self.size, self.nodes(merkle.frontier(self.size)))

    def inclusion_proof(self, index: int) -> list[bytes]:
        """PATH(index, D[0:size]) from tiles."""
        return merkle.inclusion_proof(index, self.size, self.nodes)

    def consistency_proof(self, old: int) -> list[bytes]:
        """PROOF(old, D[0:size]) from tiles."""
        return merkle.consistency_proof(old, self.size, self.nodes)

    def check_levels(self) -> None:
        """Every full tile fetched hashes to its hash in the tile above (TileError if not)."""
        for (level, index), hashes in sorted(self._tiles.items()):
            if len(hashes) == WIDTH and hashes_at(level + 1, self.size) > index:
                above = self.tile(level + 1, index // WIDTH)[index % WIDTH]
                if _subtree(hashes) != above:
                    raise TileError(f"tile {level}/{index} does not hash to the tile above it")
