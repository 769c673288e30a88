"""Signing keys: generated on first start, kept in the database, published as JWKS."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.models import SigningKey

# Unknown key ids trigger a reload from the database (another process may have rotated),
# but not more often than this, so random kids cannot hammer the database.
_RELOAD_INTERVAL_SECONDS = 5.0


def generate_key(alg: str) -> ECKey | RSAKey:
    """Generates a private signing key for ES256 or RS256 with its thumbprint as kid."""
    params: dict[str, Any] = {"alg": alg, "use": "sig"}
    key: ECKey | RSAKey
    if alg == "ES256":
        key = ECKey.generate_key("P-256", parameters=params, private=True)  # type: ignore[arg-type]
    elif alg == "RS256":
        key = RSAKey.generate_key(2048, parameters=params, private=True)  # type: ignore[arg-type]
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    key.ensure_kid()
    return key


def _import(jwk: str) -> ECKey | RSAKey:
    data = json.loads(jwk)
    return ECKey.import_key(data) if data["kty"] == "EC" else RSAKey.import_key(data)


@dataclass
class KeyStore:
    """The process's cache of signing keys; the database is the source of truth."""

    session_factory: async_sessionmaker[AsyncSession]
    alg: str
    _signing: ECKey | RSAKey | None = None
    _public: dict[str, ECKey | RSAKey] = field(default_factory=dict)
    _loaded_at: float = 0.0

    async def ensure_key(self) -> None:
        """Loads the keys, creating the first one if the database has none."""
        async with self.session_factory() as session, session.begin():
            await _serialise_key_creation(session)
            active = await session.scalar(
                select(SigningKey).where(SigningKey.retired_at.is_(None)).limit(1)
            )
            if active is None:
                await add_key(session=session, alg=self.alg)
        await self.reload()

    async def reload(self) -> None:
        """Re-reads the keys from the database."""
        async with self.session_factory() as session:
            rows = await published_keys(session=session)
        self._public = {row.kid: _import(row.public_jwk) for row in rows}
        signing = [row for row in rows if row.retired_at is None]
        self._signing = _import(signing[-1].private_jwk) if signing else None
        self._loaded_at = time.monotonic()

    def signing_key(self) -> ECKey | RSAKey:
        """The key that signs new tokens."""
        if self._signing is None:
            raise RuntimeError("no signing key loaded: call KeyStore.ensure_key() at start-up")
        return self._signing

    def public_keyset(self) -> KeySet:
        """Every key whose signatures are still accepted."""
        return KeySet(list(self._public.values()))

    def jwks(self) -> dict[str, list[dict[str, object]]]:
        """The JWKS document served at /.well-known/jwks.json."""
        keys: list[dict[str, object]] = [
            dict(key.as_dict(private=False)) for key in self._public.values()
        ]
        return {"keys": keys}

    def knows(self, kid: str | None) -> bool:
        """True when the kid is among the cached public keys."""
        return kid is not None and kid in self._public

    async def reload_if_stale(self) -> bool:
        """Reloads when the cache is older than the reload interval; True if it did."""
        if time.monotonic() - self._loaded_at < _RELOAD_INTERVAL_SECONDS:
            return False
        await self.reload()
        return True


# Several workers start at once on a fresh database; without a lock each would see no key
# and create its own, and tokens of one would be unknown to the others for a while.
_KEY_LOCK_ID = 0x4B455953


async def _serialise_key_creation(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _KEY_LOCK_ID})
    else:
        # A write statement takes SQLite's write lock at once (even affecting no rows), so
        # the check-then-insert below runs one process at a time.
        await session.execute(text("DELETE FROM signing_keys WHERE 1 = 0"))


async def add_key(*, session: AsyncSession, alg: str) -> SigningKey:
    """Adds a new signing key; it signs from the next reload on."""
    key = generate_key(alg)
    row = SigningKey(
        kid=key.kid,
        alg=alg,
        private_jwk=json.dumps(key.as_dict(private=True)),
        public_jwk=json.dumps(key.as_dict(private=False)),
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return row


async def rotate(*, session: AsyncSession, alg: str) -> SigningKey:
    """Adds a new key and retires the others; they stay published until their tokens expire."""
    now = datetime.now(UTC)
    for old in await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        old.retired_at = now
    return await add_key(session=session, alg=alg)


async def published_keys(*, session: AsyncSession) -> list[SigningKey]:
    """Every key, retired ones included: a retired key stops signing but keeps verifying.

    Access tokens expire within HUB_TOKEN_TTL, but consents a key signed stay verifiable
    for as long as they last (months), so a retired public key stays in the JWKS. Tokens
    signed by it are still refused once their own `exp` has passed.
    """
    rows = await session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid))
    return list(rows)
