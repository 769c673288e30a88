"""Async engine, session factory and the declarative base every table uses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from sqlalchemy import DateTime, MetaData, Table, and_, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from hub.config import Settings
from hub.http import unavailable

# Stable constraint names keep alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every hub table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every mapped class here is a plain table (no mapped selects): say so, so bulk
    # statements over `Model.__table__` type-check as table statements.
    __table__: ClassVar[Table]


# SQLite page cache per connection (KiB, as the pragma's negative form): a one-connection
# command (demo load, message import) gets a large one for index maintenance of batch
# inserts; a serving process keeps many pooled connections, so each gets a small one and
# the process's memory stays bounded (pool_size + max_overflow connections × 8 MiB).
_SQLITE_CACHE_KIB = 65536
_SQLITE_SERVING_CACHE_KIB = 8192
# How long a SQLite writer waits for the write lock: a command may wait long; a request
# waits briefly (its deadline is close) and is then answered DATABASE_BUSY, not "down".
_SQLITE_BUSY_MS = 10_000
_SQLITE_SERVING_BUSY_MS = 5_000


def _sqlite_pragmas(*, cache_kib: int, busy_ms: int) -> Callable[[Any, Any], None]:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed during a write; busy_timeout turns lock contention
        # between writers into waiting instead of immediate "database is locked" errors.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # In-memory temporaries keep sorting off the disk; WAL with synchronous=NORMAL
        # stays crash-safe.
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return apply


def _invalidate_on_stall(context: ExceptionContext) -> None:
    """Treats a timed-out or wedged connection as lost, so the pool drops it (and the rest).

    asyncpg's command timeout leaves the connection mid-operation ("cannot switch to
    state ...; another operation is in progress" on its next use), and SQLAlchemy does not
    count either as a disconnect. Marking them one invalidates this connection and every
    connection opened before it: after an outage the pool starts afresh at once instead
    of handing out dead connections one by one.
    """
    error = context.original_exception
    if context.is_disconnect or error is None:
        return
    if unavailable.is_connection_lost(error):
        context.is_disconnect = True


def json_dumps(value: Any) -> str:
    """JSON for the JSON columns: orjson (several times faster), stdlib for what it refuses."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:  # integers beyond 64 bits, which JSON allows
        return json.dumps(value, ensure_ascii=False)


def json_loads(text: str | bytes) -> Any:
    """Reads a JSON column (orjson; stdlib for numbers orjson refuses)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def create_engine(settings: Settings, *, serving: bool = False) -> AsyncEngine:
    """Creates the async engine for the configured database.

    `serving`: the engine of a hub process answering requests, whose every statement and
    connection attempt is bounded by the request deadline (HUB_REQUEST_TIMEOUT); commands
    (demo load, imports, verification) may run longer statements."""
    kwargs: dict[str, Any] = {
        "echo": settings.log_sql,
        "json_serializer": json_dumps,
        "json_deserializer": json_loads,
    }
    deadline = settings.request_timeout
    # pool_size connections stay open, as many again may be opened under load. Waiting for
    # one never outlasts the request it is for.
    kwargs.update(
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=min(settings.db_pool_timeout, deadline)
        if serving
        else settings.db_pool_timeout,
    )
    if settings.is_sqlite:
        busy_ms = min(_SQLITE_SERVING_BUSY_MS, int(deadline * 500)) if serving else _SQLITE_BUSY_MS
        kwargs["connect_args"] = {"timeout": busy_ms / 1000}
    else:
        server_settings = {
            # asyncpg prepares every statement; after five runs PostgreSQL switches to a
            # generic plan chosen without the parameters (and, on young tables, without
            # statistics), which turned 2 ms key lookups into 30 ms scans. Custom plans
            # cost a little planning each time and stay index lookups.
            "plan_cache_mode": "force_custom_plan",
        }
        connect_args: dict[str, Any] = {
            "server_settings": server_settings,
            # A black-holed database host answers nothing: give up after 10 s (and answer
            # 503) rather than asyncpg's default of a minute.
            "timeout": 10,
        }
        if serving:
            # The server cancels a statement that outlives the request (the connection
            # stays usable); asyncpg gives up a second later when the server cannot even
            # answer (a black-holed connection), and the connection is then dropped.
            server_settings["statement_timeout"] = str(int(deadline * 1000))
            server_settings["idle_in_transaction_session_timeout"] = str(int(deadline * 2000))
            connect_args["command_timeout"] = deadline + 1
            connect_args["timeout"] = min(10.0, deadline)
        kwargs.update(pool_pre_ping=True, connect_args=connect_args)
    engine = create_async_engine(settings.database_url, **kwargs)
    if settings.is_sqlite:
        pragmas = _sqlite_pragmas(
            cache_kib=_SQLITE_SERVING_CACHE_KIB if serving else _SQLITE_CACHE_KIB,
            busy_ms=int(kwargs["connect_args"]["timeout"] * 1000),
        )
        event.listen(engine.sync_engine, "connect", pragmas)
    event.listen(engine.sync_engine, "handle_error", _invalidate_on_stall)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Creates the session factory; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: commits when the block ends normally, rolls back on error."""
    async with session_factory() as session, session.begin():
        yield session


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no timezone type and hands back naive values; PostgreSQL hands back aware
    ones. Normalising here keeps every comparison in the code the same on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SerialSession:
    """An AsyncSession shared by the concurrent resolvers of one request, one call at a time.

    GraphQL resolves sibling fields concurrently, and an AsyncSession must not run two
    statements at once; a lock around each call keeps one session (and one connection)
    per request instead of one per resolver.
    """

    def __init__(self, session: AsyncSession):
        self._session = session
        self._lock = asyncio.Lock()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await self._session.execute(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await self._session.scalars(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await self._session.scalar(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await self._session.get(*args, **kwargs)

    async def close(self) -> None:
        async with self._lock:
            await self._session.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def in_values(column: Any, values: Iterable[Any], *, dialect: str) -> Any:
    """`column IN values`; on PostgreSQL one array parameter (`= ANY($1)`): one prepared
    statement for any number of values instead of a new statement (and plan) per length.

    Used for single-column index lookups, where the generic plan stays an index scan."""
    values = list(values)
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type), unique=True))
    return column.in_(values)


def pair_in(left: Any, right: Any, pairs: Iterable[tuple[Any, Any]]) -> Any:
    """A superset of `(left, right) IN pairs` that both databases answer from an index.

    SQLite scans the whole table for a row-value IN list, even on a unique (left, right)
    index; two plain IN lists use the index. Callers look rows up by their exact pair, so
    the few extra rows (a left of one pair with a right of another) do no harm.
    """
    pairs = list(pairs)
    return and_(left.in_({a for a, _ in pairs}), right.in_({b for _, b in pairs}))
