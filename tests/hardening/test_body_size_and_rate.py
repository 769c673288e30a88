"""Bodies over the limit get 413 while being read; a client over its rate gets 429."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from limits.aio.storage import MemoryStorage

from hub.http.rate_limit import RateLimiter, retry_after_header, window
from hub.observability.metrics import metrics
from tests.hardening.conftest import HubClient

Token = Callable[..., Awaitable[str]]
LIMIT = 4096


def padded_query(size: int) -> bytes:
    # A valid request whose length is set by a comment inside the query.
    head, tail = b'{"query": "{ __typename } #', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


async def test_a_body_over_the_limit_is_413_with_a_json_error(
    hub_client: HubClient, get_token: Token
) -> None:
    token = await get_token(scopes="customs:read")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with hub_client(max_body_bytes=LIMIT) as client:
        at_limit = await client.post("/graphql", content=padded_query(LIMIT), headers=headers)
        over = await client.post("/graphql", content=padded_query(LIMIT + 1), headers=headers)
    assert at_limit.status_code == 200, at_limit.text
    assert over.status_code == 413
    assert over.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_chunked_body_without_length_is_cut_off_while_streaming(
    hub_client: HubClient, get_token: Token
) -> None:
    token = await get_token(scopes="customs:read")
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(64):
            sent += 1
            yield b" " * 1024

    async with hub_client(max_body_bytes=LIMIT) as client:
        response = await client.post(
            "/graphql",
            content=chunks(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_the_token_endpoint_refuses_large_bodies_in_oauth_form(
    hub_client: HubClient,
) -> None:
    async with hub_client(max_body_bytes=LIMIT) as client:
        response = await client.post(
            "/oauth/token",
            content=b"grant_type=client_credentials&x=" + b"a" * LIMIT,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_do_not(
    hub_client: HubClient, get_token: Token
) -> None:
    greedy = await get_token(scopes="customs:read", name="greedy")
    other = await get_token(scopes="customs:read", name="other")
    query = {"query": "{ me { clientId } }"}
    refused_before = metrics.sample("hub_rate_limited_total")
    async with hub_client(rate_limit_per_second=0.2, rate_limit_burst=2) as client:
        statuses = [
            (
                await client.post(
                    "/graphql", json=query, headers={"Authorization": f"Bearer {greedy}"}
                )
            )
            for _ in range(3)
        ]
        bystander = await client.post(
            "/graphql", json=query, headers={"Authorization": f"Bearer {other}"}
        )
    assert [r.status_code for r in statuses] == [200, 200, 429]
    refused = statuses[2]
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # Two requests per 10 s window: the first one leaves the window within 10 s.
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert bystander.status_code == 200
    assert metrics.sample("hub_rate_limited_total") == refused_before + 1


async def test_a_rate_of_zero_disables_the_limit(hub_client: HubClient, get_token: Token) -> None:
    token = await get_token(scopes="customs:read")
    async with hub_client(rate_limit_per_second=0, rate_limit_burst=1) as client:
        responses = [
            await client.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            for _ in range(5)
        ]
    assert {r.status_code for r in responses} == {200}


async def test_the_limiter_admits_the_burst_then_refuses_until_the_window_moves() -> None:
    limiter = RateLimiter(storage=MemoryStorage(), rate=2.0, burst=3, namespace="test")
    assert limiter.item.amount == 3 and limiter.item.get_expiry() == 2  # 3 per 2 s
    assert [await limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = await limiter.acquire("a")
    assert 0 < wait <= 2
    assert await limiter.acquire("b") == 0.0  # windows are per key


@pytest.mark.parametrize(
    ("rate", "burst", "amount", "seconds"),
    [(50.0, 100, 100, 2), (0.2, 2, 2, 10), (10 / 3600, 1, 1, 360), (1000.0, 1, 1, 1)],
)
def test_rate_and_burst_map_onto_a_moving_window(
    rate: float, burst: int, amount: int, seconds: int
) -> None:
    item = window(rate=rate, burst=burst)
    assert (item.amount, item.get_expiry()) == (amount, seconds)


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"
