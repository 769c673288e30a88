"""A database that is lost, stalled or busy turns into 503 with Retry-After, never a trace.

Three kinds of refusal, decided here and nowhere else:
- SERVICE_UNAVAILABLE: the database cannot be reached or answered too late (refused, reset,
  terminated or black-holed connections, administrator shutdown, failover, pool and
  statement timeouts) or the request outlived `HUB_REQUEST_TIMEOUT`;
- DATABASE_BUSY: SQLite's write lock stayed taken for the whole busy timeout (a busy lock
  is contention, not an outage: retry at once);
- anything else is a bug and is not ours to answer.

Logging: one concise line per refused request, written by the middleware once the refusal
is sent, and a traceback only for the first refusal of an outage (refusals with no 30 s
quiet gap between them), never one per request.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.http.errors import send_error

log = logging.getLogger("hub.http")

CODE = "SERVICE_UNAVAILABLE"
MESSAGE = "the database is unavailable; try again shortly"
RETRY_AFTER_SECONDS = 5
BUSY_CODE = "DATABASE_BUSY"
BUSY_MESSAGE = "the database is busy with other writes; try again"
BUSY_RETRY_AFTER_SECONDS = 1
DEADLINE_MESSAGE = "the request did not finish within the server's deadline; try again shortly"


@dataclass(frozen=True)
class Refusal:
    """How a database fault is answered: HTTP 503 with this code, message and Retry-After."""

    code: str
    message: str
    retry_after: int


UNAVAILABLE = Refusal(CODE, MESSAGE, RETRY_AFTER_SECONDS)
BUSY = Refusal(BUSY_CODE, BUSY_MESSAGE, BUSY_RETRY_AFTER_SECONDS)
DEADLINE = Refusal(CODE, DEADLINE_MESSAGE, RETRY_AFTER_SECONDS)
_BY_CODE = {CODE: UNAVAILABLE, BUSY_CODE: BUSY}

# What a lost or refused connection looks like: the DBAPI's operational/interface errors
# as SQLAlchemy wraps them, a pool that cannot hand out a connection in time, timeouts
# (asyncpg's command and connect timeouts, the request deadline) and the socket errors a
# driver raises unwrapped while connecting. Other OSErrors (a missing file) are bugs.
_UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    TimeoutError,
    ConnectionError,
    socket.gaierror,
)

# PostgreSQL SQLSTATEs of a connection that is gone or refused (asyncpg raises them inside
# SQLAlchemy's generic DBAPIError): class 08 (connection exceptions), the server shutting
# down, crashing, starting or dropping the database (57P01-57P04), idle timeouts (57P05,
# 25P03), too many connections (53300), a statement cancelled by statement_timeout
# (57014) and a read-only transaction after a failover to a standby (25006).
_UNAVAILABLE_SQLSTATES = frozenset(
    {"57P01", "57P02", "57P03", "57P04", "57P05", "25P03", "53300", "57014", "25006"}
)

# asyncpg's client-side errors when a connection dies or a timed-out query leaves it
# mid-operation; SQLAlchemy's once a connection was invalidated inside a transaction.
_UNAVAILABLE_MESSAGES = (
    "cannot switch to state",
    "another operation is in progress",
    "connection is closed",
    "connection was closed",
    "invalid transaction is rolled back",
)

_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def _sqlstate(error: BaseException) -> str | None:
    state = getattr(error, "sqlstate", None)
    return state if isinstance(state, str) else None


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, _UNAVAILABLE) or type(error) is OSError:
        # asyncio reports "Multiple exceptions: Connect call failed ..." as a bare OSError.
        return True
    state = _sqlstate(error)
    if state is not None and (state.startswith("08") or state in _UNAVAILABLE_SQLSTATES):
        return True
    if isinstance(error, PendingRollbackError) or type(error).__module__.startswith("asyncpg"):
        text = str(error)
        return any(fragment in text for fragment in _UNAVAILABLE_MESSAGES)
    return False


# Of those, the ones after which the connection itself is unusable (a statement cancelled
# by statement_timeout, or too many connections, leave the others healthy).
_LOST_SQLSTATES = _UNAVAILABLE_SQLSTATES - {"57014", "53300"}


def _is_lost(error: BaseException) -> bool:
    if isinstance(error, TimeoutError | ConnectionError) or type(error) is OSError:
        return True
    state = _sqlstate(error)
    if state is not None:
        return state.startswith("08") or state in _LOST_SQLSTATES
    if type(error).__module__.startswith("asyncpg"):
        return any(fragment in str(error) for fragment in _UNAVAILABLE_MESSAGES)
    return False


def is_connection_lost(error: BaseException | None) -> bool:
    """True when the connection that raised `error` is gone or wedged and must be dropped."""
    return any(_is_lost(e) for e in _chain(error))


def _is_busy(error: BaseException) -> bool:
    if isinstance(error, sqlite3.OperationalError):
        name = getattr(error, "sqlite_errorname", "")
        text = str(error)
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or any(
            fragment in text for fragment in _BUSY_MESSAGES
        )
    return False


def _chain(error: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while error is not None and all(error is not e for e in seen):
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def is_database_busy(error: BaseException | None) -> bool:
    """True when `error` (or what caused it) is SQLite's write lock held past the busy timeout."""
    return any(_is_busy(e) for e in _chain(error))


def is_database_unavailable(error: BaseException | None) -> bool:
    """True when `error` (or what caused it) means the database is lost, refused or stalled.

    A busy SQLite lock is not an outage (see `is_database_busy`), even though SQLite
    reports it as an OperationalError."""
    chain = _chain(error)
    return not any(_is_busy(e) for e in chain) and any(_is_unavailable(e) for e in chain)


def refusal_for(error: BaseException | None) -> Refusal | None:
    """How to answer a request that failed with `error`; None when it is not a database fault."""
    if is_database_busy(error):
        return BUSY
    if is_database_unavailable(error):
        return UNAVAILABLE
    return None


def refusal_of_code(code: object) -> Refusal | None:
    """The refusal a GraphQL error code stands for (the endpoint answers it with 503)."""
    return _BY_CODE.get(code) if isinstance(code, str) else None


# --- logging: one line per refused request, a traceback once per outage ------------------


@dataclass
class _Note:
    """The first database fault met while serving one request."""

    cause: BaseException | None = None
    where: str = ""
    logged: bool = field(default=False)


_note: ContextVar[_Note | None] = ContextVar("hub_unavailable_note", default=None)


class OutageLog:
    """Logs refusals: one line each, and a traceback when an outage begins.

    An outage is a run of refusals with no quiet gap of `quiet_seconds` between them: after
    a terminated backend or a failover, requests on dead connections fail while others
    already succeed, so "a statement succeeded" would end and restart it many times."""

    def __init__(self, *, quiet_seconds: float = 30.0) -> None:
        self.quiet_seconds = quiet_seconds
        self.last_refusal: float | None = None
        self.outages = 0  # outages begun in this process (each logged one traceback)

    def report(self, refusal: Refusal, cause: BaseException | None, line: str) -> None:
        """Logs one refusal: a line always, the traceback too when an outage begins."""
        if refusal.code == BUSY_CODE:
            log.warning("%s", line)  # contention, not an outage: no traceback
            return
        now = time.monotonic()
        began = self.last_refusal is None or now - self.last_refusal > self.quiet_seconds
        self.last_refusal = now
        if began:
            self.outages += 1
            log.error("database outage began: %s", line, exc_info=cause)
        else:
            log.warning("%s", line)


outages = OutageLog()  # for faults met outside any request (tests calling the schema)


def _describe(error: BaseException | None) -> str:
    chain = _chain(error)
    # The innermost error says what happened (asyncpg's, sqlite3's, the socket's).
    root = chain[-1] if chain else None
    if root is None:
        return "no cause"
    text = str(root).strip().splitlines()[0][:200] if str(root).strip() else ""
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def note(error: BaseException | None, *, where: str = "") -> None:
    """Records a database fault met by the current request; the middleware logs it once.

    Outside a request (a test calling the schema directly) the line is logged at once."""
    current = _note.get()
    if current is None:
        refusal = refusal_for(error) or UNAVAILABLE
        outages.report(refusal, error, f"{where or 'database'}: {_describe(error)}")
        return
    if current.cause is None:
        current.cause = error
        current.where = where


class DatabaseUnavailableMiddleware:
    """Answers 503 when a route fails on the database or outlives the request deadline.

    `timeout` (HUB_REQUEST_TIMEOUT) bounds the whole request, body reading included, so no
    request outlives it whatever the database does. Nothing is cached about an outage: the
    next request tries the database again (a disconnect invalidates the pool, and
    PostgreSQL connections are pinged before use), so the hub recovers by itself.
    """

    def __init__(self, app: ASGIApp, *, timeout: float | None = None) -> None:
        self.app = app
        self.timeout = timeout
        self.outages = OutageLog()  # per app: each hub in a process has its own outages
        self._unwinding: set[asyncio.Future[None]] = set()

    def _unwound(self, task: asyncio.Future[None]) -> None:
        self._unwinding.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: it was answered with the deadline's 503

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        expired = False

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if expired:
                return  # the deadline has answered for the app
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        current = _Note()
        token = _note.set(current)
        try:
            # A task of its own (sharing the note through the copied context): at the
            # deadline the 503 goes out at once, while the cancelled request unwinds in
            # the background (closing a stalled connection can take seconds more).
            task = asyncio.ensure_future(self.app(scope, receive, tracking_send))
        finally:
            _note.reset(token)
        try:
            await asyncio.wait({task}, timeout=self.timeout)
        except asyncio.CancelledError:
            task.cancel()
            raise
        refusal: Refusal | None = None
        if not task.done():
            expired = True
            task.cancel()
            self._unwinding.add(task)
            task.add_done_callback(self._unwound)
            if status:
                return  # the answer has started: the server closes the connection
            refusal = DEADLINE
            current.cause = current.cause or TimeoutError("request deadline")
            current.where = current.where or "request deadline"
        elif (exc := task.exception()) is not None:
            refusal = refusal_for(exc)
            if status or refusal is None:
                raise exc
            current.cause = current.cause or exc
        if refusal is not None:
            status = 503
            await send_error(
                scope,
                send,
                status=503,
                code=refusal.code,
                message=refusal.message,
                headers={"Retry-After": str(refusal.retry_after)},
            )
        if status == 503 and current.cause is not None:
            answered = refusal or refusal_for(current.cause) or UNAVAILABLE
            line = (
                f"{scope.get('method', '')} {scope.get('path', '')} refused 503 "
                f"{answered.code}: {current.where + ': ' if current.where else ''}"
                f"{_describe(current.cause)}"
            )
            self.outages.report(answered, current.cause, line)
