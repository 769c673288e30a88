"""The events sequencer: gives committed events their positions, in the order they became
visible; also writes consent expiries and applies the retention period.

Why a sequencer. An autoincrement id is monotonic in the order rows were *inserted*, not
the order they *committed*: on PostgreSQL a transaction holding id 10 may commit after
one holding id 11, so a reader that saw 11 and moved its cursor past it would miss 10 for
ever. Exposing only ids below the oldest in-flight transaction (`pg_snapshot_xmin`) fixes
the gap but orders by transaction start, which can put a later change to a record before
an earlier one, and any long transaction holds the whole feed back; a lock shared by the
writers and taken exclusively by readers stalls every write on each poll. The sequencer
instead reads the rows that are visible and have no position, and numbers them after the
last position, in one transaction: a row that commits late simply gets a later position.
Positions are dense and unique (a unique index backs it), every committed event gets
exactly one, and a rolled-back change never had a row. The cost is a short delay (one
interval, HUB_EVENTS_INTERVAL_MS) and one leader per database (a lease, hub/events/lease.py).

On SQLite writers are serialised, so insertion order is commit order already; the same
sequencer runs there too, so both databases behave alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, delete, exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.access.models import Consent
from hub.db import unit_of_work
from hub.events import lease, outbox
from hub.events.kinds import EventKind
from hub.events.models import Event, WebhookDelivery

logger = logging.getLogger("hub.events.sequencer")

LEASE = "events.sequencer"
# A consumer the leading sequencer runs after each round, in its own transaction: work that
# follows the log off the write path (risk rules on intake, hub/risk/arrivals.py).
Follower = Callable[..., Awaitable[int]]
_EXPIRY_BATCH = 500


async def sequence(*, session: AsyncSession, limit: int) -> tuple[int, int]:
    """Numbers up to `limit` visible unsequenced events; returns (how many, the last
    position, 0 when there is none)."""
    if session.get_bind().dialect.name == "sqlite":
        # Take the single writer's lock before reading, so what is read stays current.
        await session.execute(text("DELETE FROM event_leases WHERE 1 = 0"))
    top = (await session.execute(select(func.max(Event.position)))).scalar() or 0
    pending = (
        await session.scalars(
            select(Event.id).where(Event.position.is_(None)).order_by(Event.id).limit(limit)
        )
    ).all()
    if pending:
        table = Event.__table__
        await session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(position=bindparam("p")),
            [{"b_id": event_id, "p": top + i} for i, event_id in enumerate(pending, start=1)],
        )
    return len(pending), top + len(pending)


async def expire_consents(*, session: AsyncSession, now: datetime) -> int:
    """A `consent.expired` event for each consent whose expiry has passed (once each)."""
    told = exists().where(
        and_(Event.kind == EventKind.CONSENT_EXPIRED.value, Event.record_key == Consent.id)
    )
    due = (
        await session.scalars(
            select(Consent)
            .where(Consent.status == "ACTIVE", Consent.expires_at <= now, ~told)
            .order_by(Consent.expires_at)
            .limit(_EXPIRY_BATCH)
        )
    ).all()
    for consent in due:
        await outbox.consent_changed(
            session=session, consent=consent, kind=EventKind.CONSENT_EXPIRED, now=consent.expires_at
        )
    return len(due)


async def purge(*, session: AsyncSession, retention: timedelta, now: datetime) -> int:
    """Drops the events (and finished webhook deliveries) older than the retention period.

    Only a prefix of positions goes, so the log stays gap-free after the oldest kept event,
    and the newest event always stays, so a reader can tell a purged cursor from an empty
    log."""
    cutoff = now - retention
    keep_from = (
        await session.execute(
            select(func.min(Event.position)).where(
                Event.occurred_at >= cutoff, Event.position.is_not(None)
            )
        )
    ).scalar()
    if keep_from is None:
        keep_from = (await session.execute(select(func.max(Event.position)))).scalar()
    if keep_from is None:
        return 0
    result = await session.execute(
        delete(Event).where(Event.position < keep_from).execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(WebhookDelivery)
        .where(WebhookDelivery.finished_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class EventSequencer:
    """The background task: leads while it holds the lease, sequences every interval."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        interval: float,
        batch: int,
        retention: timedelta,
        on_advance: Callable[[int], None] | None = None,
        followers: Sequence[Follower] = (),
    ) -> None:
        self.session_factory = session_factory
        self.interval = interval
        self.batch = batch
        self.retention = retention
        self.on_advance = on_advance
        self.followers = tuple(followers)
        self.holder = lease.new_holder()
        self.leading = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._last_sweep = datetime.min.replace(tzinfo=UTC)
        self._last_purge = datetime.min.replace(tzinfo=UTC)
        self._ttl = timedelta(seconds=max(5.0, 20 * interval))

    def start(self) -> None:
        """Starts the loop in the running event loop."""
        self._task = asyncio.create_task(self._run(), name="hub-events-sequencer")

    async def stop(self) -> None:
        """Stops the loop after its current round and gives the lease up."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.leading:
            with contextlib.suppress(Exception):
                async with unit_of_work(self.session_factory) as session:
                    await lease.release(
                        session=session, name=LEASE, holder=self.holder, now=datetime.now(UTC)
                    )
            self.leading = False

    async def round(self) -> int:
        """One round: renew the lease, then (leading) sequence one batch; returns how many
        events got positions."""
        now = datetime.now(UTC)
        async with unit_of_work(self.session_factory) as session:
            self.leading = await lease.acquire(
                session=session, name=LEASE, holder=self.holder, ttl=self._ttl, now=now
            )
        if not self.leading:
            return 0
        if now - self._last_sweep >= timedelta(seconds=1):
            async with unit_of_work(self.session_factory) as session:
                await expire_consents(session=session, now=now)
            self._last_sweep = now
        if now - self._last_purge >= timedelta(minutes=1):
            async with unit_of_work(self.session_factory) as session:
                await purge(session=session, retention=self.retention, now=now)
            self._last_purge = now
        async with unit_of_work(self.session_factory) as session:
            done, top = await sequence(session=session, limit=self.batch)
        if done and self.on_advance is not None:
            self.on_advance(top)
        for follower in self.followers:
            try:
                async with unit_of_work(self.session_factory) as session:
                    await follower(session=session, now=now)
            except Exception:
                # One consumer's failure must not hold the log back; it retries next round
                # from its own cursor.
                logger.warning("events follower %s failed", follower.__qualname__, exc_info=True)
        return done

    async def _run(self) -> None:
        while not self._stopping.is_set():
            done = 0
            try:
                done = await self.round()
            except Exception:
                # A database outage or a lost race: log it, wait, try again.
                logger.warning("events sequencer round failed", exc_info=True)
            if done >= self.batch:
                continue  # more are waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
