"""The process-wide parts the app wires together once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.auth.keys import KeyStore
from hub.auth.tokens import TokenVerifier
from hub.config import Settings
from hub.db import create_engine, create_session_factory
from hub.standards.service import ValidatorCache
from hub.trade.rules_config import DEFAULT_RULES, RuleConfig


@dataclass
class Runtime:
    """Settings, database and keys shared by every request of one hub process."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    keys: KeyStore
    verifier: TokenVerifier
    validators: ValidatorCache
    rules: RuleConfig

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        """Builds the runtime; nothing touches the database until start()."""
        engine = create_engine(settings)
        session_factory = create_session_factory(engine)
        keys = KeyStore(
            session_factory=session_factory,
            alg=settings.signing_alg,
        )
        verifier = TokenVerifier.create(settings=settings, keys=keys)
        return cls(
            settings, engine, session_factory, keys, verifier, ValidatorCache(), DEFAULT_RULES
        )

    async def start(self) -> None:
        """Loads (or creates) the signing keys."""
        await self.keys.ensure_key()

    async def stop(self) -> None:
        """Closes the database pool."""
        await self.engine.dispose()
