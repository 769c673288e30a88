"""Federation `_entities`: every representation is checked before it reaches a resolver.

A router sends well-formed representations, but anyone can call `_entities` directly:
without `__typename`, with a type that is no entity, without the `@key` fields, or with
keys that are not strings. strawberry hands such a representation to `resolve_reference`
as keyword arguments (a KeyError there) or fails the whole list, which the masking turned
into an "internal error" (a 500-class answer). Here each bad representation becomes a
BAD_USER_INPUT error at its own index and the others still resolve.
"""

from __future__ import annotations

from typing import Any

from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from hub.graphql.context import BadInput


def key_fields(definition: Any) -> list[str] | None:
    """The fields of an entity type's `@key` directives (None: not an entity)."""
    fields: list[str] = []
    for directive in getattr(definition, "directives", None) or ():
        if isinstance(directive, Key):
            fields.extend(str(directive.fields).split())
    return fields or None


class HubSchema(Schema):
    """The federation schema whose `_entities` refuses malformed representations one by one."""

    def _check(self, index: int, representation: Any) -> dict[str, Any] | BadInput:
        where = f"representations[{index}]"
        if not isinstance(representation, dict):
            return BadInput(f"{where} must be an object with __typename and the key fields")
        type_name = representation.get("__typename")
        type_map = self.schema_converter.type_map
        definition = getattr(type_map.get(str(type_name)), "definition", None)
        keys = key_fields(definition)
        if keys is None or not hasattr(getattr(definition, "origin", None), "resolve_reference"):
            return BadInput(f"{where}: __typename must name an entity type")
        missing = [k for k in keys if not isinstance(representation.get(k), str)]
        if missing:
            return BadInput(
                f"{where}: a {type_name} is identified by {' '.join(keys)}; "
                f"give {', '.join(missing)} as strings"
            )
        return {"__typename": type_name, **{k: representation[k] for k in keys}}

    # strawberry reads this signature to build the `_entities` field: keep its types.
    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        checked = [self._check(i, r) for i, r in enumerate(representations)]
        valid = [c for c in checked if not isinstance(c, BadInput)]
        resolved = iter(super().entities_resolver(info, valid) if valid else [])  # type: ignore[arg-type]
        # A refused representation stands in its place (strawberry reports it as its error).
        return [c if isinstance(c, BadInput) else next(resolved) for c in checked]  # type: ignore[misc]
