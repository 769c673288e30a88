"""Leases: which process runs a singleton job (the events sequencer, the NATS relay).

A row per job names its holder and an expiry; the holder renews it on every round, and
another process takes over once it has expired (the holder died or lost the database).
Portable (SQLite and PostgreSQL), and what the job writes is also guarded by the database
(unique positions, the relay's cursor row), so a holder that overran its lease cannot
write twice.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events.models import EventLease


def new_holder() -> str:
    """A name for this process's claim: host, pid and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def acquire(
    *, session: AsyncSession, name: str, holder: str, ttl: timedelta, now: datetime
) -> bool:
    """Takes or renews the lease in the caller's transaction; True when `holder` holds it."""
    renewed = await session.execute(
        update(EventLease)
        .where(
            EventLease.name == name,
            or_(EventLease.holder == holder, EventLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    created = await session.execute(
        insert(EventLease.__table__)
        .values(name=name, holder=holder, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return bool(created.rowcount)  # type: ignore[attr-defined]


async def release(*, session: AsyncSession, name: str, holder: str, now: datetime) -> None:
    """Gives the lease up at once (a clean shutdown), so another process need not wait."""
    await session.execute(
        update(EventLease)
        .where(EventLease.name == name, EventLease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
