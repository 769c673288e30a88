"""Caching headers: raw schemas revalidate with 304; GraphQL GET answers are private."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.http.caching import none_match
from hub.standards.shipped import publish_shipped

Token = Callable[..., Awaitable[str]]


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abd"', False),
        ("", False),
        (None, False),
    ],
)
def test_if_none_match_uses_the_weak_comparison(header: str | None, matches: bool) -> None:
    assert none_match(header, '"abc"') is matches


async def test_a_raw_schema_answers_304_to_its_own_etag(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    first = await http.get("/standards/cbec.order/1.0.0")
    assert first.status_code == 200
    etag = first.headers["etag"]
    again = await http.get("/standards/cbec.order/1.0.0", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    weak = await http.get("/standards/cbec.order/1.0.0", headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    other = await http.get("/standards/cbec.payment/1.0.0", headers={"If-None-Match": etag})
    assert other.status_code == 200  # another schema's tag does not match


async def test_graphql_get_answers_are_private_and_revalidate_with_304(
    http: httpx.AsyncClient, get_token: Token
) -> None:
    token = await get_token(scopes="customs:read", name="Customs")
    headers = {"Authorization": f"Bearer {token}"}
    params = {"query": "{ me { name scopes } }"}
    first = await http.get("/graphql", params=params, headers=headers)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in first.headers["vary"]
    etag = first.headers["etag"]
    again = await http.get("/graphql", params=params, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == "private, no-cache"
    # Another caller's answer differs, so the tag does not fit it.
    other = await get_token(scopes="tax:read", name="Tax")
    theirs = await http.get(
        "/graphql",
        params=params,
        headers={"Authorization": f"Bearer {other}", "If-None-Match": etag},
    )
    assert theirs.status_code == 200
    assert theirs.json()["data"]["me"]["name"] == "Tax"


async def test_graphql_post_answers_carry_no_validator(
    http: httpx.AsyncClient, get_token: Token
) -> None:
    token = await get_token(scopes="customs:read")
    response = await http.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert "etag" not in response.headers
