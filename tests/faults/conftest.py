"""A hub with one declared order and a customs reader, for the fault and group-commit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from tests.builders.parties import publish_shipped_standards
from tests.standards.samples import PLATFORM, sample
from tests.support import TEST_ISSUER

DECLARE = """mutation($input: DeclareInput!) {
  declare(input: $input) { declaration { id } errors { code } } }"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A test hub without the log's sequencer (its connections are no request's)."""
    return Settings(
        database_url=database_url,
        issuer=TEST_ISSUER,
        env="test",
        rate_limit_per_second=0.0,
        log_sequencer=False,
        events_sequencer=False,  # background workers: no request's
        webhook_dispatcher=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The hub with its lifespan running."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@dataclass(frozen=True)
class Seeded:
    """The shipped standards, one declared order, and a customs token that reads it."""

    customs: str
    platform: str


@pytest.fixture
async def seeded(
    app: Starlette,
    gql: Callable[..., Awaitable[dict[str, Any]]],
    get_token: Callable[..., Awaitable[str]],
) -> Seeded:
    """Declares one order through GraphQL, as its platform."""
    platform = await get_token(scopes="declare", enterprise=PLATFORM)
    customs = await get_token(scopes="customs:read")
    await publish_shipped_standards(app)
    body = await gql(
        DECLARE,
        token=platform,
        variables={
            "input": {"standard": "cbec.order", "payload": sample("cbec.order", "import-9610")}
        },
    )
    assert body["data"]["declare"]["errors"] == [], body
    return Seeded(customs=customs, platform=platform)
