"""Reads and writes of the stored log: queue entries, fetch nodes, build proofs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.log import merkle
from hub.log.entry import of_declaration
from hub.log.models import LogCheckpoint, LogEntry, LogNode

Executor = AsyncSession | AsyncConnection


def entry_rows(declarations: Sequence[Mapping[str, Any]], *, now: datetime) -> list[dict]:
    """Pending log entries for declaration rows just inserted (as the write path holds them)."""
    rows = []
    for row in declarations:
        data = of_declaration(
            declaration_id=row["id"],
            content_hash=row["content_hash"],
            standard_ref=f"{row['standard_id']}@{row['standard_version']}",
            declarant=row["declarant"],
            client_id=row["client_id"],
            received_at=row["received_at"],
        ).encode()
        rows.append(
            {
                "declaration_id": row["id"],
                "seq": row["chain_index"],
                "leaf_index": None,
                "entry": data,
                "leaf_hash": merkle.leaf_hash(data),
                # The chain link is the sequencer's to write, in log order.
                "prev_hash": None,
                "chain_hash": None,
                "queued_at": now,
                "sequenced_at": None,
            }
        )
    return rows


async def enqueue(
    *, session: AsyncSession, declarations: Sequence[Mapping[str, Any]], now: datetime
) -> None:
    """Queues new declarations for the sequencer (pending: no leaf index yet)."""
    if declarations:
        await session.execute(insert(LogEntry.__table__), entry_rows(declarations, now=now))


async def tree_size(*, db: Executor) -> int:
    """How many leaves the stored tree has (integrated entries)."""
    last = await db.scalar(select(func.max(LogNode.idx)).where(LogNode.level == 0))
    return 0 if last is None else int(last) + 1


async def fetch_nodes(*, db: Executor, nodes: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The stored hashes of the given complete subtrees (one indexed read)."""
    wanted = sorted(set(nodes))
    found: dict[merkle.Node, bytes] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = await db.execute(
            select(LogNode.level, LogNode.idx, LogNode.hash).where(
                tuple_(LogNode.level, LogNode.idx).in_([(n.level, n.index) for n in chunk])
            )
        )
        found.update({merkle.Node(level, idx): bytes(h) for level, idx, h in rows})
    return found


# Core rows (attribute access by column name), so the same reads serve an ORM session and
# the sequencer's bare connection alike.
_CHECKPOINTS = LogCheckpoint.__table__
_ENTRIES = LogEntry.__table__


async def latest_checkpoint(*, db: Executor) -> Row[Any] | None:
    """The newest signed checkpoint (size, root, note, created_at), if the log has one."""
    rows = await db.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.size.desc()).limit(1))
    return rows.first()


async def checkpoint_at(*, db: Executor, size: int) -> Row[Any] | None:
    """The checkpoint signed at exactly this size."""
    return (await db.execute(select(_CHECKPOINTS).where(_CHECKPOINTS.c.size == size))).first()


async def entry_of(*, db: Executor, declaration_id: str) -> Row[Any] | None:
    """A declaration's log entry (pending or integrated)."""
    query = select(_ENTRIES).where(_ENTRIES.c.declaration_id == declaration_id)
    return (await db.execute(query)).first()


async def entry_at(*, db: Executor, leaf_index: int) -> Row[Any] | None:
    """The entry at a leaf index."""
    query = select(_ENTRIES).where(_ENTRIES.c.leaf_index == leaf_index)
    return (await db.execute(query)).first()


@dataclass(frozen=True)
class MissingNodes(Exception):
    """The store lacks a node a proof needs: the tree is damaged."""

    nodes: tuple[merkle.Node, ...]


async def _hashes(*, db: Executor, ranges: list[merkle.Range]) -> list[bytes]:
    wanted = merkle.nodes_for(ranges)
    found = await fetch_nodes(db=db, nodes=wanted)
    if len(found) != len(wanted):
        raise MissingNodes(tuple(sorted(wanted - set(found))))
    return merkle.hashes_for(ranges, found)


async def inclusion_hashes(*, db: Executor, leaf_index: int, size: int) -> list[bytes]:
    """PATH(leaf_index, D[0:size]) from the stored nodes."""
    return await _hashes(db=db, ranges=merkle.inclusion_ranges(leaf_index, size))


async def consistency_hashes(*, db: Executor, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]) from the stored nodes."""
    return await _hashes(db=db, ranges=merkle.consistency_ranges(old, new))


async def root_at(*, db: Executor, size: int) -> bytes:
    """MTH(D[0:size]) from the stored nodes."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.fold(await _hashes(db=db, ranges=[(0, size)]))


async def level_hashes(*, db: Executor, level: int, first: int, count: int) -> list[bytes]:
    """Consecutive stored hashes of one tree level from `first` (fewer if the tree is
    smaller): a tile is one range read of the primary key."""
    rows = await db.execute(
        select(LogNode.hash)
        .where(LogNode.level == level, LogNode.idx >= first, LogNode.idx < first + count)
        .order_by(LogNode.idx)
    )
    return [bytes(h) for (h,) in rows]


async def entries_from(*, db: Executor, first: int, count: int) -> list[bytes]:
    """The integrated entries at leaf indices [first, first + count), in order."""
    rows = await db.execute(
        select(_ENTRIES.c.entry)
        .where(_ENTRIES.c.leaf_index >= first, _ENTRIES.c.leaf_index < first + count)
        .order_by(_ENTRIES.c.leaf_index)
    )
    return [bytes(e) for (e,) in rows]
