"""SQLite lock contention waits briefly, and is never reported as an outage.

Another process holding SQLite's write lock (a `hub demo` load, a second worker's batch)
makes the hub's writers wait, its reads' access events included. A short hold is waited
out; a hold longer than the busy timeout is answered 503 DATABASE_BUSY with
`Retry-After: 1`, never "the database is unavailable", and with no traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from hub.config import Settings, sqlite_path
from tests.faults.conftest import Seeded
from tests.faults.helpers import count_events, read_orders
from tests.support import TEST_ISSUER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DEADLINE = 2.0  # the busy timeout of a serving hub is then 1 s (half the deadline)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A hub on SQLite with a short deadline."""
    return Settings(
        database_url=database_url,
        issuer=TEST_ISSUER,
        env="test",
        rate_limit_per_second=0.0,
        log_sequencer=False,
        events_sequencer=False,  # background workers: no request's
        webhook_dispatcher=False,
        request_timeout=DEADLINE,
    )


@pytest.fixture
def other_process(settings: Settings) -> Iterator[sqlite3.Connection]:
    """A connection of "another process" to the same file, in autocommit mode."""
    path = sqlite_path(settings.database_url)
    assert path is not None
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    yield connection
    connection.close()


async def test_a_briefly_held_write_lock_is_waited_out(
    app: Starlette, http: httpx.AsyncClient, seeded: Seeded, other_process: sqlite3.Connection
) -> None:
    before = await count_events(app.state.runtime.session_factory)
    other_process.execute("BEGIN IMMEDIATE")  # the write lock, as a writer elsewhere holds it
    reads = asyncio.gather(*(read_orders(http, seeded.customs) for _ in range(6)))
    await asyncio.sleep(0.4)
    other_process.execute("ROLLBACK")
    responses = await reads

    for response in responses:
        assert response.status_code == 200, response.text
        assert "errors" not in response.json()
    assert await count_events(app.state.runtime.session_factory) == before + 6


async def test_a_lock_held_past_the_busy_timeout_is_busy_not_an_outage(
    app: Starlette,
    http: httpx.AsyncClient,
    seeded: Seeded,
    other_process: sqlite3.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hub")
    other_process.execute("BEGIN IMMEDIATE")
    try:
        responses = await asyncio.gather(*(read_orders(http, seeded.customs) for _ in range(4)))
    finally:
        other_process.execute("ROLLBACK")

    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        body = response.json()
        assert body["data"] is None  # the read was not logged, so it is withheld
        assert {e["extensions"]["code"] for e in body["errors"]} == {"DATABASE_BUSY"}
        assert "unavailable" not in response.text
    records = [r for r in caplog.records if r.name.startswith("hub")]
    assert not [r for r in records if r.exc_info or r.levelno >= logging.ERROR]
    assert len([r for r in records if "refused 503 DATABASE_BUSY" in r.getMessage()]) == 4
    # Released: served at once.
    after = await read_orders(http, seeded.customs)
    assert after.status_code == 200, after.text
