"""The hash chain over all declarations, now a view over the verifiable log.

Each link covers a declaration's arrival number (`chain_index`), the previous link, its id,
its content hash and its provenance. Until migration 0011 every writer extended the chain
under one locked head row; now the sequencer extends it in log order when it integrates
entries (`extend`), off the write path, and stores each link beside its log entry. So the
chain runs in leaf order: position p of the chain is leaf p - 1 of the Merkle tree, and for
the declarations of the chain era position, leaf + 1 and `chain_index` are one number.

`verify` walks the log over a range of positions and reports, by position, a declaration
whose payload, provenance or place no longer matches what its entry and link recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.declarations.models import Declaration
from hub.log import merkle
from hub.log.entry import Entry, of_declaration
from hub.log.models import LogCheckpoint, LogEntry, LogNode

GENESIS_HASH = "0" * 64


@lru_cache(maxsize=4096)
def _stamp(received_at: datetime) -> str:
    # A batch shares one received time: format it once, not once per declaration.
    return received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _link(index: int, prev_hash: str, entry: Entry) -> str:
    material = "\n".join(
        [
            str(index),
            prev_hash,
            entry.declaration_id,
            entry.content_hash,
            entry.standard,
            entry.declarant,
            entry.client_id,
            entry.received_at,
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()


def link_hash(
    *,
    index: int,
    prev_hash: str,
    declaration_id: str,
    content_hash: str,
    standard_ref: str,
    declarant: str,
    client_id: str,
    received_at: datetime,
) -> str:
    """The chain hash of one declaration (what `verify` recomputes)."""
    entry = Entry(
        declaration_id, content_hash, standard_ref, declarant, client_id, _stamp(received_at)
    )
    return _link(index, prev_hash, entry)


def link_of_entry(*, index: int, prev_hash: str, entry: bytes) -> str:
    """The chain hash of the declaration whose log entry these bytes are (same fields)."""
    return _link(index, prev_hash, Entry.decode(entry))


def extend(*, prev_hash: str, entries: Iterable[tuple[int, bytes]]) -> list[tuple[str, str]]:
    """(prev_hash, chain_hash) of each (chain_index, entry bytes), chained in this order."""
    links = []
    for index, data in entries:
        link = link_of_entry(index=index, prev_hash=prev_hash, entry=data)
        links.append((prev_hash, link))
        prev_hash = link
    return links


async def last_link(*, db: AsyncConnection, size: int) -> str:
    """The chain hash of the last integrated entry of a tree of `size` leaves (genesis: 0)."""
    if size == 0:
        return GENESIS_HASH
    link = await db.scalar(select(LogEntry.chain_hash).where(LogEntry.leaf_index == size - 1))
    return link if link is not None else GENESIS_HASH


def payload_hash(payload: str) -> str:
    """SHA-256 of the stored canonical payload."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ProblemKind(StrEnum):
    """What verification found wrong at a position."""

    MISSING = "MISSING"  # a position or its declaration is absent: something was removed
    PAYLOAD_ALTERED = "PAYLOAD_ALTERED"  # the stored payload no longer matches its hash
    LINK_ALTERED = "LINK_ALTERED"  # provenance or hash fields changed
    BROKEN_LINK = "BROKEN_LINK"  # prev_hash is not the previous chain hash: reordered/removed
    HEAD_MISMATCH = "HEAD_MISMATCH"  # the newest checkpoint covers more than the log holds
    LEAF_MISMATCH = "LEAF_MISMATCH"  # the entry is not the tree's leaf at its position


@dataclass(frozen=True)
class ChainProblem:
    """One finding: where and what."""

    index: int
    kind: ProblemKind
    detail: str


@dataclass
class ChainReport:
    """The outcome of verifying a range of the chain (positions, 1-based)."""

    from_index: int
    to_index: int
    checked: int = 0
    pending: int = 0  # declared, not yet integrated: not in the chain yet
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


_PAGE = 5000
_MAX_PROBLEMS = 1000


async def verify(
    *,
    session: AsyncSession,
    from_index: int = 1,
    to_index: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ChainReport:
    """Recomputes every link in positions [from_index, to_index] of the log and reports
    what is wrong there."""
    last_leaf = await session.scalar(select(func.max(LogEntry.leaf_index)))
    size = 0 if last_leaf is None else int(last_leaf) + 1
    end = size if to_index is None else min(to_index, size)
    start = max(from_index, 1)
    report = ChainReport(from_index=start, to_index=end)
    report.pending = int(
        await session.scalar(
            select(func.count()).select_from(LogEntry).where(LogEntry.leaf_index.is_(None))
        )
        or 0
    )
    if end >= start:
        await _walk(session, start, end, report, progress)
    if to_index is None or to_index >= size:
        newest = await session.scalar(select(func.max(LogCheckpoint.size)))
        if newest is not None and int(newest) > size:
            report.problems.append(
                ChainProblem(
                    size + 1,
                    ProblemKind.HEAD_MISMATCH,
                    f"the newest checkpoint covers {newest} entries, the log holds {size}",
                )
            )
    return report


async def _walk(
    session: AsyncSession,
    start: int,
    end: int,
    report: ChainReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    expected_prev = GENESIS_HASH
    if start > 1:
        previous = await session.scalar(
            select(LogEntry.chain_hash).where(LogEntry.leaf_index == start - 2)
        )
        expected_prev = previous if previous is not None else ""
    expected = start
    cursor = start - 2  # leaf indices: position - 1
    while cursor < end - 1 and len(report.problems) < _MAX_PROBLEMS:
        rows = (
            await session.execute(
                select(
                    LogEntry.leaf_index,
                    LogEntry.declaration_id,
                    LogEntry.entry,
                    LogEntry.leaf_hash,
                    LogEntry.prev_hash.label("entry_prev"),
                    LogEntry.chain_hash.label("entry_link"),
                    LogNode.hash.label("tree_leaf"),
                    Declaration.chain_index,
                    Declaration.standard_id,
                    Declaration.standard_version,
                    Declaration.declarant,
                    Declaration.client_id,
                    Declaration.received_at,
                    Declaration.payload,
                    Declaration.content_hash,
                )
                .outerjoin(Declaration, Declaration.id == LogEntry.declaration_id)
                .outerjoin(LogNode, (LogNode.level == 0) & (LogNode.idx == LogEntry.leaf_index))
                .where(LogEntry.leaf_index > cursor, LogEntry.leaf_index < end)
                .order_by(LogEntry.leaf_index)
                .limit(_PAGE)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            position = int(row.leaf_index) + 1
            if position != expected:
                report.problems.append(_missing(expected, position - 1))
            _check(row, position, expected_prev, report)
            expected = position + 1
            expected_prev = row.entry_link or ""
            report.checked += 1
        cursor = int(rows[-1].leaf_index)
        if progress is not None:
            progress(cursor + 2 - start, end - start + 1)
    if expected <= end:
        report.problems.append(_missing(expected, end))


def _missing(first: int, last: int) -> ChainProblem:
    return ChainProblem(first, ProblemKind.MISSING, f"indexes {first}..{last} are absent")


def _check(row: Any, position: int, expected_prev: str, report: ChainReport) -> None:
    problems = report.problems
    if row.entry_prev != expected_prev:
        problems.append(
            ChainProblem(
                position,
                ProblemKind.BROKEN_LINK,
                "prev_hash is not the previous declaration's chain hash",
            )
        )
    if merkle.leaf_hash(bytes(row.entry)) != bytes(row.leaf_hash) or (
        row.tree_leaf is not None and bytes(row.tree_leaf) != bytes(row.leaf_hash)
    ):
        problems.append(
            ChainProblem(
                position,
                ProblemKind.LEAF_MISMATCH,
                f"declaration {row.declaration_id}: its entry is not the tree's leaf here",
            )
        )
    if row.chain_index is None:
        problems.append(_missing(position, position))
        return
    if payload_hash(row.payload) != row.content_hash:
        problems.append(
            ChainProblem(
                position,
                ProblemKind.PAYLOAD_ALTERED,
                f"declaration {row.declaration_id}: the payload does not match its content hash",
            )
        )
    stored = of_declaration(
        declaration_id=row.declaration_id,
        content_hash=row.content_hash,
        standard_ref=f"{row.standard_id}@{row.standard_version}",
        declarant=row.declarant,
        client_id=row.client_id,
        received_at=row.received_at,
    )
    recomputed = _link(row.chain_index, row.entry_prev or "", stored)
    if recomputed != row.entry_link or stored.encode() != bytes(row.entry):
        problems.append(
            ChainProblem(
                position,
                ProblemKind.LINK_ALTERED,
                f"declaration {row.declaration_id}: its chain hash does not cover its "
                "recorded fields",
            )
        )
