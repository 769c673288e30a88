"""The graph's field categories come from the standards' annotations, not from the code.

A field that shows a declared property names the property; its category is the one the
standard gives it. Only fields the hub computes name a category in code, and this file
lists them, so a new field that names a category instead of its property is noticed.
"""

from __future__ import annotations

from typing import Any

from hub.graphql.schema import build_schema
from hub.graphql.trade.fields import CategoryGuard
from hub.standards.categories import shipped_category

GRAPH_TYPES = (
    "Order",
    "OrderItem",
    "Payment",
    "Receipt",
    "Waybill",
    "Inventory",
    "InventoryItem",
    "Enterprise",
)
# Fields computed by the hub (no one property behind them), with the category they carry.
COMPUTED = {
    "Order.taxComputed": "tax",  # retail import tax from the inventory's HS codes
    "Order.taxAssessed": "tax",  # the 816 bill's duty + VAT + consumption tax
    "Order.taxDifference": "tax",  # assessed minus computed
    "Order.riskFlags": "credit",
    "Order.matching": "clearance",
    "Order.payment": "payment",  # links: the linked document's own category
    "Order.receipt": "payment",
    "Order.waybill": "logistics",
    "Order.inventory": "clearance",
    "Enterprise.filed": "registration",
    "Enterprise.credit": "credit",  # the hub's evaluation and the departments' ratings
    "Enterprise.orders": "order",
    "Enterprise.payments": "payment",
    "Enterprise.receipts": "payment",
    "Enterprise.waybills": "logistics",
    "Enterprise.inventories": "clearance",
}


def _guards() -> dict[str, CategoryGuard]:
    schema = build_schema()._schema
    found: dict[str, CategoryGuard] = {}
    for type_name in GRAPH_TYPES:
        graphql_type: Any = schema.type_map[type_name]
        for name, field in graphql_type.fields.items():
            guards = [
                e
                for e in field.extensions["strawberry-definition"].extensions
                if isinstance(e, CategoryGuard)
            ]
            assert len(guards) == 1, f"{type_name}.{name} has {len(guards)} category guards"
            found[f"{type_name}.{name}"] = guards[0]
    return found


def test_fields_that_show_a_property_take_its_category_from_the_standard() -> None:
    for name, guard in _guards().items():
        if guard.source is None:
            continue
        standard_id, _, path = guard.source.partition(":")
        assert guard.category is shipped_category(standard_id, path), name


def test_only_computed_fields_name_a_category_in_code() -> None:
    named = {name: g.category.value for name, g in _guards().items() if g.source is None}
    assert named == COMPUTED


def test_line_prices_are_money_so_market_supervision_cannot_read_them() -> None:
    guards = _guards()
    for name in ("OrderItem.price", "OrderItem.totalPrice", "InventoryItem.totalPrice"):
        assert guards[name].category.value == "order", name
    assert guards["OrderItem.itemName"].category.value == "goods"
