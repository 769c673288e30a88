"""GET /metrics: Prometheus text format, counters that move, guarded by address."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool, StaticPool
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings, SettingsError
from hub.db import unit_of_work
from hub.observability.metrics import HubMetrics, metrics, pool_gauges
from hub.observability.routes import address_allowed
from hub.standards.shipped import publish_shipped
from tests.observability.exposition import Exposition, parse
from tests.standards.samples import PLATFORM, sample
from tests.support import TEST_ISSUER

Token = Callable[..., Awaitable[str]]


async def _scrape(http: httpx.AsyncClient) -> Exposition:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


async def test_every_line_of_the_exposition_parses_and_every_family_is_typed(
    http: httpx.AsyncClient,
) -> None:
    await http.get("/healthz")
    exposition = await _scrape(http)
    assert exposition.types == {
        "hub_http_requests_total": "counter",
        "hub_http_request_duration_seconds": "histogram",
        "hub_graphql_operations_total": "counter",
        "hub_declarations_total": "counter",
        "hub_rate_limited_total": "counter",
        "hub_process_id": "gauge",
        "hub_process_resident_memory_bytes": "gauge",
        "hub_db_pool_connections": "gauge",
    }
    for name, _labels in exposition.samples:
        family = name.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
        assert name in exposition.types or family in exposition.types, name


async def test_request_counter_and_duration_histogram_grow_with_requests(
    http: httpx.AsyncClient,
) -> None:
    before = await _scrape(http)
    for _ in range(3):
        assert (await http.get("/healthz")).status_code == 200
    after = await _scrape(http)
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    assert after.value("hub_http_requests_total", **labels) == (
        before.value("hub_http_requests_total", **labels) + 3
    )
    count = "hub_http_request_duration_seconds_count"
    assert after.value(count, route="/healthz") == before.value(count, route="/healthz") + 3
    buckets = after.series("hub_http_request_duration_seconds_bucket")
    healthz = sorted(
        (float(dict(k)["le"].replace("+Inf", "inf")), v)
        for k, v in buckets.items()
        if dict(k)["route"] == "/healthz"
    )
    assert [v for _, v in healthz] == sorted(v for _, v in healthz)  # cumulative
    assert healthz[-1] == (float("inf"), after.value(count, route="/healthz"))


async def test_graphql_operations_are_counted_by_type_and_name(
    http: httpx.AsyncClient, get_token: Token
) -> None:
    token = await get_token(scopes="customs:read")
    headers = {"Authorization": f"Bearer {token}"}
    before = await _scrape(http)
    await http.post("/graphql", json={"query": "query Who { me { name } }"}, headers=headers)
    await http.post("/graphql", json={"query": "{ me { name } }"}, headers=headers)
    after = await _scrape(http)
    ops = "hub_graphql_operations_total"
    assert after.value(ops, type="query", name="Who") == (
        before.value(ops, type="query", name="Who") + 1
    )
    assert after.value(ops, type="query", name="other") == (
        before.value(ops, type="query", name="other") + 1
    )


def test_operation_names_beyond_the_cap_are_counted_as_other() -> None:
    registry = HubMetrics(max_operation_names=2)
    for name in ("A", "B", "C", "A"):
        registry.count_operation(operation_type="query", name=name)
    registry.count_operation(operation_type="teleport", name=None)
    ops = "hub_graphql_operations_total"
    assert registry.sample(ops, type="query", name="A") == 2
    assert registry.sample(ops, type="query", name="B") == 1
    assert registry.sample(ops, type="query", name="C") == 0
    assert registry.sample(ops, type="query", name="other") == 1
    assert registry.sample(ops, type="other", name="other") == 1


async def test_declarations_are_counted_as_accepted_duplicate_or_rejected(
    app: Starlette, http: httpx.AsyncClient, get_token: Token
) -> None:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    token = await get_token(scopes="declare", enterprise=PLATFORM)
    order = sample("cbec.order", "import-9610")
    inputs = [
        {"standard": "cbec.order", "payload": order},
        {"standard": "cbec.order", "payload": {"not": "an order"}},
    ]
    mutation = """mutation($inputs: [DeclareInput!]!) {
      declareBatch(inputs: $inputs) { accepted rejected } }"""
    before = await _scrape(http)
    for _ in range(2):  # the second time, the order is a duplicate
        response = await http.post(
            "/graphql",
            json={"query": mutation, "variables": {"inputs": inputs}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json()["data"]["declareBatch"] == {"accepted": 1, "rejected": 1}
    after = await _scrape(http)

    def delta(result: str) -> float:
        return after.value("hub_declarations_total", result=result) - before.value(
            "hub_declarations_total", result=result
        )

    assert (delta("accepted"), delta("duplicate"), delta("rejected")) == (1, 1, 2)


async def test_pool_gauges_read_the_engines_queue_pool(http: httpx.AsyncClient) -> None:
    exposition = await _scrape(http)
    pool = exposition.series("hub_db_pool_connections")
    assert {dict(k)["state"] for k in pool} == {"checked_out", "size", "overflow"}
    assert exposition.value("hub_db_pool_connections", state="size") >= 1
    assert exposition.value("hub_db_pool_connections", state="overflow") >= 0


@pytest.mark.parametrize("poolclass", [NullPool, StaticPool])
async def test_pools_without_size_export_no_invented_numbers(poolclass: Any) -> None:
    engine = create_async_engine("sqlite+aiosqlite:///:memory:", poolclass=poolclass)
    try:
        family = pool_gauges(engine.sync_engine)
    finally:
        await engine.dispose()
    assert family.samples == []


async def test_process_id_and_resident_memory_are_exported(http: httpx.AsyncClient) -> None:
    exposition = await _scrape(http)
    assert exposition.value("hub_process_id") == os.getpid()
    assert exposition.value("hub_process_resident_memory_bytes") > 1_000_000


async def test_rate_limited_counter_is_exported_from_zero_and_counts(
    http: httpx.AsyncClient,
) -> None:
    before = (await _scrape(http)).value("hub_rate_limited_total")
    assert ("hub_rate_limited_total", ()) in (await _scrape(http)).samples
    metrics.rate_limited.inc()
    assert (await _scrape(http)).value("hub_rate_limited_total") == before + 1


@pytest.fixture
async def http_from(settings: Settings) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """HTTP clients whose requests come from a given address, on an app with `settings`."""
    clients: list[httpx.AsyncClient] = []
    apps: list[Any] = []

    def make(address: str, *, allow: str | None = None) -> httpx.AsyncClient:
        app_settings = settings
        if allow is not None:
            app_settings = dataclasses.replace(
                settings,
                metrics_allow=Settings.from_env({"HUB_METRICS_ALLOW": allow}).metrics_allow,
            )
        app = create_app(app_settings)
        apps.append(app)
        transport = httpx.ASGITransport(app=app, client=(address, 1234))
        client = httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
    for app in apps:
        await app.state.runtime.stop()


async def test_metrics_are_refused_with_403_to_a_non_loopback_address(
    http_from: Callable[..., httpx.AsyncClient],
) -> None:
    response = await http_from("10.1.2.3").get("/metrics")
    assert response.status_code == 403
    assert "hub_" not in response.text


async def test_metrics_are_served_to_an_address_in_hub_metrics_allow(
    http_from: Callable[..., httpx.AsyncClient],
) -> None:
    allowed = http_from("10.1.2.3", allow="10.0.0.0/8")
    assert (await allowed.get("/metrics")).status_code == 200
    refused = http_from("127.0.0.1", allow="10.0.0.0/8")
    assert (await refused.get("/metrics")).status_code == 403


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return Settings.from_env({"HUB_METRICS_ALLOW": raw}).metrics_allow


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1", False),
        ("localhost", False),
        ("", False),
        (None, False),
    ],
)
def test_default_allow_list_is_loopback_only(host: str | None, allowed: bool) -> None:
    assert address_allowed(host, Settings.from_env({}).metrics_allow) is allowed
    assert address_allowed(host, Settings().metrics_allow) is allowed


def test_allow_list_reads_comma_separated_cidrs_and_refuses_garbage() -> None:
    assert [str(n) for n in _networks(" 10.0.0.0/8, 2001:db8::/32 ,192.0.2.7")] == [
        "10.0.0.0/8",
        "2001:db8::/32",
        "192.0.2.7/32",
    ]
    assert _networks("") == ()
    with pytest.raises(SettingsError, match="HUB_METRICS_ALLOW"):
        _networks("10.0.0.0/8,intranet")
