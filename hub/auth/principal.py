"""The authenticated caller as GraphQL and the services see it."""

from __future__ import annotations

from dataclasses import dataclass

from hub.auth.scopes import Scope


@dataclass(frozen=True)
class Principal:
    """Who is calling: the OAuth2 client, its granted scopes and bound enterprise."""

    client_id: str
    name: str
    scopes: frozenset[Scope]
    enterprise_code: str | None
    issuer: str
    token_id: str | None = None

    def has(self, scope: Scope) -> bool:
        """True when the token grants the scope."""
        return scope in self.scopes
