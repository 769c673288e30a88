"""Which events a subscriber may receive: the access policy, asked at delivery time.

Nothing here decides access itself. A record event is delivered when the grant the
viewer (hub/access/viewer.py) gives on the record, from the authority table's reads of the
order's group (hub/access/authority.py) and the subscriber's consents as they stand now,
allows the category the event reveals (hub/events/kinds.py) — the same calls the graph
makes for `order`. So a bank whose consent was revoked receives nothing more of that
enterprise from the next batch on, and market supervision (registration, credit, goods)
never receives a payment event. Consent events go to the consenting enterprise, the bank
it names and supervisors (as `consents` lists them); registry events to everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import authority
from hub.access.audit import AccessRecorder
from hub.access.policy import Category, Grant
from hub.access.viewer import Viewer
from hub.auth.scopes import Scope
from hub.events.kinds import CONSENT_KINDS, STANDARD_KINDS, EventKind
from hub.events.models import Event
from hub.graphql.loaders import Loaders


@dataclass(frozen=True)
class Delivered:
    """An event the subscriber may receive, and the consent it was read under."""

    event: Event
    consent_id: str | None = None


def _consent_visible(viewer: Viewer, event: Event) -> bool:
    principal = viewer.principal
    if principal.has(Scope.AUDIT_READ):
        return True
    if principal.enterprise_code and principal.enterprise_code in event.enterprise_codes:
        return True
    bank = (event.detail or {}).get("bank")
    return (
        principal.has(Scope.FINANCE_READ)
        and principal.issuer_key is None
        and bank == principal.client_id
    )


def _declarant_reads(viewer: Viewer, event: Event) -> authority.Reads:
    """What the subscriber reads of a record as its declarant (the graph's declaration
    view: a party reads what it declared in the roles the record names it)."""
    if viewer.enterprise is None or event.declarant != viewer.enterprise:
        return authority.NOTHING
    rtype = authority.record_type(event.standard_id or "")
    if rtype is None:
        return authority.EVERYTHING  # a standard the table does not model: the declarant's
    roles = {authority.Role(r) for r in (event.detail or {}).get("declarantRoles", ())}
    return rtype.reads_of(roles)


async def _record_grant(viewer: Viewer, loaders: Loaders, event: Event) -> Grant | None:
    if event.standard_id == "cbec.enterprise":
        return viewer.grant_for_enterprise(event.record_key or "")
    reads = _declarant_reads(viewer, event)
    ebp, ebc, app_time = event.ebp_code or "", event.ebc_code or "", event.app_time or ""
    if event.ebp_code and event.order_no:
        key = (event.ebp_code, event.order_no)
        order = await loaders.order_by_key.load(key)
        if order is not None:
            documents = await loaders.group_by_order.load(key)
            group, _ = authority.group_reads(viewer.enterprise, order, documents)
            reads = reads | group
            ebp, ebc, app_time = order.ebp_code, order.ebc_code, order.app_time
    return viewer.grant_for_order(ebp_code=ebp, ebc_code=ebc, app_time=app_time, reads=reads)


async def visible(
    *, session: AsyncSession, viewer: Viewer, events: Sequence[Event]
) -> list[Delivered]:
    """The events of a batch this viewer may receive, in order."""
    loaders = Loaders.create(lambda: session)
    # One statement per kind for the whole batch, not one per event.
    keys = sorted({(e.ebp_code, e.order_no) for e in events if e.ebp_code and e.order_no})
    if keys:
        await loaders.group_by_order.load_many(keys)
    delivered = []
    for event in events:
        kind = EventKind(event.kind)
        if kind in STANDARD_KINDS:
            delivered.append(Delivered(event))
        elif kind in CONSENT_KINDS:
            if _consent_visible(viewer, event):
                delivered.append(Delivered(event))
        else:
            grant = await _record_grant(viewer, loaders, event)
            if grant is not None and event.category and grant.allows(Category(event.category)):
                delivered.append(Delivered(event, grant.consent_id))
    return delivered


def note_access(recorder: AccessRecorder, delivered: Sequence[Delivered]) -> None:
    """Notes a batch's record events in the access log's recorder (one event a batch)."""
    for item in delivered:
        event = item.event
        if EventKind(event.kind) in STANDARD_KINDS:
            continue
        recorder.touch(
            enterprises=event.enterprise_codes,
            records=(f"{event.standard_id}:{event.record_key}",),
            consent_id=item.consent_id,
        )
