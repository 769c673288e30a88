"""The typed per-request context every resolver receives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from hub.access.audit import AccessRecorder
from hub.access.audit_log import Confidentiality
from hub.access.viewer import Viewer, build_viewer
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.db import SerialSession
from hub.graphql.loaders import Loaders
from hub.runtime import Runtime


@dataclass
class Context:
    """Who is asking, the process runtime, and the request's read session."""

    request: Request
    principal: Principal
    runtime: Runtime
    audit: AccessRecorder = field(default_factory=AccessRecorder)
    # A department's confidential read (Hub-Confidential), written into the access event.
    confidential: Confidentiality | None = None
    _read_session: AsyncSession | None = field(default=None, repr=False)
    _loaders: Loaders | None = field(default=None, repr=False)
    _viewer: Viewer | None = field(default=None, repr=False)
    _viewer_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _read_factory: async_sessionmaker[AsyncSession] | None = field(default=None, repr=False)

    async def viewer(self) -> Viewer:
        """What this caller may see (row rules, grants, consents), read once per request."""
        async with self._viewer_lock:
            if self._viewer is None:
                if self.read_session_factory is self.runtime.session_factory:
                    session = self.read_session
                    self._viewer = await build_viewer(session=session, principal=self.principal)
                else:
                    # Reads go to a replica, permissions never: a revoked consent binds at
                    # once, whatever the replica's lag (one short primary session).
                    async with self.runtime.session_factory() as primary:
                        self._viewer = await build_viewer(session=primary, principal=self.principal)
        return self._viewer

    @property
    def read_session_factory(self) -> async_sessionmaker[AsyncSession]:
        """The primary, or a replica for department and bank reads (hub/replicas.py)."""
        if self._read_factory is None:
            self._read_factory = self.runtime.read_session_factory(self.principal)
        return self._read_factory

    @property
    def loaders(self) -> Loaders:
        """The request's DataLoaders (sharing the read session)."""
        if self._loaders is None:
            self._loaders = Loaders.create(lambda: self.read_session)
        return self._loaders

    @property
    def read_session(self) -> AsyncSession:
        """A session for queries, opened on first use and closed when the request ends;
        safe for the concurrent resolvers of the request (calls are serialised)."""
        if self._read_session is None:
            self._read_session = cast(AsyncSession, SerialSession(self.read_session_factory()))
        return self._read_session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The unit of work of one mutation: commits at the end or rolls back on error."""
        async with self.runtime.session_factory() as session, session.begin():
            yield session

    async def close(self) -> None:
        """Releases the read session."""
        if self._read_session is not None:
            await self._read_session.close()
            self._read_session = None

    def require(self, scope: Scope) -> None:
        """Raises a FORBIDDEN GraphQL error unless the token grants the scope."""
        if not self.principal.has(scope):
            raise Forbidden(f"this operation needs the scope '{scope.value}'")


class Forbidden(Exception):
    """The caller's token does not allow this; surfaces with extensions.code FORBIDDEN."""

    extensions: dict[str, Any] = {"code": "FORBIDDEN"}  # noqa: RUF012 (subclasses widen it)


class BadInput(Exception):
    """An argument the caller can correct; surfaces with extensions.code BAD_USER_INPUT."""

    extensions: ClassVar[dict[str, str]] = {"code": "BAD_USER_INPUT"}


Info = strawberry.Info[Context, None]
