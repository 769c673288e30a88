"""Read replicas: which reads may go to a PostgreSQL streaming replica, and how far behind.

With HUB_DATABASE_REPLICA_URLS, the graph reads of departments and banks are served by the
replicas (round robin), which is where the read load is. Everything else stays on the
primary: writes and their transactions, the access log (written and read: a supervisor
must see the newest events), token and revocation checks, and what decides permissions
(the caller's grants and consents: a revoked consent binds at once, whatever the lag).
A declarant (an enterprise client) reads on the primary too, so it always reads its own
writes. A replica's data may be a moment old; /healthz reports by how much.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.config import Settings
from hub.db import create_engine, create_session_factory

# The department and bank read scopes: the callers whose graph reads a replica may serve.
_REPLICA_READERS = frozenset(
    {Scope.CUSTOMS_READ, Scope.TAX_READ, Scope.FOREX_READ, Scope.MARKET_READ, Scope.FINANCE_READ}
)
# Scopes whose holder must see the newest state: declarants (read-your-own-writes) and
# supervisors (the access log).
_PRIMARY_ONLY = frozenset({Scope.DECLARE, Scope.AUDIT_READ})
_STATUS_TIMEOUT_SECONDS = 3.0


def reads_from_replica(principal: Principal) -> bool:
    """True when `principal`'s graph reads may be served by a replica."""
    return (
        principal.enterprise_code is None
        and not (principal.scopes & _PRIMARY_ONLY)
        and bool(principal.scopes & _REPLICA_READERS)
    )


def _lsn(value: str | None) -> int | None:
    """A PostgreSQL LSN (`16/B374D848`) as a byte position."""
    if value is None:
        return None
    high, _, low = value.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def _name(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


class Replicas:
    """The replicas' engines and session factories, handed out in turn."""

    def __init__(self, *, settings: Settings) -> None:
        self.names = [_name(url) for url in settings.database_replica_urls]
        self.engines: list[AsyncEngine] = [
            create_engine(dataclasses.replace(settings, database_url=url), serving=True)
            for url in settings.database_replica_urls
        ]
        self._factories = [create_session_factory(engine) for engine in self.engines]
        self._turn: Iterator[async_sessionmaker[AsyncSession]] = itertools.cycle(self._factories)

    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        """The next replica's session factory (round robin)."""
        return next(self._turn)

    async def status(self, *, primary: AsyncEngine) -> list[dict[str, Any]]:
        """Each replica's state and replication lag, measured against the primary."""
        async with primary.connect() as connection:
            current = _lsn(
                (await connection.execute(text("SELECT pg_current_wal_lsn()::text"))).scalar()
            )
        return list(
            await asyncio.gather(
                *(
                    self._status(n, e, current)
                    for n, e in zip(self.names, self.engines, strict=True)
                )
            )
        )

    async def _status(
        self, name: str, engine: AsyncEngine, primary_lsn: int | None
    ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(_STATUS_TIMEOUT_SECONDS), engine.connect() as connection:
                row = (
                    await connection.execute(
                        text(
                            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
                            "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
                            "THEN 0 ELSE EXTRACT(EPOCH FROM now() - "
                            "pg_last_xact_replay_timestamp()) END"
                        )
                    )
                ).one()
        except Exception as exc:  # a replica that is down is reported, not raised
            return {"name": name, "status": "unreachable", "detail": type(exc).__name__}
        in_recovery, replayed, seconds = row
        replayed_lsn = _lsn(replayed)
        lag_bytes = (
            max(0, primary_lsn - replayed_lsn)
            if primary_lsn is not None and replayed_lsn is not None
            else None
        )
        return {
            "name": name,
            "status": "ok" if in_recovery else "not a replica",
            "lagBytes": lag_bytes,
            # Time since the newest replayed transaction, while WAL is still to be replayed
            # (0 when caught up: an idle primary is no lag).
            "lagSeconds": round(float(seconds), 3) if seconds is not None else None,
        }

    async def dispose(self) -> None:
        """Closes the replicas' pools."""
        for engine in self.engines:
            await engine.dispose()
