"""Hubs with their own limits on the shared test database (tokens of `get_token` work on them)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine
from tests.support import TEST_ISSUER

HubClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def hub_client(settings: Settings) -> HubClient:
    """Opens an HTTP client on a hub whose settings differ from the test's by `overrides`.

    It shares the test database (and so the signing keys): a token from `get_token` is
    valid on it.
    """

    @asynccontextmanager
    async def open_hub(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        application = create_app(dataclasses.replace(settings, **overrides))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
                yield client

    return open_hub


@pytest.fixture
def count_rows(settings: Settings) -> Callable[[str], Awaitable[int]]:
    """Counts the rows of a table in the test database (to prove nothing was written)."""

    async def count(table: str) -> int:
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                return int(
                    (await connection.execute(text(f'SELECT count(*) FROM "{table}"'))).scalar_one()
                )
        finally:
            await engine.dispose()

    return count
