"""Department reads are served by a real streaming replica; the rest stays on the primary.

The test starts a PostgreSQL primary and a hot standby made from it with `pg_basebackup`
(tests/replicas/clusters.py). To show which server answered, it pauses WAL replay on
the replica: a new order then exists on the primary only. Customs (a department) does not
see it yet, the declarant sees it at once (read-your-own-writes), a supervisor sees the
access events written meanwhile, /healthz reports the lag, and once replay resumes
customs sees the order too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

from hub import migrate
from hub.config import Settings
from hub.db import unit_of_work
from hub.standards.shipped import publish_shipped
from tests.conftest import blocking
from tests.replicas.clusters import Pair, postgres_bin, primary_and_replica
from tests.standards.samples import PLATFORM, sample
from tests.support import TEST_ISSUER, jwt_claims

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ORDERS = "{ orders(first: 10) { edges { node { orderNo } } } }"
DECLARE = """mutation($input: DeclareInput!) {
  declare(input: $input) { declaration { id } errors { code } } }"""
ACCESS_LOG = (
    """{ accessLog(filter: {}, first: 50) { edges { node { clientId operationType } } } }"""
)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """A primary and its streaming replica, with the hub's schema migrated on the primary."""
    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("the replica test needs the PostgreSQL server binaries in CI")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found")
    with primary_and_replica() as servers:
        blocking(
            asyncio.run,
            _admin(servers.url(servers.primary_port, "postgres"), "CREATE DATABASE hub"),
        )
        blocking(migrate.upgrade, database_url=servers.url(servers.primary_port, "hub"))
        yield servers


async def _admin(url: str, sql: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture
def settings(pair: Pair) -> Settings:
    """The hub on the primary, department and bank reads on the replica."""
    return Settings(
        database_url=pair.url(pair.primary_port, "hub"),
        database_replica_urls=(pair.url(pair.replica_port, "hub"),),
        issuer=TEST_ISSUER,
        env="test",
        rate_limit_per_second=0.0,
        log_sequencer=False,
    )


def _order(number: str) -> dict[str, Any]:
    payload = dict(sample("cbec.order", "import-9610"))
    payload["orderNo"] = number
    return payload


async def _order_numbers(gql: Callable[..., Awaitable[dict[str, Any]]], token: str) -> set[str]:
    body = await gql(ORDERS, token=token)
    assert "errors" not in body, body
    return {edge["node"]["orderNo"] for edge in body["data"]["orders"]["edges"]}


async def _replica(http: httpx.AsyncClient) -> dict[str, Any]:
    body = (await http.get("/healthz")).json()
    (replica,) = body["replicas"]
    return dict(replica)


async def _caught_up(http: httpx.AsyncClient) -> dict[str, Any]:
    for _ in range(100):
        replica = await _replica(http)
        if replica["status"] == "ok" and replica["lagBytes"] == 0:
            return replica
        await asyncio.sleep(0.1)
    raise AssertionError(f"the replica did not catch up: {replica}")


async def test_department_reads_come_from_the_replica_declarants_and_audit_from_the_primary(
    pair: Pair,
    app: Starlette,
    http: httpx.AsyncClient,
    gql: Callable[..., Awaitable[dict[str, Any]]],
    get_token: Callable[..., Awaitable[str]],
) -> None:
    platform = await get_token(scopes="declare", enterprise=PLATFORM)
    customs = await get_token(scopes="customs:read")
    supervisor = await get_token(scopes="audit:read")
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    first = await gql(
        DECLARE,
        token=platform,
        variables={"input": {"standard": "cbec.order", "payload": _order("REPLICA0001")}},
    )
    assert first["data"]["declare"]["errors"] == [], first
    await _caught_up(http)
    assert await _order_numbers(gql, customs) == {"REPLICA0001"}

    replica_url = pair.url(pair.replica_port, "hub")
    await _admin(replica_url, "SELECT pg_wal_replay_pause()")
    try:
        second = await gql(
            DECLARE,
            token=platform,
            variables={"input": {"standard": "cbec.order", "payload": _order("REPLICA0002")}},
        )
        assert second["data"]["declare"]["errors"] == [], second
        # Customs reads the replica, where replay is paused: the new order is not there yet.
        assert await _order_numbers(gql, customs) == {"REPLICA0001"}
        # The declarant reads its own write at once: the primary.
        assert await _order_numbers(gql, platform) == {"REPLICA0001", "REPLICA0002"}
        # The access log is written and read on the primary: the supervisor sees the
        # customs reads made while the replica stood still.
        log = await gql(ACCESS_LOG, token=supervisor)
        operations = [e["node"] for e in log["data"]["accessLog"]["edges"]]
        customs_id = jwt_claims(customs)["client_id"]
        # Both customs reads, the one made during the pause included.
        assert [o["clientId"] for o in operations].count(customs_id) == 2, operations
        await asyncio.sleep(0.3)
        lagging = await _replica(http)
        assert lagging["status"] == "ok"
        assert lagging["lagBytes"] > 0 and lagging["lagSeconds"] > 0, lagging
    finally:
        await _admin(replica_url, "SELECT pg_wal_replay_resume()")

    caught_up = await _caught_up(http)
    assert caught_up["lagSeconds"] == 0
    assert await _order_numbers(gql, customs) == {"REPLICA0001", "REPLICA0002"}


GRANT = """mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id } errors { code } } }"""
REVOKE = """mutation($id: ID!) { revokeConsent(id: $id) { consent { status } errors { code } } }"""


async def test_a_revoked_consent_binds_at_once_whatever_the_replica_lag(
    pair: Pair,
    app: Starlette,
    http: httpx.AsyncClient,
    gql: Callable[..., Awaitable[dict[str, Any]]],
    get_token: Callable[..., Awaitable[str]],
) -> None:
    platform = await get_token(scopes="declare", enterprise=PLATFORM)
    bank = await get_token(scopes="finance:read", name="Bank of the Zone")
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    declared = await gql(
        DECLARE,
        token=platform,
        variables={"input": {"standard": "cbec.order", "payload": _order("CONSENT0001")}},
    )
    assert declared["data"]["declare"]["errors"] == [], declared
    grant = {
        "bank": jwt_claims(bank)["client_id"],
        "categories": ["REGISTRATION", "ORDER"],
        "purpose": "working-capital loan assessment",
        "dataFrom": "2020-01-01",
        "dataTo": "2030-12-31",
        "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    granted = await gql(GRANT, token=platform, variables={"input": grant})
    assert granted["data"]["grantConsent"]["errors"] == [], granted
    await _caught_up(http)
    assert "CONSENT0001" in await _order_numbers(gql, bank)  # served by the replica

    replica_url = pair.url(pair.replica_port, "hub")
    await _admin(replica_url, "SELECT pg_wal_replay_pause()")
    try:
        consent_id = granted["data"]["grantConsent"]["consent"]["id"]
        revoked = await gql(REVOKE, token=platform, variables={"id": consent_id})
        assert revoked["data"]["revokeConsent"]["errors"] == [], revoked
        # The replica still holds the consent as active; the bank's permissions are read
        # on the primary, so the revocation holds at once.
        assert "CONSENT0001" not in await _order_numbers(gql, bank)
    finally:
        await _admin(replica_url, "SELECT pg_wal_replay_resume()")


def test_replicas_need_a_postgresql_primary() -> None:
    from hub.config import SettingsError

    with pytest.raises(SettingsError, match="HUB_DATABASE_REPLICA_URLS"):
        Settings.from_env(
            {
                "HUB_DATABASE_URL": "sqlite+aiosqlite:///./hub.db",
                "HUB_DATABASE_REPLICA_URLS": "postgresql://postgres@127.0.0.1:5433/hub",
            }
        )
    parsed = Settings.from_env(
        {
            "HUB_DATABASE_URL": "postgresql://postgres@127.0.0.1/hub",
            "HUB_DATABASE_REPLICA_URLS": " postgresql://r1/hub, postgresql+asyncpg://r2/hub ",
        }
    )
    assert parsed.database_replica_urls == (
        "postgresql+asyncpg://r1/hub",
        "postgresql+asyncpg://r2/hub",
    )
