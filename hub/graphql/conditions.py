"""Conditions look at data: filtering, grouping or ordering by a field needs its category.

A filter is an oracle on the field it tests: `orders(filter: {customsStatus: 800})` tells a
caller which orders were released even if `customsStatus` itself is refused to it. So every
argument that looks at data names the category of what it looks at (read from the
standards' `x-hub-category`, like the graph fields), and:

- a caller who can read that category of no record at all (a department outside it, a bank
  whose consents never name it, a supervisor) is refused before anything runs: FORBIDDEN,
  naming the argument and the category (`require_readable`);
- a caller who reads it on some records only (a bank consented per enterprise, an
  enterprise per role) gets only the records it reads that category of (`grant_covers`):
  a record the condition cannot be told on is left out whether it matches or not, so the
  answer says nothing about the field on records the caller may not read it of.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.access.policy import OWN_ENTERPRISE_CATEGORIES, Category, Grant
from hub.access.viewer import Viewer
from hub.graphql.context import Forbidden
from hub.graphql.trade.fields import CategoryGuard


@dataclass(frozen=True)
class Use:
    """One argument that looks at data, and the category of what it looks at."""

    argument: str  # as the API spells it: `filter.customsStatus`, `groupBy: MONTH`
    category: Category

    @classmethod
    def on(cls, argument: str, node: type, field: str) -> Use:
        """The argument looks at what the graph field `node.field` shows: its category is
        that field's (from its standard's annotation, or the hub's own for what it
        computes), so a condition can never be laxer than the field it tests."""
        return cls(argument, field_category(node, field))


def field_category(node: type, field: str) -> Category:
    """The category a guarded graph field is declared with (see `guarded`)."""
    definition = node.__strawberry_definition__  # type: ignore[attr-defined]
    for candidate in definition.fields:
        if candidate.python_name == field:
            for extension in candidate.extensions:
                if isinstance(extension, CategoryGuard):
                    return extension.category
    raise LookupError(f"{node.__name__}.{field} is no guarded field")


class ConditionForbidden(Forbidden):
    """A condition on a category the caller may not read: refused, nothing computed."""

    def __init__(self, use: Use):
        super().__init__(
            f"{use.argument} looks at data category '{use.category.value}', which this "
            "caller may not read"
        )
        self.extensions = {
            "code": "FORBIDDEN",
            "category": use.category.value,
            "argument": use.argument,
        }


def readable_anywhere(viewer: Viewer) -> frozenset[Category]:
    """Every category the caller reads of at least one record (the most it could test)."""
    categories = set(viewer.department)
    if viewer.enterprise:
        categories |= OWN_ENTERPRISE_CATEGORIES
    for active in viewer.consents.values():
        categories |= active.categories
    if viewer.personal_in_clear:
        categories.add(Category.PERSONAL)
    return frozenset(categories)


def require_readable(uses: Iterable[Use], readable: frozenset[Category]) -> None:
    """Raises ConditionForbidden for the first use outside `readable`. Personal data is
    never a condition for a reader who sees it masked: a filter would unmask it."""
    for use in uses:
        if use.category not in readable:
            raise ConditionForbidden(use)


def grant_covers(grant: Grant, uses: Iterable[Use]) -> bool:
    """True when the record's grant reads every category the conditions look at."""
    return all(_reads(grant, use.category) for use in uses)


def _reads(grant: Grant, category: Category) -> bool:
    if category is Category.PERSONAL:
        return grant.personal_in_clear  # masked values cannot be tested
    return category in grant.categories
