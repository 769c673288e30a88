"""The log's Ed25519 key: made on first start, kept in the database, published in the JWKS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.log.models import LogKey
from hub.log.note import ED25519, Signer, Verifier
from hub.log.verify import sign_rotation

_KEYS = LogKey.__table__

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


async def active_signer(*, db: AsyncSession | AsyncConnection, origin: str) -> Signer | None:
    """The key that signs now (the newest unretired one), read where the sequencer reads."""
    row = (
        await db.execute(
            select(_KEYS.c.name, _KEYS.c.seed)
            .where(_KEYS.c.name == origin, _KEYS.c.retired_at.is_(None))
            .order_by(_KEYS.c.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else Signer.from_seed(row.name, bytes(row.seed))


async def rotate(*, session: AsyncSession, origin: str, now: datetime) -> Signer:
    """Retires the active key of `origin` and makes a new one; the retired key stays
    published (old checkpoints stay verifiable) and vouches for its successor."""
    await _serialise(session)
    for row in await session.scalars(
        select(LogKey).where(LogKey.name == origin, LogKey.retired_at.is_(None))
    ):
        row.retired_at = now
    signer = Signer.generate(origin)
    session.add(LogKey(name=origin, seed=signer.seed, public=signer.public, created_at=now))
    await session.flush()
    return signer


@dataclass(frozen=True)
class PublishedKey:
    """A log key as GET /log/keys shows it, with the rotation note that introduced it."""

    vkey: str
    created_at: datetime
    retired_at: datetime | None
    rotation: str | None  # signed by the key it replaced (None for a log's first key)

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape."""
        return {
            "vkey": self.vkey,
            "createdAt": self.created_at.isoformat(),
            "retiredAt": self.retired_at.isoformat() if self.retired_at else None,
            "rotation": self.rotation,
        }


async def published(*, session: AsyncSession) -> list[PublishedKey]:
    """Every log key, oldest first, each after the first of its log with its rotation note
    (signed on demand: Ed25519 is deterministic, so the note is the same every time)."""
    rows = (await session.scalars(select(LogKey).order_by(LogKey.id))).all()
    previous: dict[str, Signer] = {}
    keys = []
    for row in rows:
        signer = Signer.from_seed(row.name, bytes(row.seed))
        before = previous.get(row.name)
        keys.append(
            PublishedKey(
                Verifier(row.name, ED25519, bytes(row.public)).vkey,
                row.created_at,
                row.retired_at,
                sign_rotation(before, signer) if before else None,
            )
        )
        previous[row.name] = signer
    return keys
