"""A stored client as a principal, for work done on its behalf outside a request (webhook
deliveries, exports)."""

from __future__ import annotations

import contextlib

from hub.auth.models import Client
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.config import Settings


def principal_of(client: Client, settings: Settings) -> Principal | None:
    """The endpoint owner as a principal, from its client row (None: disabled)."""
    if client.disabled_at is not None:
        return None
    scopes = set()
    for name in client.scopes.split():
        with contextlib.suppress(ValueError):
            scopes.add(Scope(name))
    return Principal(
        client_id=client.client_id,
        name=client.name,
        scopes=frozenset(scopes),
        enterprise_code=client.enterprise_code,
        issuer=settings.issuer,
    )
