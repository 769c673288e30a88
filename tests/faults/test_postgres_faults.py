"""Lost, terminated, stalled and refused PostgreSQL connections: 503 with Retry-After, then back.

The hub reaches its database through a TCP proxy written here (tests/faults/proxy.py) that
stalls (black-holes), cuts or refuses connections; `pg_terminate_backend` kills the
hub's backends the way an administrator, a failover or a pooler restart does. Whatever
happens, an answer is either a normal 200 or a 503 with `Retry-After` and
SERVICE_UNAVAILABLE: never a 200 carrying INTERNAL, never a 500, never later than the
request deadline, and the first request after the fault is served normally.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

from hub import migrate
from hub.config import Settings
from tests.conftest import blocking
from tests.faults.conftest import Seeded
from tests.faults.helpers import read_orders
from tests.faults.proxy import FaultProxy
from tests.standards.samples import sample
from tests.support import TEST_ISSUER

pytestmark = pytest.mark.postgres

DEADLINE = 2.0  # HUB_REQUEST_TIMEOUT of the hub under test
SLACK = 1.5  # scheduling on 2 shared cores
DECLARE = """mutation($input: DeclareInput!) {
  declare(input: $input) { declaration { id } duplicate errors { code } } }"""


@dataclass(frozen=True)
class Database:
    """The test database, directly and through the proxy."""

    direct: str
    proxy: FaultProxy


@pytest.fixture
async def database(fresh_postgres_database: Callable[[], str]) -> AsyncIterator[Database]:
    """A migrated database of its own, and a proxy in front of it."""
    direct = fresh_postgres_database()
    blocking(migrate.upgrade, database_url=direct)
    url = make_url(direct)
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield Database(direct, proxy)
    finally:
        await proxy.close()


@pytest.fixture
def settings(database: Database) -> Settings:
    """The hub through the proxy, with a short deadline and a small pool."""
    through = make_url(database.direct).set(host="127.0.0.1", port=database.proxy.port)
    return Settings(
        database_url=through.render_as_string(hide_password=False),
        issuer=TEST_ISSUER,
        env="test",
        rate_limit_per_second=0.0,
        log_sequencer=False,
        events_sequencer=False,  # background workers: no request's
        webhook_dispatcher=False,
        request_timeout=DEADLINE,
        db_pool_size=4,
    )


async def _admin(url: str, sql: str) -> list[Any]:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            return list(await connection.execute(text(sql)))
    finally:
        await engine.dispose()


async def _terminate_hub_backends(direct: str) -> int:
    rows = await _admin(
        direct,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    return sum(1 for (terminated,) in rows if terminated)


def _order(number: int) -> dict[str, Any]:
    payload = dict(sample("cbec.order", "import-9610"))
    payload["orderNo"] = f"FAULT{number:08d}"
    return payload


@dataclass
class Answer:
    """One response of the load, with how long it took."""

    kind: str
    response: httpx.Response
    seconds: float
    order: int | None = None


async def _declare(http: httpx.AsyncClient, token: str, number: int) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={
            "query": DECLARE,
            "variables": {"input": {"standard": "cbec.order", "payload": _order(number)}},
        },
        headers={"Authorization": f"Bearer {token}"},
    )


async def _load(
    http: httpx.AsyncClient, seeded: Seeded, stop: asyncio.Event, *, readers: int, writers: int
) -> list[Answer]:
    answers: list[Answer] = []
    numbers = iter(range(1_000_000))

    async def reader() -> None:
        while not stop.is_set():
            started = time.monotonic()
            response = await read_orders(http, seeded.customs)
            answers.append(Answer("read", response, time.monotonic() - started))

    async def writer() -> None:
        while not stop.is_set():
            number = next(numbers)
            started = time.monotonic()
            response = await _declare(http, seeded.platform, number)
            answers.append(Answer("write", response, time.monotonic() - started, number))

    await asyncio.gather(*(reader() for _ in range(readers)), *(writer() for _ in range(writers)))
    return answers


def _assert_answered_right(answer: Answer) -> bool:
    """A normal 200, or a 503 with Retry-After and SERVICE_UNAVAILABLE. True for a 503."""
    response = answer.response
    assert response.status_code in (200, 503), response.text
    assert "INTERNAL" not in response.text and "Traceback" not in response.text, response.text
    body = response.json()
    if response.status_code == 503:
        assert response.headers["retry-after"] == "5"
        assert {e["extensions"]["code"] for e in body["errors"]} == {"SERVICE_UNAVAILABLE"}
        assert body.get("data") is None
        return True
    assert "errors" not in body, body
    if answer.kind == "write":
        assert body["data"]["declare"]["errors"] == [], body
    return False


async def _retry_writes(
    http: httpx.AsyncClient, seeded: Seeded, answers: list[Answer]
) -> tuple[int, int]:
    """Retries each refused write as a client would; (new, duplicate) outcomes."""
    new = duplicate = 0
    for answer in answers:
        if answer.kind == "write" and answer.response.status_code == 503:
            assert answer.order is not None
            retried = (await _declare(http, seeded.platform, answer.order)).json()
            assert retried["data"]["declare"]["errors"] == [], retried
            if retried["data"]["declare"]["duplicate"]:
                duplicate += 1
            else:
                new += 1
    return new, duplicate


@pytest.mark.parametrize("fault", ["terminate", "cut"])
async def test_killed_connections_mid_load_answer_503_with_retry_after_never_internal(
    fault: str,
    database: Database,
    app: Starlette,
    http: httpx.AsyncClient,
    seeded: Seeded,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hub")
    stop = asyncio.Event()
    load = asyncio.create_task(_load(http, seeded, stop, readers=4, writers=2))
    killed = 0
    for _ in range(3):
        await asyncio.sleep(0.6)
        if fault == "terminate":
            killed += await _terminate_hub_backends(database.direct)
        else:
            killed += len(database.proxy._writers) // 2
            database.proxy.cut()
    await asyncio.sleep(0.6)
    stop.set()
    answers = await load

    assert killed > 0
    refused = [a for a in answers if _assert_answered_right(a)]
    assert len(answers) > len(refused) > 0, (len(answers), len(refused))
    assert max(a.seconds for a in answers) < DEADLINE + SLACK
    # Recovered at once: the very next read is served.
    after = await read_orders(http, seeded.customs)
    assert after.status_code == 200 and "errors" not in after.json(), after.text
    # A client that retries on 503 loses no write.
    new, duplicate = await _retry_writes(http, seeded, answers)
    assert new + duplicate == sum(1 for a in refused if a.kind == "write")

    # One line per refused request; the traceback once for the outage, not per request.
    hub_records = [r for r in caplog.records if r.name.startswith("hub")]
    lines = [r for r in hub_records if "refused 503" in r.getMessage()]
    assert len(lines) == len(refused)
    tracebacks = [r for r in hub_records if r.exc_info]
    assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]
    assert tracebacks[0].getMessage().startswith("database outage began")
    assert not [r for r in hub_records if "internal error" in r.getMessage()]


async def test_a_stalled_database_answers_503_within_the_deadline_then_recovers_at_once(
    database: Database, app: Starlette, http: httpx.AsyncClient, seeded: Seeded
) -> None:
    stop = asyncio.Event()
    load = asyncio.create_task(_load(http, seeded, stop, readers=3, writers=1))
    await asyncio.sleep(0.5)
    database.proxy.stall()
    # In flight and new, reads and writes: all bounded by the deadline.
    started = time.monotonic()
    during = await asyncio.gather(
        *(read_orders(http, seeded.customs) for _ in range(4)),
        _declare(http, seeded.platform, 999_999),
    )
    waited = time.monotonic() - started
    stop.set()
    answers = await load
    database.proxy.heal()

    assert waited < DEADLINE + SLACK, waited
    for response in during:
        assert _assert_answered_right(Answer("read", response, 0.0)), response.text
    slow = [
        (a.kind, a.seconds, a.response.status_code, a.response.text[:300])
        for a in answers
        if a.seconds > DEADLINE + SLACK
    ]
    assert not slow, slow
    for answer in answers:
        _assert_answered_right(answer)
    # Healed: served at once, not after a pool timeout or a minute of dead connections.
    started = time.monotonic()
    after = await read_orders(http, seeded.customs)
    assert after.status_code == 200, after.text
    assert time.monotonic() - started < 1.0
    retried = (await _declare(http, seeded.platform, 999_999)).json()
    assert retried["data"]["declare"]["errors"] == [], retried


async def test_a_refused_connection_answers_503_at_once_and_the_hub_comes_back(
    database: Database, app: Starlette, http: httpx.AsyncClient, seeded: Seeded
) -> None:
    await database.proxy.stop()
    started = time.monotonic()
    refused = await read_orders(http, seeded.customs)
    token = await http.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert time.monotonic() - started < DEADLINE
    assert _assert_answered_right(Answer("read", refused, 0.0))
    assert token.status_code in (401, 503)  # no credentials: 401 needs no database
    await database.proxy.start()
    after = await read_orders(http, seeded.customs)
    assert after.status_code == 200, after.text


async def test_a_statement_stuck_on_a_lock_is_cancelled_at_the_deadline(
    database: Database, app: Starlette, http: httpx.AsyncClient, seeded: Seeded
) -> None:
    engine = create_async_engine(database.direct)
    try:
        async with engine.connect() as blocker:
            await blocker.execute(text("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            stuck = await read_orders(http, seeded.customs)
            waited = time.monotonic() - started
            await asyncio.sleep(0.5)
            # statement_timeout: the database is not left working for a caller that got 503.
            waiting = await _admin(
                database.direct,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'",
            )
            await blocker.rollback()
    finally:
        await engine.dispose()

    assert DEADLINE - 0.2 < waited < DEADLINE + SLACK, waited
    assert _assert_answered_right(Answer("read", stuck, waited))
    assert waiting == [(0,)]
    after = await read_orders(http, seeded.customs)
    assert after.status_code == 200, after.text
