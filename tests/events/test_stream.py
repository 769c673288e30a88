"""A subscriber's stream pulls one batch at a time: a slow reader pauses it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from datetime import UTC, datetime

from sqlalchemy import select
from starlette.applications import Starlette

from hub.access.audit_log import Operation
from hub.access.models import AccessEvent
from hub.db import unit_of_work
from hub.events import outbox, sequencer, stream
from hub.events.kinds import EventKind
from hub.events.outbox import NewEvent
from tests.builders.parties import uscc


async def _logged(app: Starlette) -> list[AccessEvent]:
    async with app.state.runtime.session_factory() as session:
        return list(
            await session.scalars(
                select(AccessEvent).where(AccessEvent.operation_type == "subscription")
            )
        )


async def test_a_slow_subscriber_pauses_its_stream_at_one_batch(
    app: Starlette, get_token: Callable[..., Awaitable[str]]
) -> None:
    runtime = app.state.runtime
    now = datetime.now(UTC)
    codes = [uscc(f"91320302MA1B{n:05d}") for n in range(3 * stream.BATCH)]
    async with unit_of_work(runtime.session_factory) as session:
        await outbox.record(
            session=session,
            events=[
                NewEvent(
                    kind=EventKind.DECLARATION_ACCEPTED,
                    occurred_at=now,
                    enterprise_codes=(code,),
                    category="registration",
                    standard_id="cbec.enterprise",
                    record_key=code,
                )
                for code in codes
            ],
        )
        await sequencer.sequence(session=session, limit=10_000)
    token = await get_token(scopes="customs:read")
    source = stream.events(
        runtime=runtime,
        authorization=f"Bearer {token}",
        after=0,
        kinds=frozenset({EventKind.DECLARATION_ACCEPTED}),
        operation=Operation("subscription", "slow", "0" * 64),
    )
    async with aclosing(source):
        first = await anext(source)
        assert first.event.record_key == codes[0]
        await asyncio.sleep(0.5)  # the reader dawdles: nothing more is read meanwhile
        logged = await _logged(app)
        assert [e.record_count for e in logged] == [stream.BATCH]
        rest = [await anext(source) for _ in range(stream.BATCH + 10)]
    assert [d.event.record_key for d in rest] == codes[1 : stream.BATCH + 11]
    assert [e.record_count for e in await _logged(app)] == [stream.BATCH, stream.BATCH]
