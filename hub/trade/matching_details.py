"""Discrepancy details as one reader may read them: only the values of its categories.

A discrepancy's code and its wording are clearance data (the match result); the values it
quotes are data of the documents they come from (`acturalPaid 654.60 ≠ amountPaid 600.00`
quotes order and payment amounts). Each quoted value is stored with its categories
(`matching.Fact`); a reader who may not read all of them sees `[order withheld]` in its
place. Personal values are masked without pii:read (matching quotes none today). A stored
discrepancy without facts (written before facts existed, or by a rule that records none) is
shown in full only to a reader of every category; others get its code and a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.access.masking import mask_personal
from hub.access.policy import Category, Grant

_ALL_BUT_PERSONAL = frozenset(c for c in Category if c is not Category.PERSONAL)
UNDETAILED = "details withheld: recorded without per-category values"


def _value(fact: Mapping[str, Any], grant: Grant) -> str:
    categories = {Category(c) for c in fact.get("categories", ())}
    text = str(fact.get("text", ""))
    withheld = sorted(
        c.value for c in categories if c is not Category.PERSONAL and c not in grant.categories
    )
    if withheld:
        return f"[{', '.join(withheld)} withheld]"
    if Category.PERSONAL in categories and not grant.personal_in_clear:
        return str(mask_personal(text))
    return text


def readable_detail(stored: Mapping[str, Any], grant: Grant) -> str:
    """The detail of a stored discrepancy with the values `grant` may not read withheld."""
    template = stored.get("template")
    facts = stored.get("facts")
    if not isinstance(template, str) or not isinstance(facts, list):
        reads_all = grant.categories >= _ALL_BUT_PERSONAL
        return str(stored.get("detail", "")) if reads_all else UNDETAILED
    return template.format(*(_value(f, grant) for f in facts))
