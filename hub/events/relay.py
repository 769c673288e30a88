"""The NATS JetStream relay: the event log, published per department and kind.

One stream (`HUB_EVENTS`, subjects `hub.events.>`). Each event goes to the subject of
every department that may read it, `hub.events.<department>.<kind>` (kind with `_` for
`.`: `hub.events.customs.declaration_accepted`), decided by the same delivery policy as
subscriptions for that department's scope; consent events go to no department subject
(they are the enterprise's and its bank's). A subject carries what its subscribers may
read: references, never payloads or personal data.

Exactly once in the stream: each message's `Nats-Msg-Id` is the event's id and the
department (`<event id>.<department>`: one event is several messages, and JetStream
deduplicates per stream), the relay moves its cursor (a row in `event_cursors`) only
after JetStream acknowledged a whole batch, and a relay that died mid-batch republishes
from its last cursor, which JetStream's duplicate window drops. One relay runs per
database: it holds a lease (hub/events/lease.py) and a second relay stays passive until
the lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.access.viewer import build_viewer
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.db import unit_of_work
from hub.events import delivery, feed, lease, wire
from hub.events.models import Event, EventCursor

logger = logging.getLogger("hub.events.relay")

STREAM = "HUB_EVENTS"
SUBJECT_PREFIX = "hub.events"
LEASE = "events.nats-relay"
CURSOR = "nats.relay"
DEPARTMENTS: dict[str, Scope] = {
    "customs": Scope.CUSTOMS_READ,
    "tax": Scope.TAX_READ,
    "forex": Scope.FOREX_READ,
    "market": Scope.MARKET_READ,
}
# JetStream drops a repeated Nats-Msg-Id within this window: longer than any takeover.
DUPLICATE_WINDOW_SECONDS = 600


def subject(department: str, kind: str, prefix: str = SUBJECT_PREFIX) -> str:
    """The subject of one department's events of one kind."""
    return f"{prefix}.{department}.{kind.replace('.', '_')}"


def message_id(event: Event, department: str) -> str:
    """The JetStream deduplication id of one event's message to one department."""
    return f"{event.id}.{department}"


def _department(name: str, scope: Scope, issuer: str) -> Principal:
    return Principal(
        client_id=f"nats-relay:{name}",
        name=f"NATS relay ({name})",
        scopes=frozenset({scope}),
        enterprise_code=None,
        issuer=issuer,
    )


async def ensure_stream(js: Any, *, stream: str = STREAM, prefix: str = SUBJECT_PREFIX) -> None:
    """Creates the stream, or leaves an existing one as it is."""
    from nats.js.api import StreamConfig
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=stream, subjects=[f"{prefix}.>"], duplicate_window=DUPLICATE_WINDOW_SECONDS
            )
        )


async def cursor(*, session: AsyncSession) -> int:
    """The last position the relay has published (0: none)."""
    row = await session.get(EventCursor, CURSOR)
    return row.position if row is not None else 0


@dataclass
class Relay:
    """Publishes the log to JetStream while it holds the lease."""

    session_factory: async_sessionmaker[AsyncSession]
    js: Any
    issuer: str
    batch: int = 200
    stream: str = STREAM
    prefix: str = SUBJECT_PREFIX
    lease_seconds: float = 10.0
    interval: float = 0.2
    holder: str = ""
    leading: bool = False

    def __post_init__(self) -> None:
        self.holder = self.holder or lease.new_holder()

    async def step(self) -> int:
        """One round: renew the lease; leading, publish one batch. Returns how many events."""
        now = datetime.now(UTC)
        async with unit_of_work(self.session_factory) as session:
            self.leading = await lease.acquire(
                session=session,
                name=LEASE,
                holder=self.holder,
                ttl=timedelta(seconds=self.lease_seconds),
                now=now,
            )
        if not self.leading:
            return 0
        async with self.session_factory() as session:
            start = await cursor(session=session)
            rows = await feed.read_after(session=session, after=start, limit=self.batch)
            if not rows:
                return 0
            messages: list[tuple[str, str, bytes]] = []
            for name, scope in DEPARTMENTS.items():
                viewer = await build_viewer(
                    session=session, principal=_department(name, scope, self.issuer)
                )
                for item in await delivery.visible(session=session, viewer=viewer, events=rows):
                    event = item.event
                    body = json.dumps(wire.document(event), ensure_ascii=False).encode("utf-8")
                    messages.append(
                        (subject(name, event.kind, self.prefix), message_id(event, name), body)
                    )
        # In log order, so each subject's messages are in log order too.
        order = {e.id: i for i, e in enumerate(rows)}
        messages.sort(key=lambda m: (order[int(m[1].split(".")[0])], m[0]))
        for subj, msg_id, body in messages:
            await self.js.publish(subj, body, stream=self.stream, headers={"Nats-Msg-Id": msg_id})
        await self._advance(start, int(rows[-1].position or start))
        return len(rows)

    async def _advance(self, start: int, top: int) -> None:
        now = datetime.now(UTC)
        async with unit_of_work(self.session_factory) as session:
            row = await session.get(EventCursor, CURSOR, with_for_update=True)
            if row is None:
                session.add(EventCursor(name=CURSOR, position=top, updated_at=now))
            elif row.position == start:
                row.position = top
                row.updated_at = now
            # else: another relay overran our lease and moved it; JetStream dropped our
            # duplicates, and its cursor stands.

    async def run(self, stopping: asyncio.Event) -> None:
        """Runs until `stopping` is set."""
        while not stopping.is_set():
            done = 0
            try:
                done = await self.step()
            except Exception:
                logger.warning("NATS relay round failed", exc_info=True)
            if done >= self.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.interval)
        if self.leading:
            async with unit_of_work(self.session_factory) as session:
                await lease.release(
                    session=session, name=LEASE, holder=self.holder, now=datetime.now(UTC)
                )


async def serve(
    *,
    database_url: str,
    nats_url: str,
    issuer: str,
    lease_seconds: float,
    stream: str = STREAM,
    prefix: str = SUBJECT_PREFIX,
    batch: int = 200,
) -> None:
    """`hub events relay`: connects to NATS and the database and relays until stopped."""
    import signal

    import nats

    from hub.config import Settings
    from hub.db import create_engine, create_session_factory

    settings = Settings(database_url=database_url, issuer=issuer)
    engine = create_engine(settings)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, stream=stream, prefix=prefix)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    relay = Relay(
        create_session_factory(engine),
        js,
        issuer,
        batch=batch,
        stream=stream,
        prefix=prefix,
        lease_seconds=lease_seconds,
    )
    try:
        await relay.run(stopping)
    finally:
        await nc.drain()
        await engine.dispose()
