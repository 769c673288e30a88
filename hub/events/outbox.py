"""Writing events in the transaction of the change they report (the transactional outbox).

The services call these functions with their own session; nothing here commits. An event
row is born without a position: the sequencer gives it one once it is visible (see
hub/events/sequencer.py), so a rolled-back change leaves no event and a committed one
always gets exactly one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.authority import PLACEHOLDER_CODES, record_type
from hub.db import pair_in
from hub.events.kinds import KIND_CATEGORY, EventKind, record_category
from hub.events.models import Event
from hub.trade.models import Order

OrderKey = tuple[str, str]
_CHUNK = 400


@dataclass(frozen=True)
class NewEvent:
    """The columns of one event before it is stored."""

    kind: EventKind
    occurred_at: datetime
    enterprise_codes: tuple[str, ...] = ()
    category: str | None = None
    standard_id: str | None = None
    record_key: str | None = None
    ebp_code: str | None = None
    order_no: str | None = None
    ebc_code: str | None = None
    app_time: str | None = None
    declarant: str | None = None
    declaration_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The insert parameters of this event."""
        values = dict(vars(self))
        values["kind"] = self.kind.value
        values["enterprise_codes"] = list(self.enterprise_codes)
        values["detail"] = dict(self.detail)
        return values


async def record(*, session: AsyncSession, events: Sequence[NewEvent]) -> None:
    """Queues events in the caller's transaction (one executemany)."""
    if events:
        await session.execute(insert(Event.__table__), [e.row() for e in events])


def _codes(*values: Any) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(str(v) for v in values if v not in (None, "") and v not in PLACEHOLDER_CODES)
    )


class AcceptedRecord(Protocol):
    """What the intake knows of one newly accepted declaration (projection.Accepted)."""

    # Read-only: projection.Accepted is a frozen dataclass.
    @property
    def standard_id(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def app_type(self) -> str: ...
    @property
    def record_key(self) -> str: ...
    @property
    def declaration_id(self) -> str: ...
    @property
    def major(self) -> int: ...


async def declarations_accepted(
    *,
    session: AsyncSession,
    accepted: Iterable[AcceptedRecord],
    declarant: str | None,
    now: datetime,
) -> None:
    """One `declaration.accepted` event per accepted declaration, naming its parties."""
    events = []
    for item in accepted:
        payload = item.payload
        rtype = record_type(item.standard_id, item.major)
        parties = sorted(rtype.party_codes(payload)) if rtype is not None else []
        key = rtype.order_key(payload) if rtype is not None else None
        events.append(
            NewEvent(
                kind=EventKind.DECLARATION_ACCEPTED,
                occurred_at=now,
                enterprise_codes=_codes(*parties, declarant),
                category=record_category(item.standard_id).value,
                standard_id=item.standard_id,
                record_key=item.record_key,
                ebp_code=key[0] if key else None,
                order_no=key[1] if key else None,
                ebc_code=str(payload.get("ebcCode") or "") or None,
                app_time=str(payload.get("appTime") or "")[:14] or None,
                declarant=declarant,
                declaration_id=item.declaration_id,
                detail={
                    "appType": item.app_type,
                    # The roles the declarant plays in its record: what it reads of it.
                    "declarantRoles": sorted(rtype.roles_of(declarant, payload))
                    if rtype is not None
                    else [],
                },
            )
        )
    await record(session=session, events=events)


@dataclass(frozen=True)
class OrderState:
    """What an order's status events compare: its matching and customs status."""

    ebp_code: str
    order_no: str
    ebc_code: str
    pay_code: str | None
    app_time: str
    match_status: str
    customs_status: int | None


async def order_states(
    *, session: AsyncSession, keys: Iterable[OrderKey]
) -> dict[OrderKey, OrderState]:
    """The current matching and customs status of these orders (to compare after a change)."""
    wanted = sorted(set(keys))
    found: dict[OrderKey, OrderState] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = await session.execute(
            select(
                Order.ebp_code,
                Order.order_no,
                Order.ebc_code,
                Order.pay_code,
                Order.app_time,
                Order.match_status,
                Order.customs_status,
            ).where(pair_in(Order.ebp_code, Order.order_no, chunk))
        )
        for row in rows:
            found[(row.ebp_code, row.order_no)] = OrderState(*row)
    return {k: v for k, v in found.items() if k in set(wanted)}


def _order_event(
    kind: EventKind, state: OrderState, now: datetime, detail: dict[str, Any]
) -> NewEvent:
    return NewEvent(
        kind=kind,
        occurred_at=now,
        enterprise_codes=_codes(state.ebp_code, state.ebc_code, state.pay_code),
        category=KIND_CATEGORY[kind].value,
        standard_id="cbec.order",
        record_key=f"{state.ebp_code}|{state.order_no}",
        ebp_code=state.ebp_code,
        order_no=state.order_no,
        ebc_code=state.ebc_code,
        app_time=state.app_time,
        detail=detail,
    )


async def order_changes(
    *,
    session: AsyncSession,
    before: Mapping[OrderKey, OrderState],
    keys: Iterable[OrderKey],
    now: datetime,
) -> None:
    """Events for the orders whose matching or customs status differs from `before`."""
    after = await order_states(session=session, keys=keys)
    events = []
    for key in sorted(after):
        now_state, was = after[key], before.get(key)
        if was is None:
            continue  # created since: its declaration's own event tells it
        if now_state.match_status != was.match_status:
            events.append(
                _order_event(
                    EventKind.ORDER_MATCHING_CHANGED,
                    now_state,
                    now,
                    {"from": was.match_status, "to": now_state.match_status},
                )
            )
        if now_state.customs_status != was.customs_status:
            events.append(
                _order_event(
                    EventKind.CUSTOMS_STATUS_CHANGED,
                    now_state,
                    now,
                    {"from": was.customs_status, "to": now_state.customs_status},
                )
            )
    await record(session=session, events=events)


async def consent_changed(
    *, session: AsyncSession, consent: Any, kind: EventKind, now: datetime
) -> None:
    """A consent was granted, revoked or expired: told to its enterprise and its bank."""
    await record(
        session=session,
        events=[
            NewEvent(
                kind=kind,
                occurred_at=now,
                enterprise_codes=(consent.enterprise_code,),
                standard_id="consent",
                record_key=consent.id,
                detail={
                    "bank": consent.bank_client_id,
                    "categories": list(consent.categories),
                    "expiresAt": consent.expires_at.isoformat(),
                },
            )
        ],
    )


async def standard_changed(
    *, session: AsyncSession, version: Any, kind: EventKind, now: datetime
) -> None:
    """A standard version was published, deprecated or retired (public registry news)."""
    detail: dict[str, Any] = {"version": version.version, "state": version.state}
    if getattr(version, "successor", None):
        detail["successor"] = version.successor
    await record(
        session=session,
        events=[
            NewEvent(
                kind=kind,
                occurred_at=now,
                standard_id=version.standard_id,
                record_key=f"{version.standard_id}@{version.version}",
                detail=detail,
            )
        ],
    )
