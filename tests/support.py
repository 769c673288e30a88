"""Helpers shared by tests (import as `tests.support`)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

TEST_ISSUER = "http://hub.test"


@dataclass(frozen=True)
class RegisteredClient:
    """An OAuth2 client created for a test, with its one-time secret."""

    client_id: str
    client_secret: str


def _b64json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def jwt_header(token: str) -> dict[str, Any]:
    """The unverified header of a JWT."""
    return _b64json(token.split(".")[0])


def jwt_claims(token: str) -> dict[str, Any]:
    """The unverified claims of a JWT."""
    return _b64json(token.split(".")[1])


async def log_integrated(app: Any, *, timeout: float = 15.0) -> int:
    """Integrates every pending log entry (or waits for the app's sequencer to, where one
    leads) and returns the tree size. Chain links and proofs exist only for integrated
    declarations; most tests run without a background sequencer (tests/conftest.py)."""
    import asyncio

    from sqlalchemy import func, select

    from hub.log.models import LogEntry

    runtime = app.state.runtime
    await runtime.log.integrate_pending(session_factory=runtime.session_factory)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with runtime.session_factory() as session:
            pending = await session.scalar(
                select(func.count()).select_from(LogEntry).where(LogEntry.leaf_index.is_(None))
            )
            if not pending:
                size = await session.scalar(select(func.count()).select_from(LogEntry))
                return int(size or 0)
        if loop.time() > deadline:
            raise AssertionError(f"{pending} log entries still pending after {timeout}s")
        await asyncio.sleep(0.05)
