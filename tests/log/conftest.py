"""Fixtures for the log's tests: declaring through GraphQL and waiting for the sequencer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.config import Settings
from tests.builders.parties import publish_shipped_standards
from tests.support import TEST_ISSUER

Gql = Callable[..., Awaitable[dict[str, Any]]]

DECLARE = """
mutation($input: DeclareInput!) {
  declare(input: $input) {
    declaration { id chainIndex contentHash }
    errors { code message }
  }
}"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A test hub whose sequencer runs, as in `hub serve`."""
    return Settings(database_url=database_url, issuer=TEST_ISSUER, env="test")


@pytest.fixture
async def shipped(app: Starlette) -> None:
    """The shipped standards, published."""
    await publish_shipped_standards(app)


@pytest.fixture
def token_for(get_token: Callable[..., Awaitable[str]]) -> Callable[[str], Awaitable[str]]:
    """A `declare` token of a client bound to an enterprise (one per code)."""
    cache: dict[str, str] = {}

    async def token(code: str) -> str:
        if code not in cache:
            cache[code] = await get_token(scopes="declare", enterprise=code, name=f"ERP {code}")
        return cache[code]

    return token


@pytest.fixture
def declare(
    gql: Gql, token_for: Callable[[str], Awaitable[str]], shipped: None
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Declares one record and returns the stored declaration."""

    async def run(standard: str, payload: Any, *, as_: str) -> dict[str, Any]:
        body = await gql(
            DECLARE,
            token=await token_for(as_),
            variables={"input": {"standard": standard, "payload": payload}},
        )
        assert "errors" not in body, body
        result = body["data"]["declare"]
        assert result["errors"] == [], result
        declaration: dict[str, Any] = result["declaration"]
        return declaration

    return run


@pytest.fixture
def wait_for_size(http: httpx.AsyncClient) -> Callable[[int], Awaitable[str]]:
    """Polls GET /log/checkpoint until the tree has at least `size` leaves."""

    async def wait(size: int) -> str:
        for _ in range(100):
            response = await http.get("/log/checkpoint")
            if response.status_code == 200 and int(response.text.split("\n")[1]) >= size:
                return response.text
            await asyncio.sleep(0.05)
        raise AssertionError(f"the log did not reach size {size}")

    return wait
