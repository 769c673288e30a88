"""The process-wide parts the app wires together once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from limits.aio.storage import MemoryStorage, Storage
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.access.audit_writer import AuditWriter
from hub.auth.keys import KeyStore
from hub.auth.principal import Principal
from hub.auth.tokens import TokenVerifier
from hub.config import Settings
from hub.db import create_engine, create_session_factory
from hub.events.runtime import EventsRuntime
from hub.http.rate_limit import create_storage
from hub.log.runtime import LogRuntime
from hub.observability import tracing
from hub.replicas import Replicas, reads_from_replica
from hub.risk import arrivals as risk_arrivals
from hub.standards.service import CategoryCache, ValidatorCache
from hub.trade.rules_config import RuleConfig


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
    categories: CategoryCache
    # Where rate limits count (Redis when HUB_REDIS_URL is set): every limiter of the
    # process shares it, each under its own namespace.
    rate_limit_storage: Storage = field(default_factory=MemoryStorage)
    # OpenTelemetry (None: tracing off); the GraphQL endpoint and the engine trace into it.
    tracer_provider: TracerProvider | None = None
    # The verifiable log's key and sequencer.
    log: LogRuntime | None = None
    # The event log's sequencer and the subscribers' wake-ups.
    events: EventsRuntime | None = None
    # Access events, group-committed (hub/access/audit_writer.py); None: made from the
    # session factory.
    audit_writer: AuditWriter = None  # type: ignore[assignment]
    # Streaming replicas for department and bank reads (HUB_DATABASE_REPLICA_URLS).
    replicas: Replicas | None = None

    def __post_init__(self) -> None:
        if self.audit_writer is None:
            self.audit_writer = AuditWriter(
                session_factory=self.session_factory, timeout=self.settings.request_timeout
            )

    def read_session_factory(self, principal: Principal) -> async_sessionmaker[AsyncSession]:
        """Where `principal`'s graph reads go: a replica when it may (hub/replicas.py)."""
        if self.replicas is not None and reads_from_replica(principal):
            return self.replicas.session_factory()
        return self.session_factory

    @property
    def tracer(self) -> Tracer:
        """The hub's tracer (a no-op one when tracing is off)."""
        return tracing.tracer_of(self.tracer_provider)

    @classmethod
    def create(
        cls, settings: Settings, *, tracer_provider: TracerProvider | None = None
    ) -> Runtime:
        """Builds the runtime; nothing touches the database until start()."""
        engine = create_engine(settings, serving=True)
        if tracer_provider is not None:
            tracing.instrument_engine(engine, tracer_provider)
        session_factory = create_session_factory(engine)
        keys = KeyStore(
            session_factory=session_factory,
            alg=settings.signing_alg,
        )
        verifier = TokenVerifier.create(settings=settings, keys=keys)
        return cls(
            settings,
            engine,
            session_factory,
            keys,
            verifier,
            ValidatorCache(threads=settings.validation_threads),
            settings.rules,
            CategoryCache(),
            rate_limit_storage=create_storage(settings.redis_url),
            tracer_provider=tracer_provider,
            log=LogRuntime.create(settings),
            # Risk rules follow the event log off the write path (hub/risk/arrivals.py).
            events=EventsRuntime(settings, followers=(risk_arrivals.evaluate_arrivals,)),
            replicas=Replicas(settings=settings) if settings.database_replica_urls else None,
        )

    async def start(self) -> None:
        """Loads (or creates) the signing keys; starts the log's sequencer."""
        await self.keys.ensure_key()
        if self.log is not None:
            await self.log.start(engine=self.engine, session_factory=self.session_factory)
        if self.events is not None:
            await self.events.start(session_factory=self.session_factory)

    async def stop(self) -> None:
        """Stops the sequencer; closes the database pool and the validation threads."""
        if self.events is not None:
            await self.events.stop()
        if self.log is not None:
            await self.log.stop()
        self.validators.close()
        if self.replicas is not None:
            await self.replicas.dispose()
        await self.engine.dispose()
