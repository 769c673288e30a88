"""The webhook dispatcher: each endpoint's events in order, signed, retried, dead-lettered.

Per endpoint one delivery is open at a time, so events arrive in log order; a failed
attempt is retried after HUB_WEBHOOK_RETRY_BASE_MS, doubling each time, and after
HUB_WEBHOOK_MAX_ATTEMPTS the delivery is DEAD (the log keeps it; `replayWebhook` sends it
again) and the endpoint moves on. Every attempt asks the policy again with the owner's
consents as they are then, and re-checks the URL (a name may resolve elsewhere now); no
database connection is held while the receiver answers. Several hub processes share the
endpoints: each claims an endpoint for a short while before working on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.access import audit_log
from hub.access.audit import AccessRecorder
from hub.access.viewer import build_viewer
from hub.auth.models import Client
from hub.auth.principal import Principal
from hub.config import Settings
from hub.db import unit_of_work
from hub.events import delivery, feed, lease, wire
from hub.events.kinds import STANDARD_KINDS, EventKind
from hub.events.models import Event, WebhookDelivery, WebhookEndpoint
from hub.events.principals import principal_of
from hub.events.webhooks import signing, urls
from hub.events.webhooks.service import kinds_of

logger = logging.getLogger("hub.events.webhooks")

CLAIM_SECONDS = 30
MAX_STEPS_PER_ROUND = 50
MAX_BACKOFF_SECONDS = 3600
_CONCURRENCY = 4


def backoff(*, attempts: int, base_ms: int) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones (doubling, capped)."""
    seconds = base_ms / 1000 * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


@dataclass(frozen=True)
class _Send:
    delivery_id: int
    url: str
    secret: str
    message_id: str
    body: bytes
    position: int
    principal: Principal
    enterprises: tuple[str, ...]
    record: str
    consent_id: str | None
    registry: bool  # a registry event: names no enterprise's data


class WebhookDispatcher:
    """The background task of one process."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        settings: Settings,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.holder = lease.new_holder()
        self.http = client or httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Starts the loop in the running event loop."""
        self._task = asyncio.create_task(self._run(), name="hub-webhook-dispatcher")

    async def stop(self) -> None:
        """Stops after the current round."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.http.aclose()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.round()
            except Exception:
                logger.warning("webhook dispatcher round failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.settings.webhook_interval_ms / 1000
                )

    async def round(self) -> None:
        """Works on every endpoint this process can claim."""
        async with self.session_factory() as session:
            ids = list(
                await session.scalars(
                    select(WebhookEndpoint.id).where(WebhookEndpoint.disabled_at.is_(None))
                )
            )
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def one(endpoint_id: str) -> None:
            async with gate:
                if await self._claim(endpoint_id):
                    await self.work(endpoint_id)

        await asyncio.gather(*(one(i) for i in ids))

    async def _claim(self, endpoint_id: str) -> bool:
        now = datetime.now(UTC)
        async with unit_of_work(self.session_factory) as session:
            result = await session.execute(
                update(WebhookEndpoint)
                .where(
                    WebhookEndpoint.id == endpoint_id,
                    or_(
                        WebhookEndpoint.claimed_until.is_(None),
                        WebhookEndpoint.claimed_until < now,
                        WebhookEndpoint.claimed_by == self.holder,
                    ),
                )
                .values(
                    claimed_by=self.holder, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
                )
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def work(self, endpoint_id: str) -> None:
        """Delivers the endpoint's next events, one at a time, until it has to wait."""
        for _ in range(MAX_STEPS_PER_ROUND):
            send = await self._next(endpoint_id)
            if send is None:
                return
            await self._attempt(send)

    async def _next(self, endpoint_id: str) -> _Send | None:
        """The attempt to make now, or None (nothing to send, or its retry is not due)."""
        now = datetime.now(UTC)
        while True:
            async with unit_of_work(self.session_factory) as session:
                endpoint = await session.get(WebhookEndpoint, endpoint_id)
                if endpoint is None or endpoint.disabled_at is not None:
                    return None
                client = await session.scalar(
                    select(Client).where(Client.client_id == endpoint.client_id)
                )
                principal = principal_of(client, self.settings) if client is not None else None
                if principal is None:
                    return None  # a disabled client's endpoints wait
                open_delivery = await session.scalar(
                    select(WebhookDelivery)
                    .where(
                        WebhookDelivery.endpoint_id == endpoint.id,
                        WebhookDelivery.status == "PENDING",
                    )
                    .order_by(WebhookDelivery.id)
                    .limit(1)
                )
                viewer = await build_viewer(session=session, principal=principal)
                if open_delivery is None:
                    rows = await feed.read_after(
                        session=session, after=endpoint.position, limit=50, kinds=kinds_of(endpoint)
                    )
                    if not rows:
                        return None
                    visible = await delivery.visible(session=session, viewer=viewer, events=rows)
                    if not visible:
                        endpoint.position = int(rows[-1].position or endpoint.position)
                        continue  # none of these is the owner's to read: skip them
                    event = visible[0].event
                    position = int(event.position or 0)
                    open_delivery = WebhookDelivery(
                        endpoint_id=endpoint.id,
                        event_position=position,
                        message_id=f"msg_{position}_{secrets.token_hex(6)}",
                        status="PENDING",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    session.add(open_delivery)
                    endpoint.position = position - 1
                    await session.flush()
                    granted = visible[0]
                else:
                    due = open_delivery.next_attempt_at
                    if due is not None and due > now:
                        return None
                    found = await session.scalar(
                        select(Event).where(Event.position == open_delivery.event_position)
                    )
                    if found is None:  # pruned under it: nothing left to deliver
                        return None
                    event = found
                    checked = (
                        await delivery.visible(session=session, viewer=viewer, events=[event])
                        if event is not None
                        else []
                    )
                    if not checked:
                        # Purged, or no longer the owner's to read (a consent revoked).
                        open_delivery.status = "WITHHELD"
                        open_delivery.finished_at = now
                        endpoint.position = max(endpoint.position, open_delivery.event_position)
                        continue
                    granted = checked[0]
                body = json.dumps(
                    {
                        "type": event.kind,
                        "timestamp": event.occurred_at.isoformat(),
                        "data": wire.document(event),
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                ).encode("utf-8")
                return _Send(
                    delivery_id=open_delivery.id,
                    url=endpoint.url,
                    secret=endpoint.secret,
                    message_id=open_delivery.message_id,
                    body=body,
                    position=open_delivery.event_position,
                    principal=principal,
                    enterprises=tuple(event.enterprise_codes),
                    record=f"{event.standard_id}:{event.record_key}",
                    consent_id=granted.consent_id,
                    registry=EventKind(event.kind) in STANDARD_KINDS,
                )

    async def _attempt(self, send: _Send) -> None:
        status_code: int | None = None
        error: str | None = None
        try:
            await urls.check(send.url, self.settings)
            response = await self.http.post(
                send.url,
                content=send.body,
                headers=signing.headers(
                    secret=send.secret,
                    message_id=send.message_id,
                    timestamp=int(time.time()),
                    body=send.body,
                ),
            )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"the receiver answered {status_code}"
        except urls.UrlRefused as refused:
            error = refused.message
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = datetime.now(UTC)
        async with unit_of_work(self.session_factory) as session:
            row = await session.get(WebhookDelivery, send.delivery_id, with_for_update=True)
            endpoint = await session.get(WebhookEndpoint, row.endpoint_id) if row else None
            if row is None or endpoint is None or row.status != "PENDING":
                return  # replayed or abandoned meanwhile
            row.attempts += 1
            row.last_status_code = status_code
            row.last_error = error
            if error is None:
                row.status = "DELIVERED"
                row.finished_at = now
                row.next_attempt_at = None
                endpoint.position = max(endpoint.position, send.position)
                await self._record_access(session, send, now)
            elif row.attempts >= self.settings.webhook_max_attempts:
                row.status = "DEAD"
                row.finished_at = now
                row.next_attempt_at = None
                endpoint.position = max(endpoint.position, send.position)
            else:
                row.next_attempt_at = now + backoff(
                    attempts=row.attempts, base_ms=self.settings.webhook_retry_base_ms
                )

    async def _record_access(self, session: AsyncSession, send: _Send, now: datetime) -> None:
        recorder = AccessRecorder()
        if not send.registry:
            recorder.touch(
                enterprises=send.enterprises, records=(send.record,), consent_id=send.consent_id
            )
        recorder.returned_data = True
        name = f"webhook {send.message_id}"
        operation = audit_log.Operation("webhook", name, hashlib.sha256(send.body).hexdigest())
        event = audit_log.build_event(
            principal=send.principal,
            recorder=recorder,
            operation=operation,
            purpose=None,
            occurred_at=now,
        )
        await audit_log.record(session=session, event=event)
