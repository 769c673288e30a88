"""Rate limits in Redis: one limit for every hub sharing it; an outage limits nobody."""

from __future__ import annotations

import logging
import uuid

import pytest

from hub.http.rate_limit import RateLimiter, create_storage

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_two_limiters_on_one_redis_share_the_same_limit() -> None:
    # Two limiters with their own storage objects stand for two hub processes.
    first, second = (
        RateLimiter(storage=create_storage(REDIS_URL), rate=1 / 60, burst=4, namespace="test")
        for _ in range(2)
    )
    key = uuid.uuid4().hex
    waits = [await limiter.acquire("issuer", key) for limiter in (first, second) * 3]
    assert waits[:4] == [0.0] * 4
    assert all(wait > 0 for wait in waits[4:])
    assert await first.acquire("issuer", uuid.uuid4().hex) == 0.0  # another client


async def test_without_redis_each_process_counts_alone() -> None:
    first, second = (
        RateLimiter(storage=create_storage(None), rate=1 / 60, burst=2, namespace="test")
        for _ in range(2)
    )
    assert [await first.acquire("k") for _ in range(3)][-1] > 0
    assert await second.acquire("k") == 0.0


async def test_an_unreachable_redis_lets_requests_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiter(
        storage=create_storage("redis://127.0.0.1:1/0"), rate=1.0, burst=1, namespace="test"
    )
    with caplog.at_level(logging.WARNING, logger="hub.rate_limit"):
        assert [await limiter.acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    warnings = [r for r in caplog.records if r.name == "hub.rate_limit"]
    assert len(warnings) == 1  # logged once, not per request
    assert "unreachable" in warnings[0].getMessage()
