"""Access events of concurrent requests are committed together, and only then released.

Every read that returns graph data is logged before its answer leaves (fail closed). The
group-commit writer (hub/access/audit_writer.py) collects the events of concurrent
requests and commits them in one transaction; these tests count the transactions, break
the writes, and look inside each transaction for a read holding SQLite's write lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette

from hub.access import audit_log
from hub.access.audit_log import AccessEventCreate
from tests.faults.conftest import PLATFORM, Seeded
from tests.faults.helpers import count_events, read_orders

CONCURRENT = 24


@dataclass
class Transactions:
    """The statements of each database transaction of the app's engine, in order."""

    open: dict[int, list[str]] = field(default_factory=dict)
    done: list[list[str]] = field(default_factory=list)

    def statement(self, conn: Connection, _c: Any, sql: str, *_: Any) -> None:
        self.open.setdefault(id(conn), []).append(" ".join(sql.split()).upper())

    def end(self, conn: Connection) -> None:
        statements = self.open.pop(id(conn), [])
        if statements:
            self.done.append(statements)

    def writing_events(self) -> list[list[str]]:
        """The transactions that inserted access events."""
        return [t for t in self.done if any(s.startswith("INSERT INTO ACCESS_EVENTS ") for s in t)]


@pytest.fixture
def transactions(app: Starlette) -> Iterator[Transactions]:
    """Records every transaction of the app's engine (commit and rollback end one)."""
    engine = app.state.runtime.engine.sync_engine
    recorder = Transactions()
    listeners = [
        ("before_cursor_execute", recorder.statement),
        ("commit", recorder.end),
        ("rollback", recorder.end),
    ]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    yield recorder
    for name, fn in listeners:
        event.remove(engine, name, fn)


async def test_concurrent_reads_write_every_event_in_fewer_transactions(
    app: Starlette, http: httpx.AsyncClient, seeded: Seeded, transactions: Transactions
) -> None:
    before = await count_events(app.state.runtime.session_factory)
    writer = app.state.runtime.audit_writer
    committed_before = writer.transactions

    responses = await asyncio.gather(
        *(read_orders(http, seeded.customs) for _ in range(CONCURRENT))
    )

    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["orders"]["edges"][0]["node"]["ebpCode"] == PLATFORM
    assert await count_events(app.state.runtime.session_factory) == before + CONCURRENT
    batches = transactions.writing_events()
    assert len(batches) == writer.transactions - committed_before
    # Grouped: at most half as many transactions as events (typically two or three).
    assert 1 <= len(batches) <= CONCURRENT // 2, [len(b) for b in batches]
    for batch in batches:
        # One multi-row INSERT for the events, one for their subjects.
        assert [s.split(" (")[0] for s in batch] == [
            "INSERT INTO ACCESS_EVENTS",
            "INSERT INTO ACCESS_EVENT_SUBJECTS",
        ], batch


async def test_a_read_never_writes_inside_its_read_transaction(
    app: Starlette, http: httpx.AsyncClient, seeded: Seeded, transactions: Transactions
) -> None:
    responses = await asyncio.gather(*(read_orders(http, seeded.customs) for _ in range(8)))
    assert all(r.status_code == 200 for r in responses)

    event_tables = ("INSERT INTO ACCESS_EVENTS ", "INSERT INTO ACCESS_EVENT_SUBJECTS ")
    for statements in transactions.done:
        writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
        if any(s.startswith(event_tables) for s in writes):
            # The event's transaction holds nothing but the event: no read (on SQLite a
            # read transaction that then writes waits for, or fails on, the write lock).
            assert all(s.startswith(event_tables) for s in statements), statements
        else:
            assert writes == [], statements  # a read's transaction writes nothing


async def test_a_failed_batch_withholds_every_response_in_it(
    app: Starlette,
    http: httpx.AsyncClient,
    seeded: Seeded,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = await count_events(app.state.runtime.session_factory)
    calls: list[int] = []

    async def lost(*, session: Any, events: Sequence[AccessEventCreate]) -> list[int]:
        calls.append(len(events))
        # What a severed connection looks like once SQLAlchemy has wrapped it.
        raise OperationalError("INSERT INTO access_events", {}, ConnectionResetError("reset"))

    monkeypatch.setattr(audit_log, "record_many", lost)
    responses = await asyncio.gather(*(read_orders(http, seeded.customs) for _ in range(12)))

    # Grouped, and no event tried twice: those queued behind a batch that met the outage
    # fail with it, without waiting for the database again.
    assert sum(calls) <= 12 and len(calls) < 12, calls
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        body = response.json()
        assert body["data"] is None
        assert {e["extensions"]["code"] for e in body["errors"]} == {"SERVICE_UNAVAILABLE"}
        assert PLATFORM not in response.text  # nothing of the read left the process
    assert await count_events(app.state.runtime.session_factory) == before


async def test_one_event_the_database_refuses_withholds_only_its_own_response(
    app: Starlette,
    http: httpx.AsyncClient,
    seeded: Seeded,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = await count_events(app.state.runtime.session_factory)
    real = audit_log.record_many

    async def refuses_poison(*, session: Any, events: Sequence[AccessEventCreate]) -> list[int]:
        if any(e.purpose == "poison" for e in events):
            raise RuntimeError("value too long for type character varying(500)")
        return await real(session=session, events=events)

    monkeypatch.setattr(audit_log, "record_many", refuses_poison)
    responses = await asyncio.gather(
        *(
            read_orders(http, seeded.customs, {"Hub-Purpose": "poison" if i == 3 else "audit"})
            for i in range(10)
        )
    )

    statuses = [r.status_code for r in responses]
    assert statuses == [200, 200, 200, 500, 200, 200, 200, 200, 200, 200], statuses
    assert responses[3].json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert PLATFORM not in responses[3].text
    assert await count_events(app.state.runtime.session_factory) == before + 9
