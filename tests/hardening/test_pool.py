"""No request holds two pooled connections, so the pool cannot deadlock under load.

The access event of a read used to be written on a second pooled connection while the
request still held its read connection: with as many requests in flight as the pool had
connections, every request waited for a connection nobody would release, for the whole
pool timeout, and answered "access event not recorded ... result withheld".
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from starlette.applications import Starlette

from hub.access.models import AccessEvent
from hub.app import create_app
from hub.config import Settings
from hub.db import unit_of_work
from hub.standards.shipped import publish_shipped
from tests.standards.samples import PLATFORM, sample
from tests.support import TEST_ISSUER

POOL = 2  # pool_size; the same again may overflow: 4 connections in all
ORDERS = "{ orders(first: 5) { edges { node { orderNo goodsValue } } } }"
DECLARE = """mutation($input: DeclareInput!) {
  declare(input: $input) { declaration { id } errors { code } } }"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A small pool that fails fast: a deadlock shows as a 5 s timeout, not a 30 s one."""
    return Settings(
        database_url=database_url,
        issuer=TEST_ISSUER,
        env="test",
        db_pool_size=POOL,
        db_pool_timeout=5.0,
        rate_limit_per_second=0.0,
        # The log's sequencer takes a connection of its own every few hundred ms; it is no
        # request's, and would make the peak counts below flaky.
        log_sequencer=False,
        events_sequencer=False,
        webhook_dispatcher=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The hub with its lifespan running, on the small pool."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@dataclasses.dataclass
class PeakCounter:
    """Connections checked out of the pool now, and the most at any one time."""

    out: int = 0
    peak: int = 0

    def checkout(self, *_: Any) -> None:
        self.out += 1
        self.peak = max(self.peak, self.out)

    def checkin(self, *_: Any) -> None:
        self.out -= 1


@pytest.fixture
def pool_counter(app: Starlette) -> PeakCounter:
    """Counts checkouts of the app's engine pool."""
    counter = PeakCounter()
    pool = app.state.runtime.engine.sync_engine.pool
    event.listen(pool, "checkout", counter.checkout)
    event.listen(pool, "checkin", counter.checkin)
    return counter


async def _seed(app: Starlette, gql: Callable[..., Awaitable[dict[str, Any]]], token: str) -> None:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    body = await gql(
        DECLARE,
        token=token,
        variables={
            "input": {"standard": "cbec.order", "payload": sample("cbec.order", "import-9610")}
        },
    )
    assert body["data"]["declare"]["errors"] == [], body


async def _events(app: Starlette) -> int:
    async with app.state.runtime.session_factory() as session:
        return int(
            (await session.execute(select(func.count()).select_from(AccessEvent))).scalar_one()
        )


async def test_a_read_and_a_write_each_hold_one_connection_at_a_time(
    app: Starlette,
    gql: Callable[..., Awaitable[dict[str, Any]]],
    get_token: Callable[..., Awaitable[str]],
    pool_counter: PeakCounter,
) -> None:
    platform = await get_token(scopes="declare", enterprise=PLATFORM)
    customs = await get_token(scopes="customs:read")
    pool_counter.peak = 0
    await _seed(app, gql, platform)
    assert pool_counter.peak == 1
    before = await _events(app)
    pool_counter.peak = 0
    body = await gql(ORDERS, token=customs)
    assert "errors" not in body and len(body["data"]["orders"]["edges"]) == 1, body
    # The read and its access event, one after the other on one connection at most.
    assert pool_counter.peak == 1
    assert await _events(app) == before + 1
    assert pool_counter.out == 0


async def test_four_times_the_pool_of_concurrent_reads_finish_without_a_timeout(
    app: Starlette,
    http: httpx.AsyncClient,
    gql: Callable[..., Awaitable[dict[str, Any]]],
    get_token: Callable[..., Awaitable[str]],
    pool_counter: PeakCounter,
) -> None:
    platform = await get_token(scopes="declare", enterprise=PLATFORM)
    customs = await get_token(scopes="customs:read")
    await _seed(app, gql, platform)
    before = await _events(app)
    connections = 2 * POOL  # pool_size + max_overflow

    async def read() -> httpx.Response:
        return await http.post(
            "/graphql", json={"query": ORDERS}, headers={"Authorization": f"Bearer {customs}"}
        )

    responses = await asyncio.wait_for(
        asyncio.gather(*(read() for _ in range(4 * connections))), timeout=60
    )
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body  # nothing withheld, no pool timeout
        assert body["data"]["orders"]["edges"][0]["node"]["orderNo"]
    assert pool_counter.peak <= connections
    assert await _events(app) == before + 4 * connections  # every read logged
