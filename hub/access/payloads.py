"""Raw payloads as one caller may read them: only the categories its grant covers.

A stored record is cut down by the category tree of its standard version
(`hub.standards.categories`) and the caller's grant on that record (`hub.access.viewer`):
fields of categories the grant does not cover are removed, personal fields are masked
without pii:read, and properties the standard declares no category for (possible under an
open content model, or in a version published before annotations existed) are shown only
to a reader who may read every category in clear. What was left out is reported, so a
reader can tell a removed field from an absent one. Raw payloads in GraphQL and in exports
go through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.access.masking import mask_personal
from hub.access.policy import Category, Grant
from hub.standards.categories import FieldCategories

_ALL_BUT_PERSONAL = frozenset(c for c in Category if c is not Category.PERSONAL)


@dataclass(frozen=True)
class ReadablePayload:
    """A payload as the caller may read it, and what was left out of it."""

    value: Any | None  # None when the caller may read nothing of the record
    withheld: frozenset[Category]  # categories whose fields were removed
    masked: bool  # personal fields were masked
    undeclared: bool  # properties without a declared category were removed

    @property
    def complete(self) -> bool:
        """True when the caller reads the record exactly as it was declared."""
        return not (self.withheld or self.masked or self.undeclared)


@dataclass
class _Cut:
    grant: Grant | None
    withheld: set[Category] = field(default_factory=set)
    masked: bool = False
    undeclared: bool = False

    @property
    def reads_everything(self) -> bool:
        return (
            self.grant is not None
            and self.grant.personal_in_clear
            and self.grant.categories >= _ALL_BUT_PERSONAL
        )

    def value(self, value: Any, node: FieldCategories | None) -> Any:
        if isinstance(value, dict):
            return self.object(value, node)
        if isinstance(value, list):
            items = node.items if node is not None else None
            if items is None:
                return value  # a leaf list (its category was checked at the property)
            return [self.value(v, items) for v in value]
        return value

    def object(self, value: dict[str, Any], node: FieldCategories | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, child_value in value.items():
            child = node.child(name) if node is not None else None
            category = child.category if child is not None else None
            if category is None:
                if self.reads_everything:
                    out[name] = child_value
                else:
                    self.undeclared = True
                continue
            if self.grant is None or not self.grant.allows(category, field=name):
                self.withheld.add(category)
                continue
            if category is Category.PERSONAL and not self.grant.personal_in_clear:
                out[name] = mask_personal(child_value, address="address" in name.lower())
                self.masked = True
                continue
            out[name] = self.value(child_value, child)
        return out


def readable_payload(
    payload: Any, *, categories: FieldCategories | None, grant: Grant | None
) -> ReadablePayload:
    """The payload cut down to what `grant` reads; a None grant reads nothing of it."""
    cut = _Cut(grant)
    value = cut.value(payload, categories)
    return ReadablePayload(
        value=value if grant is not None else None,
        withheld=frozenset(cut.withheld),
        masked=cut.masked,
        undeclared=cut.undeclared,
    )
