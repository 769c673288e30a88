"""The events' part of a hub process: the sequencer, the readers' waker, the dispatchers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.config import Settings
from hub.events.feed import Waker
from hub.events.sequencer import EventSequencer, Follower
from hub.events.webhooks.dispatcher import WebhookDispatcher


@dataclass
class EventsRuntime:
    """Started with the app; every subscription of the process shares it."""

    settings: Settings
    # Consumers the leading sequencer runs after each round (wired in hub/runtime.py).
    followers: Sequence[Follower] = ()
    waker: Waker = field(default_factory=Waker)
    sequencer: EventSequencer | None = None
    webhooks: WebhookDispatcher | None = None

    @property
    def poll_seconds(self) -> float:
        """How long a reader waits for a wake-up before it looks at the log itself."""
        return self.settings.events_poll_ms / 1000

    async def start(self, *, session_factory: async_sessionmaker[AsyncSession]) -> None:
        """Starts the sequencer and the webhook dispatcher (when this process runs them)."""
        if self.settings.events_sequencer:
            self.sequencer = EventSequencer(
                session_factory=session_factory,
                interval=self.settings.events_interval_ms / 1000,
                batch=self.settings.events_batch,
                retention=timedelta(days=self.settings.events_retention_days),
                on_advance=self.waker.advance,
                followers=self.followers,
            )
            self.sequencer.start()
        if self.settings.webhook_dispatcher:
            self.webhooks = WebhookDispatcher(
                session_factory=session_factory, settings=self.settings
            )
            self.webhooks.start()

    async def stop(self) -> None:
        """Stops the dispatcher and the sequencer (running rounds complete first)."""
        if self.webhooks is not None:
            await self.webhooks.stop()
            self.webhooks = None
        if self.sequencer is not None:
            await self.sequencer.stop()
            self.sequencer = None
