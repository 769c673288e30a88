"""One subscriber's stream: replay from its cursor, then live, each batch under the policy.

The stream pulls: it reads one batch (at most `BATCH` events) when its consumer asks for
more, so a slow subscriber pauses its own stream at the transport (the WebSocket's or
HTTP response's flow control) and the hub holds one batch for it, never an unbounded
queue. Every batch re-checks the token (revoked, expired, client disabled: the stream
ends) and reads the subscriber's consents anew; a batch that takes longer than
`RECHECK_SECONDS` to hand over is cut there and the rest read again under a fresh check.
Each delivered batch is one access event naming its enterprises, written before the
events leave (fail closed, like every other read).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from hub.access import audit_log
from hub.access.audit import AccessRecorder
from hub.access.viewer import build_viewer
from hub.auth.tokens import TokenRejected
from hub.db import unit_of_work
from hub.events import delivery, feed
from hub.events.delivery import Delivered
from hub.events.kinds import EventKind
from hub.runtime import Runtime

BATCH = 100
RECHECK_SECONDS = 1.0


class StreamEnded(Exception):
    """The subscriber may no longer read (its token is no longer valid)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def events(
    *,
    runtime: Runtime,
    authorization: str | None,
    after: int,
    kinds: frozenset[EventKind] | None,
    operation: audit_log.Operation,
    purpose: str | None = None,
) -> AsyncIterator[Delivered]:
    """The subscriber's events after `after`, for as long as it listens."""
    assert runtime.events is not None
    waker = runtime.events.waker
    async with runtime.session_factory() as session:
        await feed.check_retained(session=session, after=after)
    cursor = after
    while True:
        try:
            principal = await runtime.verifier.verify_header(authorization)
        except TokenRejected as rejected:
            raise StreamEnded("UNAUTHENTICATED", rejected.description) from None
        async with runtime.session_factory() as session:
            rows = await feed.read_after(session=session, after=cursor, limit=BATCH, kinds=kinds)
            delivered: list[Delivered] = []
            if rows:
                viewer = await build_viewer(session=session, principal=principal)
                delivered = await delivery.visible(session=session, viewer=viewer, events=rows)
        if not rows:
            await waker.wait(runtime.events.poll_seconds)
            continue
        checked = time.monotonic()
        if delivered:
            recorder = AccessRecorder()
            delivery.note_access(recorder, delivered)
            recorder.returned_data = True
            event = audit_log.build_event(
                principal=principal,
                recorder=recorder,
                operation=operation,
                purpose=purpose,
                occurred_at=datetime.now(UTC),
            )
            async with unit_of_work(runtime.session_factory) as session:
                await audit_log.record(session=session, event=event)
        cut = False
        for item in delivered:
            yield item
            cursor = int(item.event.position or cursor)
            if time.monotonic() - checked > RECHECK_SECONDS:
                cut = True
                break
        if not cut:
            cursor = int(rows[-1].position or cursor)
