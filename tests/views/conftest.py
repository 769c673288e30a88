"""A demo data set in the test database, and tokens for every kind of reader."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from hub.demo.loader import DemoClient, DemoSummary, load_demo
from tests.support import RegisteredClient

DEMO_ORDERS = 40


@dataclass
class Demo:
    """The loaded demo and a way to get a token for any of its clients."""

    summary: DemoSummary
    http: httpx.AsyncClient
    tokens: dict[str, str]
    register: Callable[..., Awaitable[RegisteredClient]]

    def client(self, *, scopes: str | None = None, enterprise: str | None = None) -> DemoClient:
        for client in self.summary.clients:
            if scopes is not None and client.scopes == scopes:
                return client
            if enterprise is not None and client.enterprise_code == enterprise:
                return client
        raise LookupError(scopes or enterprise)

    async def token(self, *, scopes: str | None = None, enterprise: str | None = None) -> str:
        try:
            client = self.client(scopes=scopes, enterprise=enterprise)
        except LookupError:
            # A reader the demo does not have (e.g. customs without pii:read): register one.
            assert scopes is not None
            extra = await self.register(name=f"test {scopes}", scopes=scopes)
            client = DemoClient(f"test {scopes}", scopes, extra.client_id, extra.client_secret)
            self.summary.clients.append(client)
        if client.client_id not in self.tokens:
            response = await self.http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, client.client_secret),
            )
            assert response.status_code == 200, response.text
            self.tokens[client.client_id] = response.json()["access_token"]
        return self.tokens[client.client_id]


@pytest.fixture
async def demo(
    app: Starlette,
    http: httpx.AsyncClient,
    register_client: Callable[..., Awaitable[RegisteredClient]],
) -> Demo:
    summary = await load_demo(runtime=app.state.runtime, orders=DEMO_ORDERS, seed=11)
    assert summary.rejected == 0
    return Demo(summary=summary, http=http, tokens={}, register=register_client)


@pytest.fixture
def statements(app: Starlette) -> Callable[[], Any]:
    """Counts SQL statements the app runs inside a `with` block."""

    @contextmanager
    def count() -> Iterator[list[str]]:
        seen: list[str] = []

        def listener(*args: Any) -> None:
            seen.append(str(args[2]))

        engine = app.state.runtime.engine.sync_engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", listener)

    return count


Gql = Callable[..., Awaitable[dict[str, Any]]]
