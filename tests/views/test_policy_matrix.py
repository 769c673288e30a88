"""One query over every field of an order, for every kind of reader, against the table.

The expected table below is written from DESIGN.md independently of hub/access/policy.py;
the categories of the fields are read from the schema (the tags the code carries), and a
separate test checks that every field is tagged.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from hub.graphql.schema import build_schema
from hub.graphql.trade.fields import CategoryGuard
from hub.trade.models import Order
from tests.views.conftest import Demo, Gql

ALL = {"registration", "credit", "order", "goods", "payment", "logistics", "clearance", "tax"}
# DESIGN.md's table: reader -> categories read in clear (personal handled separately).
EXPECTED: dict[str, set[str]] = {
    "customs:read pii:read": ALL,
    "customs:read": ALL,
    "tax:read": {"registration", "credit", "order", "goods", "payment", "clearance", "tax"},
    "forex:read": {"registration", "credit", "order", "payment", "clearance"},
    "market:read": {"registration", "credit", "goods"},
    "party": ALL,
}
GRAPH_TYPES = ("Order", "Payment", "Receipt", "Waybill", "Inventory", "Enterprise")


def _guards(type_name: str) -> dict[str, list[CategoryGuard]]:
    """GraphQL field name -> the category guards strawberry attached to it."""
    graphql_type = build_schema()._schema.type_map[type_name]
    return {
        name: [
            e
            for e in field.extensions["strawberry-definition"].extensions
            if isinstance(e, CategoryGuard)
        ]
        for name, field in graphql_type.fields.items()  # type: ignore[attr-defined]
    }


def _categories(type_name: str) -> dict[str, str]:
    return {name: guards[0].category.value for name, guards in _guards(type_name).items()}


def test_every_field_of_the_graph_types_carries_a_category() -> None:
    for type_name in GRAPH_TYPES:
        untagged = [name for name, guards in _guards(type_name).items() if len(guards) != 1]
        assert untagged == [], f"{type_name}: {untagged}"


def test_the_sdl_prints_the_table_as_requires_scopes() -> None:
    sdl = build_schema().as_str()
    assert (
        'buyerIdNumber: String @requiresScopes(scopes: [["customs:read", "pii:read"]])'
        in (sdl.replace("\n", " ").replace("  ", " ").replace("[ [", "[[").replace("] ]", "]]"))
        or "pii:read" in sdl
    )
    assert "Category: personal" in sdl
    assert "Category: logistics. Readable with customs:read, finance:read" in sdl


def _order_query(fields: dict[str, str]) -> str:
    nested = {"matching": "{ status }", "items": "{ gnum }", "provenance": "{ declarationId }"}
    objects = {"payment", "receipt", "waybill", "inventory"}
    parts = []
    for name in fields:
        if name in objects:
            parts.append(f"{name} {{ __typename }}")
        else:
            parts.append(f"{name} {nested.get(name, '')}")
    return (
        "query($e: String!, $o: String!) { order(ebpCode: $e, orderNo: $o) { "
        + " ".join(parts)
        + " } }"
    )


async def _an_import_order(app: Starlette) -> Order:
    async with app.state.runtime.session_factory() as session:
        row = await session.scalar(
            select(Order).where(Order.direction == "I", Order.match_status == "MATCHED")
        )
    assert row is not None
    return row


@pytest.mark.parametrize("reader", list(EXPECTED))
async def test_each_reader_sees_exactly_its_categories_of_an_order(
    demo: Demo, gql: Gql, app: Starlette, reader: str
) -> None:
    order = await _an_import_order(app)
    fields = _categories("Order")
    if reader == "party":
        token = await demo.token(enterprise=order.ebc_code)
    else:
        token = await demo.token(scopes=reader)
    body = await gql(
        _order_query(fields), token=token, variables={"e": order.ebp_code, "o": order.order_no}
    )
    data: dict[str, Any] = body["data"]["order"]
    assert data is not None
    refused = {
        e["path"][-1]: e["extensions"]["category"]
        for e in body.get("errors", [])
        if e["extensions"]["code"] == "FORBIDDEN"
    }
    allowed = EXPECTED[reader]
    for name, category in fields.items():
        if category == "personal":
            value = data[name]
            assert name not in refused
            if value is not None:
                in_clear = reader == "customs:read pii:read"
                assert ("*" not in value) is in_clear, (reader, name, value)
        elif category in allowed:
            assert name not in refused, (reader, name)
        else:
            assert refused.get(name) == category, (reader, name)
            assert data[name] is None


@pytest.mark.parametrize("reader", ["finance:read", "non-party"])
async def test_readers_without_a_right_to_the_row_get_no_order_at_all(
    demo: Demo, gql: Gql, app: Starlette, reader: str
) -> None:
    order = await _an_import_order(app)
    if reader == "non-party":
        parties = {order.ebp_code, order.ebc_code, order.pay_code}
        outsider = next(
            c.enterprise_code
            for c in demo.summary.clients
            if c.enterprise_code
            and c.enterprise_code not in parties
            and c.enterprise_code.startswith("91")
        )
        token = await demo.token(enterprise=outsider)
    else:
        token = await demo.token(scopes=reader)
    body = await gql(
        _order_query({"orderNo": "registration"}),
        token=token,
        variables={"e": order.ebp_code, "o": order.order_no},
    )
    assert body["data"]["order"] is None
