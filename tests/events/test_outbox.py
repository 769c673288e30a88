"""The event log is written in the transaction of each change, and numbered without gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from starlette.applications import Starlette

from hub.access.models import Consent
from hub.db import unit_of_work
from hub.events import sequencer
from hub.events.models import Event
from hub.standards import service as standards
from tests.builders.parties import PLATFORM, SELLER, Actors, hub_actors, import_set
from tests.events.helpers import grant_consent, revoke_consent, settled

__all__ = ["hub_actors"]

DECLARE_BATCH = """
mutation($inputs: [DeclareInput!]!) {
  declareBatch(inputs: $inputs, atomic: true) { results { errors { code } } }
}"""


def _kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


async def test_every_accepted_declaration_and_status_change_is_an_event_in_order(
    hub_actors: Actors, app: Starlette
) -> None:
    factory = app.state.runtime.session_factory
    published = await settled(factory)
    assert {e.kind for e in published} == {"standard.published"}
    docs = import_set("XZ-EV-0001")
    await hub_actors.file_all(docs)
    events = (await settled(factory))[len(published) :]
    accepted = [e for e in events if e.kind == "declaration.accepted"]
    assert [e.standard_id for e in accepted] == [
        "cbec.order",
        "cbec.payment",
        "cbec.waybill",
        "cbec.inventory",
        "cbec.inventory-status",
    ]
    order = accepted[0]
    assert order.record_key == f"{PLATFORM}|XZ-EV-0001"
    assert {PLATFORM, SELLER} <= set(order.enterprise_codes)
    assert order.category == "order" and accepted[1].category == "payment"
    assert order.detail == {"appType": "1", "declarantRoles": ["platform"]}
    assert order.declaration_id
    matching = [e for e in events if e.kind == "order.matching_changed"]
    assert matching and matching[-1].detail["to"] == "MATCHED"
    assert all(e.record_key == order.record_key for e in matching)
    customs = [e for e in events if e.kind == "customs.status_changed"]
    assert [c.detail for c in customs] == [{"from": None, "to": 800}]
    # Dense positions, in insertion order within each batch, none twice.
    positions = [e.position for e in await settled(factory)]
    assert positions == list(range(1, len(positions) + 1))
    # Payloads never: no buyer, no amounts in any event.
    for event in events:
        text = repr(event.detail) + repr(event.enterprise_codes)
        assert docs["order"]["buyerName"] not in text
        assert docs["payment"]["amountPaid"] not in text


async def test_a_refused_or_rolled_back_change_leaves_no_event(
    hub_actors: Actors, app: Starlette
) -> None:
    factory = app.state.runtime.session_factory
    before = await settled(factory)
    docs = import_set("XZ-EV-0002")
    bad = dict(docs["payment"], amountPaid="not money")
    inputs = [
        {"standard": "cbec.order", "payload": docs["order"]},
        {"standard": "cbec.payment", "payload": bad},
    ]
    body = await hub_actors.query(DECLARE_BATCH, as_=PLATFORM, variables={"inputs": inputs})
    assert any(r["errors"] for r in body["data"]["declareBatch"]["results"])
    assert [e.id for e in await settled(factory)] == [e.id for e in before]


async def test_consents_and_standards_tell_their_changes(
    hub_actors: Actors, app: Starlette
) -> None:
    factory = app.state.runtime.session_factory
    before = len(await settled(factory))
    consent_id = await grant_consent(hub_actors, enterprise=SELLER)
    await revoke_consent(hub_actors, enterprise=SELLER, consent_id=consent_id)
    async with unit_of_work(factory) as session:
        await standards.deprecate_version(
            session=session, standard_id="cbec.order", version="1.0.0"
        )
    events = (await settled(factory))[before:]
    assert _kinds(events) == ["consent.granted", "consent.revoked", "standard.deprecated"]
    assert events[0].record_key == consent_id and events[0].enterprise_codes == [SELLER]
    assert events[0].detail["bank"] == hub_actors.client_ids["finance:read"]
    assert events[2].record_key == "cbec.order@1.0.0"


async def test_an_expired_consent_is_told_once(hub_actors: Actors, app: Starlette) -> None:
    factory = app.state.runtime.session_factory
    consent_id = await grant_consent(hub_actors, enterprise=SELLER)
    async with unit_of_work(factory) as session:
        await session.execute(
            update(Consent)
            .where(Consent.id == consent_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    now = datetime.now(UTC)
    for _ in range(2):
        async with unit_of_work(factory) as session:
            await sequencer.expire_consents(session=session, now=now)
    events = await settled(factory)
    expired = [e for e in events if e.kind == "consent.expired"]
    assert [e.record_key for e in expired] == [consent_id]


async def test_retention_drops_only_an_old_prefix_and_keeps_the_newest(
    hub_actors: Actors, app: Starlette
) -> None:
    factory = app.state.runtime.session_factory
    events = await settled(factory)
    assert len(events) > 3
    old = [e.id for e in events[:-1]]
    async with unit_of_work(factory) as session:
        await session.execute(
            update(Event)
            .where(Event.id.in_(old))
            .values(occurred_at=datetime(2000, 1, 1, tzinfo=UTC))
        )
        dropped = await sequencer.purge(
            session=session, retention=timedelta(days=30), now=datetime.now(UTC)
        )
    assert dropped == len(old)
    async with factory() as session:
        kept = list(await session.scalars(select(Event.position)))
    assert kept == [events[-1].position]
