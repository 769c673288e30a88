"""Reading the event log from a cursor, and waking readers when it grows.

A cursor is the decimal position of the last event a consumer has (`"0"`: from the
start). Positions are dense, so a cursor older than the oldest kept event means events
were purged by the retention period: the reader is told (CURSOR_EXPIRED) rather than
handed a silent gap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events.kinds import EventKind
from hub.events.models import Event

MAX_CURSOR = 2**63 - 1


class FeedErrorCode(StrEnum):
    """Why a feed request was refused."""

    INVALID_CURSOR = "INVALID_CURSOR"
    CURSOR_EXPIRED = "CURSOR_EXPIRED"
    INVALID_KIND = "INVALID_KIND"


class FeedError(Exception):
    """A refusal with a code the client branches on."""

    def __init__(self, code: FeedErrorCode, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path


def parse_cursor(raw: str | None) -> int:
    """The position a cursor names (None or "": 0, the start)."""
    if raw is None or raw == "":
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_CURSOR:
        raise FeedError(
            FeedErrorCode.INVALID_CURSOR,
            "a cursor is the decimal position of an event (or 0 for the start)",
            "after",
        )
    return int(raw)


def parse_kinds(names: Collection[str] | None) -> frozenset[EventKind] | None:
    """Event kinds by wire name (`declaration.accepted`); None: every kind."""
    if names is None:
        return None
    kinds = set()
    for name in names:
        try:
            kinds.add(EventKind(name))
        except ValueError:
            allowed = ", ".join(k.value for k in EventKind)
            raise FeedError(
                FeedErrorCode.INVALID_KIND,
                f"unknown event kind {name!r}; known: {allowed}",
                "kinds",
            ) from None
    return frozenset(kinds)


async def check_retained(*, session: AsyncSession, after: int) -> None:
    """Refuses a cursor from before what the retention period kept."""
    oldest = (await session.execute(select(func.min(Event.position)))).scalar()
    if oldest is not None and after < oldest - 1:
        raise FeedError(
            FeedErrorCode.CURSOR_EXPIRED,
            f"events after {after} up to {oldest - 1} were dropped by the retention period; "
            f"resume from {oldest - 1} (and re-read the current state) or later",
            "after",
        )


async def read_after(
    *,
    session: AsyncSession,
    after: int,
    limit: int,
    kinds: frozenset[EventKind] | None = None,
    until: int | None = None,
) -> list[Event]:
    """Up to `limit` sequenced events after the cursor, in position order."""
    query = select(Event).where(Event.position > after).order_by(Event.position).limit(limit)
    if kinds is not None:
        query = query.where(Event.kind.in_(sorted(k.value for k in kinds)))
    if until is not None:
        query = query.where(Event.position <= until)
    return list(await session.scalars(query))


async def head(*, session: AsyncSession) -> int:
    """The last position given out (0: none yet)."""
    return int((await session.execute(select(func.max(Event.position)))).scalar() or 0)


class Waker:
    """Wakes this process's readers when the sequencer gives out new positions.

    Readers in other processes are not told: they poll every HUB_EVENTS_POLL_MS."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.top = 0

    def advance(self, top: int) -> None:
        """Called by the sequencer after a batch committed."""
        self.top = max(self.top, top)
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Returns when new events were sequenced here, or after `timeout` seconds."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=timeout)
