"""`node(id:)` and `nodes(ids:)`: refetching trade graph objects by global id (Relay).

Each id resolves through the very path its root field takes, so the policy cannot differ:
an Enterprise as `enterprise(code)`, an Order as `order(ebpCode, orderNo)`, and an order's
documents (Payment, Receipt, Waybill, Inventory) as `order(...) { payment }` does: the
order must be visible, its grant must cover the category of the Order field the document
hangs under, and the document must be the one the order's group links. Anything the
caller could not read that way is null, the same null as for a key that does not exist.
A document no order links yet (an export waybill before its inventory) has no node path:
list it under its enterprise (`enterprise(code) { waybills }`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import select

from hub.access import authority
from hub.access.policy import Category
from hub.graphql.context import BadInput, Info
from hub.graphql.node import MAX_NODES, Node, parse_global_id
from hub.graphql.trade.access import load_order, order_grant
from hub.graphql.trade.enterprise import load_enterprise
from hub.graphql.trade.fields import CategoryGuard
from hub.graphql.trade.types import Inventory, Order, Payment, Receipt, Waybill
from hub.trade import models


def _order_field_category(name: str) -> Category:
    """The category guarding an Order field (`payment`): the rule `order { payment }`
    applies, read from the field itself so that the two cannot drift apart."""
    definition = Order.__strawberry_definition__  # type: ignore[attr-defined]
    field = next(f for f in definition.fields if f.python_name == name)
    guard = next(e for e in field.extensions if isinstance(e, CategoryGuard))
    return guard.category


@dataclass(frozen=True)
class DocumentNode:
    """A document type reachable by id through the order linking it."""

    standard_id: str
    model: Any
    key_columns: tuple[str, str]  # as the type's `id` field spells them
    node: Any
    category: Category


DOCUMENTS: dict[str, DocumentNode] = {
    d.node.__name__: d
    for d in (
        DocumentNode(
            "cbec.payment",
            models.Payment,
            ("pay_code", "pay_transaction_id"),
            Payment,
            _order_field_category("payment"),
        ),
        DocumentNode(
            "cbec.receipt",
            models.Receipt,
            ("pay_code", "pay_no"),
            Receipt,
            _order_field_category("receipt"),
        ),
        DocumentNode(
            "cbec.waybill",
            models.Waybill,
            ("logistics_code", "logistics_no"),
            Waybill,
            _order_field_category("waybill"),
        ),
        DocumentNode(
            "cbec.inventory",
            models.Inventory,
            ("ebp_code", "order_no"),
            Inventory,
            _order_field_category("inventory"),
        ),
    )
}
_PARTS = {"Enterprise": 1, "Order": 2, **dict.fromkeys(DOCUMENTS, 2)}


def parse(value: str) -> tuple[str, tuple[str, ...]]:
    """A global id of a trade graph node; BAD_USER_INPUT for anything else (a forged id,
    or the id of a type that is no node)."""
    type_name, key = parse_global_id(value)
    if _PARTS.get(type_name) != len(key):
        raise BadInput(f"{value[:80]!r} is not a node id of this hub")
    return type_name, key


async def _document(info: Info, spec: DocumentNode, key: tuple[str, ...]) -> Any:
    """The document with this key, if the caller reads it through its order."""
    model = spec.model
    rows = await info.context.read_session.scalars(
        select(model)
        .where(*(getattr(model, c) == v for c, v in zip(spec.key_columns, key, strict=True)))
        .order_by(model.id)
        .limit(20)
    )
    for row in rows:
        if not row.ebp_code or not row.order_no:
            continue  # linked to no order yet
        order = await info.context.loaders.order_by_key.load((row.ebp_code, row.order_no))
        if order is None:
            continue
        grant, documents = await order_grant(info, order)
        linked = documents.get(spec.standard_id)
        if grant is None or linked is None or linked.id != row.id:
            continue
        if not grant.allows(spec.category):
            continue
        # As `order { payment }` notes it: under every enterprise the document names.
        info.context.audit.touch(
            enterprises=authority.document_codes(spec.standard_id, row),
            records=(f"{spec.standard_id}:{row.record_key}",),
            consent_id=grant.consent_id,
        )
        return spec.node(grant=grant, row=row)
    return None


async def resolve(info: Info, type_name: str, key: tuple[str, ...]) -> Node | None:
    """The node of a parsed id under the caller's policy (None: absent or not readable)."""
    if type_name == "Enterprise":
        return await load_enterprise(info, key[0])
    if type_name == "Order":
        return await load_order(info, ebp_code=key[0], order_no=key[1])
    node: Node | None = await _document(info, DOCUMENTS[type_name], key)
    return node


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="The object with this global id (Relay), if you may read it through "
        "its own root field (`enterprise`, `order`, an order's documents): null otherwise, "
        "as for an id of nothing. A malformed id is BAD_USER_INPUT."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, key = parse(str(id))
        return await resolve(info, type_name, key)

    @strawberry.field(
        description=f"The objects with these global ids (at most {MAX_NODES}), in order, "
        "each as `node(id:)` answers it (null where it does not); more ids are "
        "LIST_TOO_LONG."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        parsed = [parse(str(i)) for i in ids]
        # Together, so that the orders' and groups' loaders batch.
        return list(await asyncio.gather(*(resolve(info, t, k) for t, k in parsed)))
