"""The log's Ed25519 key: made on first start, kept in the database, published in the JWKS."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.log.models import LogKey
from hub.log.note import Signer, Verifier

# Several workers may start at once on a fresh database: one of them makes the key.
_LOG_KEY_LOCK_ID = 0x4C4F474B


def origin_for(issuer: str) -> str:
    """The default log origin: the issuer without its scheme, then `/log`."""
    parts = urlsplit(issuer)
    return f"{parts.netloc}{parts.path.rstrip('/')}/log"


async def _serialise(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOG_KEY_LOCK_ID})
    else:
        await session.execute(text("DELETE FROM log_keys WHERE 1 = 0"))


async def ensure_signer(*, session: AsyncSession, origin: str) -> Signer:
    """The active log key for `origin`, created if there is none."""
    await _serialise(session)
    row = await session.scalar(
        select(LogKey)
        .where(LogKey.name == origin, LogKey.retired_at.is_(None))
        .order_by(LogKey.id.desc())
        .limit(1)
    )
    if row is not None:
        return Signer.from_seed(row.name, bytes(row.seed))
    signer = Signer.generate(origin)
    session.add(
        LogKey(name=origin, seed=signer.seed, public=signer.public, created_at=datetime.now(UTC))
    )
    await session.flush()
    return signer


async def verifiers(*, session: AsyncSession) -> list[Verifier]:
    """Every log key, retired ones included (old checkpoints stay verifiable)."""
    rows = await session.scalars(select(LogKey).order_by(LogKey.id))
    return [Verifier(row.name, 0x01, bytes(row.public)) for row in rows]
