"""The authenticated caller as GraphQL and the services see it."""

from __future__ import annotations

from dataclasses import dataclass

from hub.auth.scopes import Scope


@dataclass(frozen=True)
class Principal:
    """Who is calling: the OAuth2 client, its granted scopes and bound enterprise.

    A principal is the pair (issuer, client id): a client of an external identity provider
    whose id happens to equal a hub client's is another principal. `external` is set by the
    token verifier for tokens the hub did not issue.
    """

    client_id: str
    name: str
    scopes: frozenset[Scope]
    enterprise_code: str | None
    issuer: str
    token_id: str | None = None
    external: bool = False

    def has(self, scope: Scope) -> bool:
        """True when the token grants the scope."""
        return scope in self.scopes

    @property
    def issuer_key(self) -> str | None:
        """The issuer as stored beside a client id: None for the hub's own clients.

        The hub's own clients are stored without their issuer so that changing HUB_ISSUER
        does not orphan their consents and log entries; an external principal always
        carries its issuer, so it can never match a hub client's row.
        """
        return self.issuer if self.external else None
