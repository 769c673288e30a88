"""The sequencer: integrates pending entries in batches, grows the tree, signs checkpoints.

Off the write path: a declaring transaction only queues its entries. One sequencer is
active per database. On PostgreSQL it holds a session advisory lock on its own
connection for as long as it leads, and runs every batch on that connection, so a
process that dies (or loses its connection) stops leading at once and another takes
over. On SQLite each batch starts with a write, so batches of several processes run one
at a time under the database's single writer. Each batch is one transaction: the leaf
indices, the new nodes and the checkpoint commit together or not at all, and the unique
leaf index and checkpoint size refuse a second writer that somehow ran beside the first.
The same transaction extends the declarations' hash chain in leaf order (a link per entry,
hub/declarations/chain.py), which is what keeps `verifyChain` a view over the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hub.declarations import chain
from hub.log import keys, merkle, store
from hub.log.models import LogCheckpoint, LogEntry, LogNode
from hub.log.note import Checkpoint, Signer, sign

logger = logging.getLogger("hub.log.sequencer")

SEQUENCER_LOCK_ID = 0x4C4F4753  # "LOGS"


@dataclass(frozen=True)
class Batch:
    """What one integration did."""

    integrated: int
    size: int
    root: bytes
    merge_delays: tuple[float, ...] = ()


async def integrate(
    *, db: AsyncConnection, signer: Signer, origin: str, limit: int
) -> Batch | None:
    """Integrates up to `limit` pending entries and signs a checkpoint, in the caller's
    transaction; None when there was nothing to do."""
    if db.dialect.name == "sqlite":
        # Take the single writer's lock before reading, so the state read stays current.
        await db.execute(text("DELETE FROM log_checkpoints WHERE 1 = 0"))
    size = await store.tree_size(db=db)
    latest = await store.latest_checkpoint(db=db)
    pending = (
        await db.execute(
            select(
                LogEntry.declaration_id,
                LogEntry.seq,
                LogEntry.entry,
                LogEntry.leaf_hash,
                LogEntry.queued_at,
            )
            .where(LogEntry.leaf_index.is_(None))
            .order_by(LogEntry.seq)
            .limit(limit)
        )
    ).all()
    if not pending and latest is not None and latest.size == size:
        return None
    edge = await store.fetch_nodes(db=db, nodes=merkle.frontier(size))
    created, root = merkle.append(size, edge, [bytes(p.leaf_hash) for p in pending])
    now = datetime.now(UTC)
    if pending:
        links = chain.extend(
            prev_hash=await chain.last_link(db=db, size=size),
            entries=[(int(p.seq), bytes(p.entry)) for p in pending],
        )
        await db.execute(
            update(LogEntry.__table__)
            .where(LogEntry.__table__.c.declaration_id == bindparam("did"))
            .values(
                leaf_index=bindparam("leaf"),
                sequenced_at=bindparam("at"),
                prev_hash=bindparam("prev"),
                chain_hash=bindparam("link"),
            ),
            [
                {"did": p.declaration_id, "leaf": size + i, "at": now, "prev": prev, "link": link}
                for i, (p, (prev, link)) in enumerate(zip(pending, links, strict=True))
            ],
        )
        await db.execute(
            insert(LogNode.__table__),
            [{"level": n.level, "idx": n.index, "hash": h} for n, h in created.items()],
        )
    new_size = size + len(pending)
    note = sign(Checkpoint(origin, new_size, root).text(), signer)
    if latest is None or latest.size != new_size:
        await db.execute(
            insert(LogCheckpoint.__table__),
            [{"size": new_size, "root": root, "note": note, "created_at": now}],
        )
    delays = tuple(max(0.0, (now - _aware(p.queued_at)).total_seconds()) for p in pending)
    return Batch(len(pending), new_size, root, delays)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass
class MergeDelays:
    """The merge delays the sequencer achieved (seconds from queued to integrated)."""

    recent: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    integrated: int = 0

    def add(self, delays: tuple[float, ...]) -> None:
        """Records one batch's delays."""
        self.recent.extend(delays)
        self.integrated += len(delays)

    def summary(self) -> dict[str, float | int | None]:
        """p50, p99 and max of the recent delays, and how many entries were integrated."""
        values = sorted(self.recent)
        if not values:
            return {"integrated": self.integrated, "p50": None, "p99": None, "max": None}

        def pick(q: float) -> float:
            return round(values[min(len(values) - 1, int(q * len(values)))], 4)

        return {
            "integrated": self.integrated,
            "p50": pick(0.50),
            "p99": pick(0.99),
            "max": round(values[-1], 4),
        }


@dataclass
class Sequencer:
    """A background task that leads when it can and integrates every `interval` seconds."""

    engine: AsyncEngine
    signer: Signer
    origin: str
    interval: float = 0.2
    batch: int = 1000
    standby_poll: float = 1.0
    # How often the leader re-reads the active key, so `hub log keys rotate` run from any
    # process takes effect without a restart.
    key_poll: float = 2.0
    # Checkpoint pruning (hub/log/service.py prune_checkpoints), run by the leader.
    prune_grace: timedelta = timedelta(minutes=10)
    prune_keep: timedelta = timedelta(minutes=1)
    prune_every: float = 60.0
    delays: MergeDelays = field(default_factory=MergeDelays)
    leading: bool = False
    last_batch_at: float | None = None
    _pruned_at: float | None = None
    _key_read_at: float | None = None
    _pruned_until: datetime | None = None
    _task: asyncio.Task[None] | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        """Starts the background task."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="hub-log-sequencer")

    def wake(self) -> None:
        """Asks for a batch now (a writer queued entries)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stops leading and waits for the task to end (a running batch completes)."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._lead()
            except Exception:  # a lost connection or a database restart: try again soon
                logger.exception("sequencer failed; retrying")
                self.leading = False
                await self._sleep(self.standby_poll)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _lead(self) -> None:
        postgres = self.engine.dialect.name == "postgresql"
        connection = await self.engine.connect()
        healthy = locked = False
        try:
            if postgres:
                got = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": SEQUENCER_LOCK_ID}
                )
                await connection.commit()
                locked = bool(got)
                if not locked:
                    healthy = True
                    await self._sleep(self.standby_poll)
                    return
            self.leading = True
            while not self._stopping.is_set():
                async with connection.begin():
                    await self._current_key(connection)
                    done = await integrate(
                        db=connection, signer=self.signer, origin=self.origin, limit=self.batch
                    )
                if done is not None:
                    self.delays.add(done.merge_delays)
                    self.last_batch_at = time.monotonic()
                await self._prune(connection)
                if done is not None and done.integrated == self.batch:
                    continue  # more are waiting: no pause
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            healthy = True
        finally:
            self.leading = False
            if postgres and healthy:
                if locked:
                    # The connection goes back to the pool: it must not keep the lock there.
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": SEQUENCER_LOCK_ID}
                    )
                    await connection.commit()
                await connection.close()
            elif postgres:
                # A connection in an unknown state never returns to the pool (nor its lock).
                await connection.invalidate()
                await connection.close()
            else:
                await connection.close()

    async def _current_key(self, connection: AsyncConnection) -> None:
        now = time.monotonic()
        if self._key_read_at is not None and now - self._key_read_at < self.key_poll:
            return
        self._key_read_at = now
        active = await keys.active_signer(db=connection, origin=self.origin)
        if active is not None and active.public != self.signer.public:
            logger.info("log key rotated: now signing with %08x", active.verifier().key_id)
            self.signer = active

    async def _prune(self, connection: AsyncConnection) -> None:
        now = time.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < self.prune_every:
            return
        from hub.log.service import prune_checkpoints  # service imports the store, as we do

        moment = datetime.now(UTC)
        async with connection.begin():
            await prune_checkpoints(
                db=connection,
                now=moment,
                grace=self.prune_grace,
                keep=self.prune_keep,
                since=self._pruned_until,
            )
        self._pruned_at, self._pruned_until = now, moment - self.prune_grace


async def integrate_all(*, session: AsyncSession, signer: Signer, origin: str) -> int:
    """Integrates everything pending now, in the caller's transaction (CLI and tests)."""
    connection = await session.connection()
    total = 0
    while True:
        done = await integrate(db=connection, signer=signer, origin=origin, limit=5000)
        if done is None:
            return total
        total += done.integrated
        if done.integrated == 0:
            return total
