"""The tamper-evident hash chain over all declarations.

Each declaration's `chain_hash` covers its position, the previous link, its id, its
content hash and its provenance; changing, removing or reordering any declaration breaks
a link that `verify` reports by index. The chain head row is locked by every appending
transaction, so the database (not a process) decides the order, across processes too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.declarations.models import ChainHead, Declaration

GENESIS_HASH = "0" * 64


@lru_cache(maxsize=4096)
def _stamp(received_at: datetime) -> str:
    # A batch shares one received time: format it once, not once per declaration.
    return received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    material = "\n".join(
        [
            str(index),
            prev_hash,
            declaration_id,
            content_hash,
            standard_ref,
            declarant,
            client_id,
            _stamp(received_at),
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()


def payload_hash(payload: str) -> str:
    """SHA-256 of the stored canonical payload."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def lock_head(*, session: AsyncSession) -> tuple[int, str]:
    """Locks the chain head for this transaction and returns (last index, last hash)."""
    # An UPDATE is the first statement on purpose: on PostgreSQL it takes the row lock, on
    # SQLite it takes the write lock at once, so two writers never deadlock upgrading a read.
    row = (
        await session.execute(
            update(ChainHead)
            .where(ChainHead.id == 1)
            .values(updated_at=datetime.now(UTC))
            .returning(ChainHead.last_index, ChainHead.last_hash)
        )
    ).one()
    return int(row[0]), str(row[1])


async def advance_head(*, session: AsyncSession, last_index: int, last_hash: str) -> None:
    """Moves the locked chain head to the newest link."""
    await session.execute(
        update(ChainHead)
        .where(ChainHead.id == 1)
        .values(last_index=last_index, last_hash=last_hash)
    )


class ProblemKind(StrEnum):
    """What verification found wrong at an index."""

    MISSING = "MISSING"  # an index is absent: a declaration was removed
    PAYLOAD_ALTERED = "PAYLOAD_ALTERED"  # the stored payload no longer matches its hash
    LINK_ALTERED = "LINK_ALTERED"  # provenance or hash fields changed
    BROKEN_LINK = "BROKEN_LINK"  # prev_hash is not the previous chain hash: reordered/removed
    HEAD_MISMATCH = "HEAD_MISMATCH"  # the chain head does not point at the last link


@dataclass(frozen=True)
class ChainProblem:
    """One finding: where and what."""

    index: int
    kind: ProblemKind
    detail: str


@dataclass
class ChainReport:
    """The outcome of verifying a range of the chain."""

    from_index: int
    to_index: int
    checked: int = 0
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
    """Recomputes every hash and link in [from_index, to_index] and reports what is wrong."""
    head = await session.get(ChainHead, 1)
    last_index = head.last_index if head else 0
    end = last_index if to_index is None else min(to_index, last_index)
    start = max(from_index, 1)
    report = ChainReport(from_index=start, to_index=end)
    if end < start:
        return report
    expected_prev = GENESIS_HASH
    if start > 1:
        prev_hash = await session.scalar(
            select(Declaration.chain_hash).where(Declaration.chain_index == start - 1)
        )
        expected_prev = prev_hash if prev_hash is not None else ""
    expected_index = start
    cursor = start - 1
    while cursor < end and len(report.problems) < _MAX_PROBLEMS:
        rows = (
            await session.scalars(
                select(Declaration)
                .where(Declaration.chain_index > cursor, Declaration.chain_index <= end)
                .order_by(Declaration.chain_index)
                .limit(_PAGE)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            _check(row, expected_index, expected_prev, report)
            expected_index = row.chain_index + 1
            expected_prev = row.chain_hash
            report.checked += 1
        cursor = rows[-1].chain_index
        session.expunge_all()
        if progress is not None:
            progress(cursor - start + 1, end - start + 1)
    if expected_index <= end:
        report.problems.append(
            ChainProblem(
                expected_index, ProblemKind.MISSING, f"indexes {expected_index}..{end} are absent"
            )
        )
    reached_head = to_index is None or to_index >= last_index
    if reached_head and head is not None and end == last_index and expected_prev != head.last_hash:
        report.problems.append(
            ChainProblem(
                last_index,
                ProblemKind.HEAD_MISMATCH,
                "the chain head does not hold the last declaration's hash",
            )
        )
    return report


def _check(row: Declaration, expected_index: int, expected_prev: str, report: ChainReport) -> None:
    if row.chain_index != expected_index:
        report.problems.append(
            ChainProblem(
                expected_index,
                ProblemKind.MISSING,
                f"indexes {expected_index}..{row.chain_index - 1} are absent",
            )
        )
    if row.prev_hash != expected_prev:
        report.problems.append(
            ChainProblem(
                row.chain_index,
                ProblemKind.BROKEN_LINK,
                "prev_hash is not the previous declaration's chain hash",
            )
        )
    if payload_hash(row.payload) != row.content_hash:
        report.problems.append(
            ChainProblem(
                row.chain_index,
                ProblemKind.PAYLOAD_ALTERED,
                f"declaration {row.id}: the payload does not match its content hash",
            )
        )
    recomputed = link_hash(
        index=row.chain_index,
        prev_hash=row.prev_hash,
        declaration_id=row.id,
        content_hash=row.content_hash,
        standard_ref=row.standard_ref,
        declarant=row.declarant,
        client_id=row.client_id,
        received_at=row.received_at,
    )
    if recomputed != row.chain_hash:
        report.problems.append(
            ChainProblem(
                row.chain_index,
                ProblemKind.LINK_ALTERED,
                f"declaration {row.id}: its chain hash does not cover its recorded fields",
            )
        )
