"""Webhook endpoints: register, list, disable, replay from a cursor; the delivery log."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.policy import DEPARTMENT_SCOPES
from hub.auth.principal import Principal
from hub.config import Settings
from hub.events import feed
from hub.events.kinds import EventKind
from hub.events.models import WebhookDelivery, WebhookEndpoint
from hub.events.webhooks import signing, urls

MAX_ENDPOINTS_PER_CLIENT = 20
MAX_DELIVERIES_PAGE = 500


class WebhookRefused(Exception):
    """A refusal with a code, a message and the input field it concerns."""

    def __init__(self, code: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Registered:
    """A new endpoint and its signing secret (shown once)."""

    endpoint: WebhookEndpoint
    secret: str


def _may_register(principal: Principal) -> bool:
    # Departments and banks: the systems the feed serves. Enterprises read their own data
    # over the graph; an external identity's client is not one the hub can keep a row for.
    return not principal.external and any(principal.has(s) for s in DEPARTMENT_SCOPES)


async def register(
    *,
    session: AsyncSession,
    principal: Principal,
    url: str,
    kinds: Sequence[str],
    settings: Settings,
    after: str | None = None,
) -> Registered:
    """Registers an endpoint for some event kinds, from a cursor (default: from now on)."""
    if not _may_register(principal):
        raise WebhookRefused(
            "NOT_ALLOWED", "webhooks are for department and bank clients of this hub"
        )
    if not kinds:
        raise WebhookRefused("NO_KINDS", "name at least one event kind", "kinds")
    try:
        wanted = feed.parse_kinds(kinds)
    except feed.FeedError as error:
        raise WebhookRefused(error.code.value, error.message, "kinds") from None
    try:
        checked = await urls.check(url, settings)
    except urls.UrlRefused as refused:
        raise WebhookRefused(refused.code, refused.message, "url") from None
    owned = await session.scalars(
        select(WebhookEndpoint.id).where(
            WebhookEndpoint.client_id == principal.client_id, WebhookEndpoint.disabled_at.is_(None)
        )
    )
    if len(owned.all()) >= MAX_ENDPOINTS_PER_CLIENT:
        raise WebhookRefused(
            "TOO_MANY_ENDPOINTS", f"a client may keep {MAX_ENDPOINTS_PER_CLIENT} endpoints"
        )
    try:
        start = feed.parse_cursor(after) if after is not None else await feed.head(session=session)
    except feed.FeedError as error:
        raise WebhookRefused(error.code.value, error.message, "after") from None
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        id="whe_" + secrets.token_hex(14),
        client_id=principal.client_id,
        url=checked,
        kinds=sorted(k.value for k in wanted or ()),
        secret=secret,
        position=start,
        created_at=datetime.now(UTC),
    )
    session.add(endpoint)
    await session.flush()
    return Registered(endpoint, secret)


async def owned(
    *, session: AsyncSession, principal: Principal, endpoint_id: str
) -> WebhookEndpoint:
    """One of the caller's endpoints (another client's is as unknown as a missing one)."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None or endpoint.client_id != principal.client_id or principal.external:
        raise WebhookRefused(
            "UNKNOWN_ENDPOINT", f"you have no webhook endpoint {endpoint_id!r}", "id"
        )
    return endpoint


async def list_for(*, session: AsyncSession, principal: Principal) -> list[WebhookEndpoint]:
    """The caller's endpoints, newest first."""
    if principal.external:
        return []
    return list(
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.client_id == principal.client_id)
            .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id)
        )
    )


async def replay(
    *, session: AsyncSession, principal: Principal, endpoint_id: str, after: str
) -> WebhookEndpoint:
    """Delivers again everything after the cursor (dead letters included), in order."""
    endpoint = await owned(session=session, principal=principal, endpoint_id=endpoint_id)
    try:
        position = feed.parse_cursor(after)
        await feed.check_retained(session=session, after=position)
    except feed.FeedError as error:
        raise WebhookRefused(error.code.value, error.message, "after") from None
    # A pending delivery is abandoned: the replay sends its event again anyway.
    pending = await session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "PENDING"
        )
    )
    for delivery in pending:
        delivery.status = "ABANDONED"
        delivery.finished_at = datetime.now(UTC)
    endpoint.position = position
    await session.flush()
    return endpoint


async def disable(
    *, session: AsyncSession, principal: Principal, endpoint_id: str
) -> WebhookEndpoint:
    """Stops deliveries to the endpoint for good."""
    endpoint = await owned(session=session, principal=principal, endpoint_id=endpoint_id)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = datetime.now(UTC)
        await session.flush()
    return endpoint


async def deliveries(
    *, session: AsyncSession, endpoint: WebhookEndpoint, status: str | None, first: int
) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first (optionally one status: DEAD letters)."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(max(1, min(first, MAX_DELIVERIES_PAGE)))
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return list(await session.scalars(query))


def kinds_of(endpoint: WebhookEndpoint) -> frozenset[EventKind]:
    """The kinds an endpoint wants."""
    return frozenset(EventKind(k) for k in endpoint.kinds)
