"""The log's part of a hub process: its key, its origin and (when enabled) its sequencer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.config import Settings
from hub.db import unit_of_work
from hub.log import keys
from hub.log.note import Signer, Verifier
from hub.log.sequencer import SEQUENCER_LOCK_ID, Sequencer, integrate_all
from hub.log.verify import jwk


@dataclass
class LogRuntime:
    """Loaded at start-up; every request of the process shares it."""

    settings: Settings
    origin: str
    signer: Signer | None = None
    verifiers: list[Verifier] = field(default_factory=list)
    sequencer: Sequencer | None = None
    loaded_at: float = 0.0

    # A key rotated by another process shows in this one's JWKS within this many seconds.
    RELOAD_SECONDS = 5.0

    @classmethod
    def create(cls, settings: Settings) -> LogRuntime:
        """Nothing touches the database until start()."""
        return cls(settings, settings.log_origin or keys.origin_for(settings.issuer))

    async def start(
        self, *, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        """Loads (or creates) the log key and starts the sequencer."""
        async with unit_of_work(session_factory) as session:
            self.signer = await keys.ensure_signer(session=session, origin=self.origin)
            self.verifiers = await keys.verifiers(session=session)
        self.loaded_at = time.monotonic()
        if self.settings.log_sequencer:
            self.sequencer = Sequencer(
                engine=engine,
                signer=self.signer,
                origin=self.origin,
                interval=self.settings.log_interval_ms / 1000,
                batch=self.settings.log_batch,
                prune_grace=timedelta(seconds=self.settings.log_checkpoint_grace_seconds),
                prune_keep=timedelta(seconds=self.settings.log_checkpoint_keep_seconds),
            )
            self.sequencer.start()

    async def reload_if_stale(
        self, *, session_factory: async_sessionmaker[AsyncSession], force: bool = False
    ) -> None:
        """Re-reads the published keys and the active one (after `hub log keys rotate`)."""
        if not force and time.monotonic() - self.loaded_at < self.RELOAD_SECONDS:
            return
        async with session_factory() as session:
            self.verifiers = await keys.verifiers(session=session)
            self.signer = await keys.active_signer(db=session, origin=self.origin) or self.signer
        self.loaded_at = time.monotonic()

    async def integrate_pending(self, *, session_factory: async_sessionmaker[AsyncSession]) -> int:
        """Integrates every pending entry now (`hub demo`, loaders), unless another process
        leads the log, which then does; returns how many this call integrated."""
        async with unit_of_work(session_factory) as session:
            # The active key now, whoever rotated it.
            self.signer = await keys.ensure_signer(session=session, origin=self.origin)
            if session.get_bind().dialect.name == "postgresql":
                # The leader's session lock and this transaction's lock exclude each other.
                free = await session.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK_ID}
                )
                if not free:
                    return 0
            return await integrate_all(session=session, signer=self.signer, origin=self.origin)

    async def stop(self) -> None:
        """Stops the sequencer (its running batch completes first)."""
        if self.sequencer is not None:
            await self.sequencer.stop()

    def key(self) -> Verifier:
        """The key that verifies this hub's checkpoints."""
        if self.signer is None:
            raise RuntimeError("the log key is not loaded: call LogRuntime.start() first")
        return self.signer.verifier()

    def jwks_keys(self) -> list[dict[str, str]]:
        """The log keys as JWKs, for /.well-known/jwks.json."""
        return [jwk(v) for v in self.verifiers]

    def health(self) -> dict[str, object]:
        """Whether this process leads the sequencer, and the merge delay it achieved."""
        if self.sequencer is None:
            return {"sequencer": "off"}
        return {
            "sequencer": "leading" if self.sequencer.leading else "standby",
            "mergeDelaySeconds": self.sequencer.delays.summary(),
        }
