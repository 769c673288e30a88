"""Service functions for OAuth2 clients: create, look up, list, disable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import revocation
from hub.auth.models import Client
from hub.auth.scopes import Scope, format_scopes, parse_scopes
from hub.standards.formats import describe_enterprise_code_problem

_HASH_PREFIX = "sha256$"
# Every hub client id starts with this; external identity providers may not use it, so an
# external token can never name a hub client (see hub.auth.tokens).
CLIENT_ID_PREFIX = "hub_"


class ClientError(ValueError):
    """A client cannot be created or changed as asked."""


@dataclass(frozen=True)
class ClientCredentials:
    """A newly created client: the secret is shown once and never stored in clear."""

    client_id: str
    client_secret: str
    name: str
    scopes: tuple[Scope, ...]
    enterprise_code: str | None


def hash_secret(secret: str) -> str:
    """Hashes a client secret for storage."""
    # Secrets are 256-bit random values the hub generates, not passwords people pick, so
    # a fast hash is as strong as a slow KDF here and keeps the token endpoint cheap.
    return _HASH_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(*, secret: str, secret_hash: str) -> bool:
    """Compares a presented secret with a stored hash in constant time."""
    return hmac.compare_digest(hash_secret(secret), secret_hash)


async def create(
    *,
    session: AsyncSession,
    name: str,
    scopes: str,
    enterprise_code: str | None = None,
) -> ClientCredentials:
    """Creates a client and returns its id and one-time secret."""
    parsed = parse_scopes(scopes)
    if not parsed:
        raise ClientError("a client needs at least one scope")
    if not name.strip():
        raise ClientError("a client needs a name")
    if Scope.DECLARE in parsed and not enterprise_code:
        raise ClientError("a client with scope 'declare' must be bound to an enterprise")
    if enterprise_code is not None:
        problem = describe_enterprise_code_problem(enterprise_code)
        if problem is not None:
            raise ClientError(f"enterprise code {enterprise_code!r}: {problem}")
    client_id = CLIENT_ID_PREFIX + secrets.token_hex(10)
    secret = secrets.token_urlsafe(32)
    session.add(
        Client(
            client_id=client_id,
            secret_hash=hash_secret(secret),
            name=name.strip(),
            scopes=format_scopes(parsed),
            enterprise_code=enterprise_code,
            created_at=datetime.now(UTC),
        )
    )
    await session.flush()
    return ClientCredentials(
        client_id=client_id,
        client_secret=secret,
        name=name.strip(),
        scopes=parsed,
        enterprise_code=enterprise_code,
    )


async def get(*, session: AsyncSession, client_id: str) -> Client | None:
    """Gets a client by its client_id."""
    return await session.scalar(select(Client).where(Client.client_id == client_id))


async def list_all(*, session: AsyncSession) -> list[Client]:
    """Lists every client, oldest first."""
    return list(await session.scalars(select(Client).order_by(Client.id)))


async def reset_secret(*, session: AsyncSession, client_id: str) -> str:
    """Gives a client a new secret (returned once); the old secret stops working."""
    client = await get(session=session, client_id=client_id)
    if client is None:
        raise ClientError(f"no client {client_id!r}")
    secret = secrets.token_urlsafe(32)
    client.secret_hash = hash_secret(secret)
    await session.flush()
    return secret


async def disable(*, session: AsyncSession, client_id: str) -> Client:
    """Disables a client: it gets no tokens, and the tokens it holds stop working at once."""
    client = await get(session=session, client_id=client_id)
    if client is None:
        raise ClientError(f"no client {client_id!r}")
    if client.disabled_at is None:
        client.disabled_at = datetime.now(UTC)
        revocation.revoke_all(client=client)
    return client


async def enable(*, session: AsyncSession, client_id: str) -> Client:
    """Re-enables a disabled client; tokens it held before it was disabled stay revoked."""
    client = await get(session=session, client_id=client_id)
    if client is None:
        raise ClientError(f"no client {client_id!r}")
    client.disabled_at = None
    return client
