"""Group commit of access events: concurrent requests' events share one transaction.

Every read that returns graph data is logged before its result leaves the process
("trackable where it went"). One transaction per event made the access log the hub's
bottleneck under concurrency: on SQLite every read queued for the one write lock, and a
request that took a second pooled connection for its event while holding its read
connection could deadlock the pool. Here a request hands its event to the writer and
waits; events that arrive within a few milliseconds of each other (and while the previous
batch commits) are written in one transaction on one connection, and each waiter is
released only once that transaction has committed. A failed batch fails every waiter in
it, so no result whose event is not durable is ever sent (fail closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.access import audit_log
from hub.access.audit_log import AccessEventCreate
from hub.db import unit_of_work
from hub.http import unavailable

WINDOW_SECONDS = 0.002  # how long the first event of a batch waits for company
MAX_BATCH = 256  # events per transaction; more wait for the next one


class AccessNotRecorded(Exception):
    """The batch holding this event did not commit; its cause is the database's error."""


@dataclass
class _Waiter:
    event: AccessEventCreate
    done: asyncio.Future[None]


class AuditWriter:
    """Collects access events and commits them in batches; `record` returns once durable.

    No background task runs between batches: the first event of a batch starts one flush
    task, which keeps committing while events keep arriving and then ends. So the writer
    needs no start or stop, and the events of requests still in flight at shutdown are
    written before those requests answer.
    """

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        window_seconds: float = WINDOW_SECONDS,
        max_batch: int = MAX_BATCH,
        timeout: float | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._timeout = timeout
        self._window = window_seconds
        self._max_batch = max_batch
        self._pending: list[_Waiter] = []
        self._flusher: asyncio.Task[None] | None = None
        self.transactions = 0  # batches committed (a figure for tests and metrics)

    async def record(self, *, event: AccessEventCreate) -> None:
        """Returns once `event` is committed; raises AccessNotRecorded when it was not."""
        waiter = _Waiter(event, asyncio.get_running_loop().create_future())
        self._pending.append(waiter)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        # A cancelled request stops waiting; its event is still written with the batch
        # (logging a read that was never delivered errs on the safe side).
        await asyncio.shield(waiter.done)

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(self._window)
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)
        finally:
            self._flusher = None

    async def _commit(self, batch: list[_Waiter]) -> None:
        try:
            await self._write([w.event for w in batch])
        except Exception as exc:
            if len(batch) > 1 and not _is_outage(exc):
                # One event the database refuses must not withhold everyone's results:
                # write them one by one, so only the offending event fails.
                for waiter in batch:
                    await self._commit([waiter])
                return
            queued: list[_Waiter] = []
            if _is_outage(exc):
                # The database is down or its write lock stayed taken: the events queued
                # meanwhile would meet the same, after waiting for it again. They fail now.
                queued, self._pending = self._pending, []
            for waiter in batch + queued:
                _fail(waiter, exc)
            return
        except BaseException as exc:  # cancelled at shutdown: nobody may be left waiting
            for waiter in batch:
                _fail(waiter, exc)
            raise
        self.transactions += 1
        for waiter in batch:
            if not waiter.done.done():
                waiter.done.set_result(None)

    async def _write(self, events: Sequence[AccessEventCreate]) -> None:
        # Bounded: a stalled (black-holed) connection must not hold up every later batch;
        # the requests waiting get 503 and the connection is dropped.
        async with asyncio.timeout(self._timeout):
            async with unit_of_work(self._session_factory) as session:
                await audit_log.record_many(session=session, events=events)


def _fail(waiter: _Waiter, cause: BaseException) -> None:
    if waiter.done.done():
        return
    # A fresh exception per waiter: each request raises (and logs) its own traceback.
    error = AccessNotRecorded("the access event was not recorded")
    error.__cause__ = cause
    waiter.done.set_exception(error)
    # A waiter whose request was cancelled never retrieves it: do not warn about that.
    waiter.done.exception()


def _is_outage(error: BaseException) -> bool:
    return unavailable.is_database_unavailable(error) or unavailable.is_database_busy(error)
