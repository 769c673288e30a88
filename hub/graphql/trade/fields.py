"""Graph fields tagged with their data category: enforced, masked and documented in one go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension

from hub.access.masking import mask, mask_address
from hub.access.policy import Category, Grant, describe, scopes_for
from hub.graphql.context import Forbidden, Info


class CategoryForbidden(Forbidden):
    """A field outside the caller's categories: null, with a FORBIDDEN error naming it."""

    def __init__(self, category: Category):
        super().__init__(f"not readable for this caller: data category '{category.value}'")
        self.extensions = {"code": "FORBIDDEN", "category": category.value}


class CategoryGuard(FieldExtension):
    """Resolves a field only when the node's grant covers its category; masks personal data."""

    def __init__(self, category: Category, *, address: bool = False):
        self.category = category
        self.address = address

    def _check(self, source: Any) -> Grant:
        grant: Grant = source.grant
        if not grant.allows(self.category):
            raise CategoryForbidden(self.category)
        return grant

    def _finish(self, grant: Grant, value: Any) -> Any:
        if self.category is Category.PERSONAL and not grant.personal_in_clear:
            return mask_address(value) if self.address else mask(value)
        return value

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        grant = self._check(source)
        return self._finish(grant, next_(source, info, **kwargs))

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        grant = self._check(source)
        return self._finish(grant, await next_(source, info, **kwargs))


def guarded(
    category: Category,
    *,
    description: str = "",
    resolver: Any = None,
    address: bool = False,
) -> Any:
    """A field of `category`: @requiresScopes in the SDL, enforced and masked at run time."""
    text = f"{description} {describe(category)}".strip()
    kwargs: dict[str, Any] = {
        "description": text,
        "extensions": [CategoryGuard(category, address=address)],
        "requires_scopes": scopes_for(category),
    }
    if resolver is not None:
        kwargs["resolver"] = resolver
    return strawberry.federation.field(**kwargs)
