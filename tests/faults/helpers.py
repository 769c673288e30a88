"""Helpers of the fault tests: counting access events, reading orders as a client does."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.access.models import AccessEvent

ORDERS = "{ orders(first: 5) { edges { node { orderNo goodsValue ebpCode } } } }"


async def count_events(session_factory: async_sessionmaker[AsyncSession]) -> int:
    """How many access events are stored."""
    async with session_factory() as session:
        return int(
            (await session.execute(select(func.count()).select_from(AccessEvent))).scalar_one()
        )


async def read_orders(
    http: httpx.AsyncClient, token: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """The customs order list, as a client posts it."""
    return await http.post(
        "/graphql",
        json={"query": ORDERS},
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
    )
