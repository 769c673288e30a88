"""`me`: who the caller is, as the hub sees its token."""

from __future__ import annotations

import strawberry

from hub.graphql.context import Info


@strawberry.type(description="The authenticated client behind the bearer token.")
class Me:
    client_id: str
    name: str
    scopes: list[str]
    enterprise_code: str | None = strawberry.field(
        description="The enterprise (USCC or customs code) the client is bound to, if any."
    )
    issuer: str


@strawberry.type
class MeQuery:
    @strawberry.field(description="The caller: client id, name, granted scopes, enterprise.")
    def me(self, info: Info) -> Me:
        principal = info.context.principal
        return Me(
            client_id=principal.client_id,
            name=principal.name,
            scopes=sorted(s.value for s in principal.scopes),
            enterprise_code=principal.enterprise_code,
            issuer=principal.issuer,
        )
