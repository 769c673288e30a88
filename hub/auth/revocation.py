"""Revoked access tokens: one by its `jti` (RFC 7009), or every token a client held.

The hub's tokens are self-contained JWTs, so a revocation is a fact the bearer check must
look up: one primary-key read of the client row (disabled? tokens revoked since?) joined
with the revoked-`jti` table, per request, no process cache (a revocation holds at once
on every instance). A revoked `jti` is kept until the token would have expired anyway;
later revocations delete the rows whose tokens have expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.models import Client, RevokedToken


@dataclass(frozen=True)
class TokenState:
    """Why a signed, unexpired hub token is (not) live."""

    live: bool
    reason: str = ""


async def state(
    *, session: AsyncSession, client_id: str, jti: str | None, issued_at: datetime
) -> TokenState:
    """Whether a hub token of `client_id` with this `jti` and issue time may still be used."""
    revoked = (
        select(RevokedToken.jti).where(RevokedToken.jti == jti).scalar_subquery() if jti else None
    )
    columns: list[Any] = [Client.disabled_at, Client.tokens_revoked_at]
    if revoked is not None:
        columns.append(revoked.label("revoked"))
    row = (await session.execute(select(*columns).where(Client.client_id == client_id))).first()
    if row is None:
        return TokenState(False, "the token's client no longer exists")
    if row.disabled_at is not None:
        return TokenState(False, "the token's client is disabled")
    # `iat` has whole seconds: a token issued in the second of the revocation is refused too.
    if row.tokens_revoked_at is not None and issued_at <= row.tokens_revoked_at:
        return TokenState(False, "the token was revoked")
    if revoked is not None and row.revoked is not None:
        return TokenState(False, "the token was revoked")
    return TokenState(True)


async def revoke(*, session: AsyncSession, jti: str, client_id: str, expires_at: datetime) -> None:
    """Revokes one token by its `jti` (idempotent); forgets revocations that have expired."""
    now = datetime.now(UTC)
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # Two revocations of one token may race; the second is a no-op, not a conflict.
    await session.execute(
        dialect.insert(RevokedToken)
        .values(jti=jti, client_id=client_id, expires_at=expires_at, revoked_at=now)
        .on_conflict_do_nothing(index_elements=[RevokedToken.jti])
    )


def revoke_all(*, client: Client) -> None:
    """Revokes every token the client holds now; tokens issued later are not affected."""
    client.tokens_revoked_at = datetime.now(UTC)
