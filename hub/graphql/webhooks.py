"""Webhook endpoints in GraphQL: register, list with the delivery log, replay, disable."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import strawberry

from hub.events.models import WebhookDelivery as DeliveryRow
from hub.events.models import WebhookEndpoint as EndpointRow
from hub.events.webhooks import service
from hub.graphql.context import Info
from hub.graphql.events import EventKind


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(StrEnum):
    PENDING = "PENDING"  # being attempted (see nextAttemptAt)
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"  # gave up after HUB_WEBHOOK_MAX_ATTEMPTS; replayWebhook sends it again
    WITHHELD = "WITHHELD"  # no longer the owner's to read when retried (consent revoked)
    ABANDONED = "ABANDONED"  # superseded by a replay


@strawberry.type(description="One event sent to an endpoint, with its attempts.")
class WebhookDelivery:
    id: strawberry.ID
    cursor: str
    message_id: str = strawberry.field(description="The `webhook-id` header (same on retries).")
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: DeliveryRow) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(row.id)),
            cursor=str(row.event_position),
            message_id=row.message_id,
            status=WebhookDeliveryStatus(row.status),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@strawberry.type(description="A registered endpoint: URL, kinds, how far it has got.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    kinds: list[EventKind]
    cursor: str = strawberry.field(description="The last event it is done with.")
    created_at: datetime
    disabled_at: datetime | None
    row: strawberry.Private[EndpointRow]

    @classmethod
    def of(cls, row: EndpointRow) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(row.id),
            url=row.url,
            kinds=sorted(service.kinds_of(row), key=lambda k: k.value),
            cursor=str(row.position),
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            row=row,
        )

    @strawberry.field(description="The delivery log, newest first (optionally one status).")
    async def deliveries(
        self, info: Info, status: WebhookDeliveryStatus | None = None, first: int = 100
    ) -> list[WebhookDelivery]:
        rows = await service.deliveries(
            session=info.context.read_session,
            endpoint=self.row,
            status=status.value if status else None,
            first=first,
        )
        return [WebhookDelivery.of(r) for r in rows]


@strawberry.type(description="A webhook refusal the caller can fix: code, input field, why.")
class WebhookError:
    code: str
    path: str | None
    message: str


@strawberry.type
class WebhookPayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…), shown once at registration."
    )
    errors: list[WebhookError]


@strawberry.input(description="An endpoint to register.")
class RegisterWebhookInput:
    url: str = strawberry.field(description="https (http outside production); see README.")
    kinds: list[EventKind]
    after: str | None = strawberry.field(
        default=None, description="Start after this cursor (default: from now on)."
    )


def _refused(exc: service.WebhookRefused) -> WebhookPayload:
    return WebhookPayload(
        endpoint=None,
        secret=None,
        errors=[WebhookError(code=exc.code, path=exc.path, message=exc.message)],
    )


@strawberry.type
class WebhooksQuery:
    @strawberry.field(description="The caller's webhook endpoints, newest first.")
    async def webhooks(self, info: Info) -> list[WebhookEndpoint]:
        rows = await service.list_for(
            session=info.context.read_session, principal=info.context.principal
        )
        return [WebhookEndpoint.of(r) for r in rows]


@strawberry.type
class WebhooksMutation:
    @strawberry.mutation(description="Registers an endpoint (department and bank clients).")
    async def register_webhook(self, info: Info, input: RegisterWebhookInput) -> WebhookPayload:
        async with info.context.transaction() as session:
            try:
                made = await service.register(
                    session=session,
                    principal=info.context.principal,
                    url=input.url,
                    kinds=[k.value for k in input.kinds],
                    settings=info.context.runtime.settings,
                    after=input.after,
                )
            except service.WebhookRefused as exc:
                return _refused(exc)
            return WebhookPayload(
                endpoint=WebhookEndpoint.of(made.endpoint), secret=made.secret, errors=[]
            )

    @strawberry.mutation(description="Sends everything after `after` again, in order.")
    async def replay_webhook(self, info: Info, id: strawberry.ID, after: str) -> WebhookPayload:
        async with info.context.transaction() as session:
            try:
                row = await service.replay(
                    session=session,
                    principal=info.context.principal,
                    endpoint_id=str(id),
                    after=after,
                )
            except service.WebhookRefused as exc:
                return _refused(exc)
            return WebhookPayload(endpoint=WebhookEndpoint.of(row), secret=None, errors=[])

    @strawberry.mutation(description="Stops deliveries to the endpoint for good.")
    async def disable_webhook(self, info: Info, id: strawberry.ID) -> WebhookPayload:
        async with info.context.transaction() as session:
            try:
                row = await service.disable(
                    session=session, principal=info.context.principal, endpoint_id=str(id)
                )
            except service.WebhookRefused as exc:
                return _refused(exc)
            return WebhookPayload(endpoint=WebhookEndpoint.of(row), secret=None, errors=[])
