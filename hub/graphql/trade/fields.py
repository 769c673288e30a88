"""Graph fields tagged with their data category: enforced, masked and documented in one go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension

from hub.access.masking import mask_personal
from hub.access.policy import Category, Grant, describe, scopes_for
from hub.graphql.context import Forbidden, Info
from hub.standards.categories import shipped_category


class CategoryForbidden(Forbidden):
    """A field outside the caller's categories: null, with a FORBIDDEN error naming it."""

    def __init__(self, category: Category):
        super().__init__(f"not readable for this caller: data category '{category.value}'")
        self.extensions = {"code": "FORBIDDEN", "category": category.value}


class CategoryGuard(FieldExtension):
    """Resolves a field only when the node's grant covers its category; masks personal data."""

    def __init__(self, category: Category, *, address: bool = False, source: str | None = None):
        self.category = category
        self.address = address
        self.source = source  # the standard's property the category was read from
        # The property's name: personal fields are granted one by one (authority table).
        self.field = source.rsplit("/", 1)[-1] if source else None

    def allows(self, grant: Grant) -> bool:
        """True when the field resolves under `grant` (the compiled path plans with it)."""
        return grant.allows(self.category, field=self.field)

    def masks(self, grant: Grant) -> bool:
        """True when the field's value is masked under `grant`."""
        return self.category is Category.PERSONAL and not grant.personal_in_clear

    def finish(self, grant: Grant, value: Any) -> Any:
        """The value as the caller sees it under `grant`: masked where `masks` says so."""
        if self.masks(grant):
            return mask_personal(value, address=self.address)
        return value

    def _check(self, source: Any) -> Grant:
        grant: Grant = source.grant
        if not self.allows(grant):
            raise CategoryForbidden(self.category)
        return grant

    def _finish(self, grant: Grant, value: Any) -> Any:
        return self.finish(grant, value)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        grant = self._check(source)
        return self._finish(grant, next_(source, info, **kwargs))

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        grant = self._check(source)
        return self._finish(grant, await next_(source, info, **kwargs))


class ListGuard(CategoryGuard):
    """A list of an enterprise's records under its node: resolves when the caller may list
    that category of the enterprise's records at all (`source.lists`: its department, its
    own enterprise, a consent of that enterprise); each listed node then has its own grant."""

    def _check(self, source: Any) -> Grant:
        if self.category not in source.lists:
            raise CategoryForbidden(self.category)
        grant: Grant = source.grant
        return grant


def source_category(source: str) -> tuple[Category, bool]:
    """The category a shipped standard gives a property (`cbec.order:/goodsValue`), and
    whether it is an address (masked as one)."""
    standard_id, _, path = source.partition(":")
    name = path.rsplit("/", 1)[-1]
    return shipped_category(standard_id, path), "address" in name.lower()


def guarded(
    category: Category | None = None,
    *,
    source: str | None = None,
    description: str = "",
    resolver: Any = None,
    listing: bool = False,
) -> Any:
    """A field with @requiresScopes in the SDL, enforced and masked at run time.

    A field that shows a declared property names it as `source` ("cbec.order:/goodsValue",
    lines as "/items/*/price") and takes its category from the standard's annotation: the
    standard is the one place the category is written. Only fields the hub computes
    (match results, risk flags, links to other documents) name a `category` themselves."""
    if (category is None) == (source is None):
        raise TypeError("a guarded field names either its source property or its category")
    address = False
    if source is not None:
        category, address = source_category(source)
        standard_id, _, path = source.partition(":")
        description = f"{description} From {standard_id} `{path}`.".strip()
    assert category is not None
    text = f"{description} {describe(category)}".strip()
    kwargs: dict[str, Any] = {
        "description": text,
        "extensions": [
            (ListGuard if listing else CategoryGuard)(category, address=address, source=source)
        ],
        "requires_scopes": scopes_for(category),
    }
    if resolver is not None:
        kwargs["resolver"] = resolver
    return strawberry.federation.field(**kwargs)
