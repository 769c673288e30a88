"""Risk rules on intake, off the write path: a consumer of the event log.

Evaluating the rules reads the touched enterprises' whole history (a split-order window, a
volume spike against the enterprise's own past), so running them inside a declaring
transaction would make every arrival cost O(that history) and hold the subjects' locks
meanwhile. Instead the events sequencer, once it has numbered a round of events, hands the
new `declaration.accepted` events to `evaluate_arrivals`: the published rule set runs over
the platforms and sellers (and other parties) they name, and the consumer's cursor (a row
in `event_cursors`) moves in the same transaction as the alerts it raised, so a crash
neither loses nor repeats a round (alerts are deduplicated besides). One sequencer leads
per database, so one evaluator runs. The delay is one events interval
(HUB_EVENTS_INTERVAL_MS); `hub risk run` evaluates everything on a schedule.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events.kinds import EventKind
from hub.events.models import Event, EventCursor
from hub.risk import evaluation

CURSOR = "risk.arrivals"
BATCH = 1000


async def evaluate_arrivals(*, session: AsyncSession, now: datetime) -> int:
    """Runs the published rule set over the enterprises named by declarations sequenced
    since the last call, and moves the cursor past them; returns the events consumed."""
    cursor = await session.get(EventCursor, CURSOR, with_for_update=True)
    start = cursor.position if cursor is not None else 0
    events = (
        await session.execute(
            select(Event.position, Event.kind, Event.enterprise_codes)
            .where(Event.position > start)
            .order_by(Event.position)
            .limit(BATCH)
        )
    ).all()
    if not events:
        return 0
    named = {
        code
        for e in events
        if e.kind == EventKind.DECLARATION_ACCEPTED.value
        for code in e.enterprise_codes or ()
    }
    if named:
        await evaluation.run(session=session, now=now, enterprises=named)
    top = int(events[-1].position)
    if cursor is None:
        session.add(EventCursor(name=CURSOR, position=top, updated_at=now))
    else:
        cursor.position, cursor.updated_at = top, now
    return len(events)
