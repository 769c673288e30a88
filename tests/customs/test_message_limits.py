"""HUB_MAX_MESSAGE_BYTES: a message over the limit is refused 413 MESSAGE_TOO_LARGE while it
is read, with or without a Content-Length, and declares nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from hub.config import Settings
from hub.declarations.models import Declaration
from tests.builders.parties import Actors, hub_actors
from tests.customs.test_xml_intake import named, post, sample
from tests.support import TEST_ISSUER

__all__ = ["hub_actors"]

LIMIT = 8192  # the 622 sample (4.9 KB) fits, the 311 sample (17.6 KB) does not


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A hub whose message limit is well below its request body limit."""
    return Settings(
        database_url=database_url, issuer=TEST_ISSUER, env="test", max_message_bytes=LIMIT
    )


async def _declared(actors: Actors) -> int:
    async with actors.app.state.runtime.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Declaration)) or 0)


async def test_a_message_over_the_limit_is_refused_and_declares_nothing(
    hub_actors: Actors,
) -> None:
    body = sample("CEB311")
    assert len(body) > LIMIT
    token = await hub_actors.enterprise(named(body, "ebpCode"))
    response = await post(hub_actors, body, token=token)
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["code"] == "MESSAGE_TOO_LARGE" and str(LIMIT) in error["message"]
    assert await _declared(hub_actors) == 0


async def test_a_chunked_message_without_a_length_is_cut_off_at_the_limit(
    hub_actors: Actors,
) -> None:
    body = sample("CEB311")

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    token = await hub_actors.enterprise(named(body, "ebpCode"))
    response = await hub_actors.http.post(
        "/messages",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "MESSAGE_TOO_LARGE"
    assert await _declared(hub_actors) == 0


async def test_a_message_within_the_limit_is_taken(hub_actors: Actors) -> None:
    body = sample("CEB622")
    assert len(body) <= LIMIT
    token = await hub_actors.enterprise(named(body, "agentCode"))
    response = await post(hub_actors, body, token=token)
    assert response.status_code == 200, response.text
    assert all(r["accepted"] for r in response.json()["results"])
