"""Signing keys: one first key however many processes start at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from hub.auth.keys import KeyStore
from hub.auth.models import SigningKey
from hub.config import Settings
from hub.db import create_engine, create_session_factory


async def test_concurrent_first_starts_create_exactly_one_key(settings: Settings) -> None:
    engines = [create_engine(settings) for _ in range(4)]
    try:
        stores = [KeyStore(session_factory=create_session_factory(e), alg="ES256") for e in engines]
        await asyncio.gather(*(store.ensure_key() for store in stores))
        async with create_session_factory(engines[0])() as session:
            count = await session.scalar(select(func.count()).select_from(SigningKey))
        assert count == 1
        kids = {store.signing_key().kid for store in stores}
        assert len(kids) == 1
    finally:
        for engine in engines:
            await engine.dispose()
