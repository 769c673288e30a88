"""Shared helpers of the events tests: waiting for the sequencer, reading the log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.events.models import Event
from tests.builders.parties import Actors

GRANT = """
mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id status } errors { code message } }
}"""
REVOKE = """
mutation($id: ID!) { revokeConsent(id: $id) { consent { status } errors { code } } }
"""


async def settled(
    session_factory: async_sessionmaker[AsyncSession], *, timeout: float = 10.0
) -> list[Event]:
    """Every event, once the sequencer has numbered all of them, in position order."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with session_factory() as session:
            pending = (
                await session.execute(
                    select(func.count()).select_from(Event).where(Event.position.is_(None))
                )
            ).scalar_one()
            if not pending:
                return list(await session.scalars(select(Event).order_by(Event.position)))
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{pending} events still unsequenced after {timeout} s")
        await asyncio.sleep(0.05)


async def grant_consent(
    actors: Actors, *, enterprise: str, bank_scopes: str = "finance:read", **overrides: Any
) -> str:
    """The enterprise grants the bank client (`bank_scopes`) a consent; returns its id."""
    await actors.reader(bank_scopes)
    variables = {
        "input": {
            "bank": actors.client_ids[bank_scopes],
            "categories": ["ORDER", "PAYMENT", "REGISTRATION", "CLEARANCE"],
            "purpose": "working-capital loan review",
            "dataFrom": "2000-01-01",
            "dataTo": "2099-12-31",
            "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            **overrides,
        }
    }
    body = await actors.query(GRANT, as_=enterprise, variables=variables)
    assert body["data"]["grantConsent"]["errors"] == [], body
    return str(body["data"]["grantConsent"]["consent"]["id"])


async def revoke_consent(actors: Actors, *, enterprise: str, consent_id: str) -> None:
    """The enterprise revokes its consent."""
    body = await actors.query(REVOKE, as_=enterprise, variables={"id": consent_id})
    assert body["data"]["revokeConsent"]["errors"] == [], body
