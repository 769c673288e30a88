"""A database that cannot be reached turns into 503 SERVICE_UNAVAILABLE, never a trace."""

from __future__ import annotations

import logging
import socket

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.http.errors import send_error

log = logging.getLogger("hub.http")

CODE = "SERVICE_UNAVAILABLE"
MESSAGE = "the database is unavailable; try again shortly"
RETRY_AFTER_SECONDS = 5

# What a lost or refused connection looks like: the DBAPI's operational/interface errors
# as SQLAlchemy wraps them, a pool that cannot hand out a connection in time, and the
# socket errors (refused, reset, unresolvable host, timeout) a driver raises unwrapped
# while connecting. Other OSErrors (a missing file) are bugs, not outages.
_UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    TimeoutError,
    ConnectionError,
    socket.gaierror,
)


def _is_unavailable(error: BaseException) -> bool:
    # asyncio reports "Multiple exceptions: Connect call failed ..." as a bare OSError.
    return isinstance(error, _UNAVAILABLE) or type(error) is OSError


def is_database_unavailable(error: BaseException | None) -> bool:
    """True when `error` (or what caused it) means the database could not be reached."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if _is_unavailable(error):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


class DatabaseUnavailableMiddleware:
    """Answers 503 when a route fails because the database cannot be reached.

    Nothing is cached about the outage: the next request tries the database again (the
    PostgreSQL pool pings connections before use), so the hub recovers by itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or not is_database_unavailable(exc):
                raise
            log.warning("database unavailable at %s: %r", scope.get("path"), exc)
            await send_error(
                scope,
                send,
                status=503,
                code=CODE,
                message=MESSAGE,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
