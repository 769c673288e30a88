"""`hub log verify --full`: recompute the whole log from the declarations and compare.

Every integrated entry must be the v1 entry of its stored declaration (whose payload must
still match its content hash), every stored node the hash of its leaves, and every
checkpoint signed by a log key over the root the leaves give at its size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.declarations.models import Declaration
from hub.log import keys, merkle
from hub.log.entry import of_declaration
from hub.log.models import LogCheckpoint, LogEntry, LogNode
from hub.log.note import NoteError
from hub.log.verify import VerificationError, open_head

_PAGE = 5000
_MAX_PROBLEMS = 1000


@dataclass
class LogReport:
    """What the full check found."""

    size: int = 0
    checked_entries: int = 0
    checked_nodes: int = 0
    checked_checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def add(self, problem: str) -> None:
        """Records a problem (up to a cap, so a wrecked log still gives a readable report)."""
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(problem)


async def check_full(
    *, session: AsyncSession, progress: Callable[[int, int], None] | None = None
) -> LogReport:
    """Recomputes entries, nodes and checkpoint roots of the whole log."""
    report = LogReport()
    verifiers = await keys.verifiers(session=session)
    checkpoints = {
        row.size: row
        for row in await session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size))
    }
    last = max(checkpoints, default=0)
    edge: dict[merkle.Node, bytes] = {}
    size = 0
    roots = {0: merkle.EMPTY_ROOT}
    while True:
        rows = (
            await session.execute(
                select(LogEntry, Declaration)
                .outerjoin(Declaration, Declaration.id == LogEntry.declaration_id)
                .where(LogEntry.leaf_index >= size)
                .order_by(LogEntry.leaf_index)
                .limit(_PAGE)
            )
        ).all()
        if not rows:
            break
        leaves: list[bytes] = []
        for entry, declaration in rows:
            index = size + len(leaves)
            if entry.leaf_index != index:
                report.add(f"leaf {index}: missing (the next stored leaf is {entry.leaf_index})")
                return report
            _check_entry(report, index, entry, declaration)
            leaves.append(merkle.leaf_hash(bytes(entry.entry)))
        created, _ = merkle.append(size, edge, leaves)
        await _check_nodes(report, session, created, size, size + len(leaves))
        for offset in range(1, len(leaves) + 1):
            if size + offset in checkpoints:
                known = {**edge, **created}
                roots[size + offset] = merkle.root_from(size + offset, known)
        size += len(leaves)
        edge = {n: created.get(n) or edge[n] for n in merkle.frontier(size)}
        report.checked_entries += len(leaves)
        session.expunge_all()
        if progress is not None:
            progress(size, max(size, last))
    report.size = size
    for checkpoint_size, row in checkpoints.items():
        report.checked_checkpoints += 1
        if checkpoint_size > size:
            report.add(f"checkpoint {checkpoint_size}: the log holds only {size} leaves")
            continue
        try:
            head = open_head(row.note, verifiers)
        except (VerificationError, NoteError) as exc:
            report.add(f"checkpoint {checkpoint_size}: {exc}")
            continue
        if head.size != checkpoint_size or head.root != roots[checkpoint_size]:
            report.add(f"checkpoint {checkpoint_size}: its root is not the root of the leaves")
    return report


def _check_entry(report: LogReport, index: int, entry: LogEntry, row: Declaration | None) -> None:
    if row is None:
        report.add(f"leaf {index}: declaration {entry.declaration_id} is missing")
        return
    expected = of_declaration(
        declaration_id=row.id,
        content_hash=row.content_hash,
        standard_ref=row.standard_ref,
        declarant=row.declarant,
        client_id=row.client_id,
        received_at=row.received_at,
    ).encode()
    if bytes(entry.entry) != expected:
        report.add(f"leaf {index}: declaration {row.id}'s provenance differs from its entry")
    if bytes(entry.leaf_hash) != merkle.leaf_hash(bytes(entry.entry)):
        report.add(f"leaf {index}: the stored leaf hash is not the hash of the entry")
    if hashlib.sha256(row.payload.encode("utf-8")).hexdigest() != row.content_hash:
        report.add(f"leaf {index}: declaration {row.id}'s payload does not match its hash")


async def _check_nodes(
    report: LogReport,
    session: AsyncSession,
    created: dict[merkle.Node, bytes],
    begin: int,
    end: int,
) -> None:
    stored: dict[merkle.Node, bytes] = {}
    for level in {n.level for n in created}:
        lo, hi = begin >> level, (end >> level) + 1
        for idx, value in await session.execute(
            select(LogNode.idx, LogNode.hash).where(
                LogNode.level == level, LogNode.idx >= lo, LogNode.idx < hi
            )
        ):
            stored[merkle.Node(level, idx)] = bytes(value)
    for node, value in created.items():
        report.checked_nodes += 1
        if stored.get(node) != value:
            report.add(f"node {node.level}/{node.index}: not the hash of its leaves")
