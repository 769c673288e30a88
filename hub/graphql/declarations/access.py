"""What one caller may read of one stored declaration: its grant, payload and key.

The grant comes from the viewer (the one place row and category rules live); the fields'
categories come from the record's standard version (`x-hub-category`). The declarant is a
party to what it declared; customs reads every declaration in its categories; a reader
without a grant on the record (a supervisor) reads its envelope (who declared what, when,
with which hash) but nothing of its content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub.access.authority import EVERYTHING, NOTHING, record_type
from hub.access.payloads import ReadablePayload, readable_payload
from hub.access.policy import Category, Grant
from hub.declarations.models import StoredDeclaration
from hub.graphql.context import Forbidden, Info
from hub.standards.categories import FieldCategories


class ContentForbidden(Forbidden):
    """A declaration field that would show categories the caller may not read."""

    def __init__(self, what: str, categories: frozenset[Category], undeclared: bool = False):
        names = sorted(c.value for c in categories)
        reason = ", ".join(names) if names else "undeclared properties"
        if names and undeclared:
            reason += " and undeclared properties"
        super().__init__(f"{what} is not readable for this caller: data category {reason}")
        self.extensions = {"code": "FORBIDDEN", "categories": names}


@dataclass(frozen=True)
class DeclarationView:
    """One declaration as the caller may read it."""

    grant: Grant | None
    categories: FieldCategories | None
    payload: ReadablePayload

    def readable(self, path: str) -> Category | None:
        """The category of a top-level property when the caller may read it in clear, else
        raises ContentForbidden (personal data in clear needs pii:read)."""
        category = self.categories.at(path) if self.categories is not None else None
        if category is None:
            if self.payload.undeclared or self.categories is None:
                raise ContentForbidden(path, frozenset(), undeclared=True)
            return None
        clear = self.grant is not None and (
            self.grant.personal_in_clear
            if category is Category.PERSONAL
            else self.grant.allows(category)
        )
        if not clear:
            raise ContentForbidden(path, frozenset({category}))
        return category


async def _grant(info: Info, row: StoredDeclaration, payload: Any) -> Grant | None:
    viewer = await info.context.viewer()
    fields = payload if isinstance(payload, dict) else {}

    def text(name: str) -> str:
        return str(fields.get(name) or "")

    if row.standard_id == "cbec.enterprise":
        return viewer.grant_for_enterprise(text("code"))
    # The declarant reads what it declared in the roles the record names it (the authority
    # table: a carrier's waybill is logistics and the consignee to it); records of
    # standards the table does not model are the declarant's alone.
    reads = NOTHING
    if viewer.enterprise is not None and row.declarant == viewer.enterprise:
        rtype = record_type(row.standard_id)
        if rtype is None:
            reads = EVERYTHING
        else:
            reads = rtype.reads_of(rtype.roles_of(viewer.enterprise, fields))
    return viewer.grant_for_order(
        ebp_code=text("ebpCode"), ebc_code=text("ebcCode"), app_time=text("appTime"), reads=reads
    )


async def declaration_view(info: Info, row: StoredDeclaration) -> DeclarationView:
    """The caller's view of one declaration (categories read once per standard version)."""
    payload = json.loads(row.payload)
    categories = await info.context.runtime.categories.get(
        session=info.context.read_session,
        standard_id=row.standard_id,
        version=row.standard_version,
    )
    grant = await _grant(info, row, payload)
    return DeclarationView(
        grant=grant,
        categories=categories,
        payload=readable_payload(payload, categories=categories, grant=grant),
    )


def key_fields(standard_id: str, version: str = "1.0.0") -> tuple[str, ...]:
    """The payload fields a record key is made of (none for a content-hash key)."""
    rtype = record_type(standard_id, int(version.split(".", 1)[0]))
    return rtype.key_fields if rtype is not None else ()
