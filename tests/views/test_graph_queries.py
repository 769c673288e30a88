"""Department queries: connections, filters, row rules, masking, and constant SQL per query."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from hub.trade.models import Order
from tests.views.conftest import Demo, Gql

ORDERS = """
query($first: Int, $after: String, $filter: OrderFilter) {
  orders(first: $first, after: $after, filter: $filter) {
    edges { cursor node {
      ebpCode orderNo direction tradeMode goodsValue
      items { gnum itemName totalPrice }
      matching { status missing discrepancies { code } }
      payment { amountPaid payerName }
      receipt { charge }
      waybill { logisticsNo milestones { status } }
      inventory { customsStatus items { gcode } }
      provenance { declarationId contentHash }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _all_orders(app: Starlette) -> int:
    async with app.state.runtime.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Order)) or 0)


async def test_the_statement_count_does_not_grow_with_the_number_of_orders(
    demo: Demo, gql: Gql, statements: Any, app: Starlette
) -> None:
    token = await demo.token(scopes="customs:read pii:read")
    counts = {}
    for first in (5, 40):
        with statements() as seen:
            body = await gql(ORDERS, token=token, variables={"first": first})
        assert "errors" not in body, body["errors"][:2]
        assert len(body["data"]["orders"]["edges"]) == min(first, await _all_orders(app))
        counts[first] = len(seen)
    assert counts[5] == counts[40]
    assert counts[40] <= 12


async def test_keyset_pages_cover_every_order_once(demo: Demo, gql: Gql, app: Starlette) -> None:
    token = await demo.token(scopes="tax:read")
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        body = await gql(
            "query($after: String) { orders(first: 7, after: $after) { edges { node "
            "{ ebpCode orderNo } } pageInfo { hasNextPage endCursor } } }",
            token=token,
            variables={"after": after},
        )
        page = body["data"]["orders"]
        seen += [(e["node"]["ebpCode"], e["node"]["orderNo"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == await _all_orders(app)


@pytest.mark.parametrize("first", [-1, 501])
async def test_first_is_capped(demo: Demo, gql: Gql, first: int) -> None:
    body = await gql(
        "query($f: Int) { orders(first: $f) { edges { cursor } } }",
        token=await demo.token(scopes="tax:read"),
        variables={"f": first},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_foreign_cursor_is_refused(demo: Demo, gql: Gql) -> None:
    body = await gql(
        '{ orders(after: "bm90LWEtY3Vyc29y") { edges { cursor } } }',
        token=await demo.token(scopes="tax:read"),
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_filters_narrow_orders_like_the_database_does(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    token = await demo.token(scopes="customs:read")
    async with app.state.runtime.session_factory() as session:
        rows = list(await session.scalars(select(Order).where(Order.status == "ACTIVE")))
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"direction": "E"}, {r.order_no for r in rows if r.direction == "E"}),
        ({"tradeMode": "1210"}, {r.order_no for r in rows if r.trade_mode == "1210"}),
        ({"matchStatus": "MISMATCH"}, {r.order_no for r in rows if r.match_status == "MISMATCH"}),
        (
            {"enterprise": rows[0].ebc_code, "role": "SELLER"},
            {r.order_no for r in rows if r.ebc_code == rows[0].ebc_code},
        ),
    ]
    for filter_, expected in cases:
        body = await gql(
            "query($f: OrderFilter) { orders(first: 500, filter: $f) "
            "{ edges { node { orderNo } } } }",
            token=token,
            variables={"f": filter_},
        )
        got = {e["node"]["orderNo"] for e in body["data"]["orders"]["edges"]}
        assert got == expected, filter_


async def test_personal_data_is_masked_without_pii_and_clear_with_it(demo: Demo, gql: Gql) -> None:
    query = (
        '{ orders(first: 50, filter: {direction: "I"}) { edges { node '
        "{ buyerIdNumber buyerName payment { payerIdNumber } } } } }"
    )
    clear = await gql(query, token=await demo.token(scopes="customs:read pii:read"))
    masked = await gql(query, token=await demo.token(scopes="tax:read"))
    for plain, hidden in zip(
        clear["data"]["orders"]["edges"], masked["data"]["orders"]["edges"], strict=True
    ):
        number = plain["node"]["buyerIdNumber"]
        assert len(number) == 18 and "*" not in number
        assert hidden["node"]["buyerIdNumber"] == number[:4] + "*" * 10 + number[-4:]
        assert hidden["node"]["buyerName"].startswith(plain["node"]["buyerName"][0])
        assert "*" in hidden["node"]["buyerName"]
    assert "errors" not in masked


async def test_a_field_outside_the_callers_categories_is_null_with_a_coded_error(
    demo: Demo, gql: Gql
) -> None:
    body = await gql(
        "{ orders(first: 3) { edges { node { orderNo goodsValue waybill { logisticsNo } } } } }",
        token=await demo.token(scopes="tax:read"),
    )
    nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
    assert nodes and all(n["goodsValue"] is not None and n["waybill"] is None for n in nodes)
    errors = body["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}
    assert {e["extensions"]["category"] for e in errors} == {"logistics"}
    assert all("logistics" in e["message"] for e in errors)


async def test_an_enterprise_sees_only_orders_it_is_a_party_to(demo: Demo, gql: Gql) -> None:
    customs = await gql(
        "{ orders(first: 500) { edges { node { ebpCode ebcCode payCode orderNo } } } }",
        token=await demo.token(scopes="customs:read"),
    )
    everything = [e["node"] for e in customs["data"]["orders"]["edges"]]
    seller = everything[0]["ebcCode"]
    own = await gql(
        "{ orders(first: 500) { edges { node { ebpCode ebcCode payCode orderNo } } } }",
        token=await demo.token(enterprise=seller),
    )
    mine = [e["node"] for e in own["data"]["orders"]["edges"]]
    assert mine
    assert all(seller in (n["ebpCode"], n["ebcCode"], n["payCode"]) for n in mine)
    expected = [n for n in everything if seller in (n["ebpCode"], n["ebcCode"], n["payCode"])]
    assert sorted(n["orderNo"] for n in mine) == sorted(n["orderNo"] for n in expected)
    other = next(n for n in everything if seller not in (n["ebpCode"], n["ebcCode"], n["payCode"]))
    single = await gql(
        "query($e: String!, $o: String!) { order(ebpCode: $e, orderNo: $o) { orderNo } }",
        token=await demo.token(enterprise=seller),
        variables={"e": other["ebpCode"], "o": other["orderNo"]},
    )
    assert single["data"]["order"] is None


async def test_a_bank_without_consent_sees_no_orders_and_no_enterprises(
    demo: Demo, gql: Gql
) -> None:
    body = await gql(
        "{ orders(first: 10) { edges { cursor } } enterprises(first: 10) { edges { cursor } } }",
        token=await demo.token(scopes="finance:read"),
    )
    assert body["data"]["orders"]["edges"] == []
    assert body["data"]["enterprises"]["edges"] == []


async def test_nested_enterprise_orders_match_the_top_level_filter(demo: Demo, gql: Gql) -> None:
    token = await demo.token(scopes="customs:read")
    body = await gql(
        "{ enterprises(first: 30) { edges { node { code orders(first: 60) "
        "{ edges { node { orderNo } } } } } } }",
        token=token,
    )
    assert "errors" not in body, body.get("errors")
    for edge in body["data"]["enterprises"]["edges"]:
        code = edge["node"]["code"]
        top = await gql(
            "query($c: String!) { orders(first: 500, filter: {enterprise: $c}) "
            "{ edges { node { orderNo } } } }",
            token=token,
            variables={"c": code},
        )
        nested = [e["node"]["orderNo"] for e in edge["node"]["orders"]["edges"]]
        assert nested == [e["node"]["orderNo"] for e in top["data"]["orders"]["edges"]]


async def test_federation_entities_resolve_with_the_same_policy(demo: Demo, gql: Gql) -> None:
    customs = await gql(
        "{ orders(first: 2) { edges { node { ebpCode orderNo ebcCode } } } }",
        token=await demo.token(scopes="customs:read"),
    )
    order = customs["data"]["orders"]["edges"][0]["node"]
    query = """
    query($r: [_Any!]!) {
      _entities(representations: $r) {
        ... on Order { orderNo goodsValue }
        ... on Enterprise { code name }
      }
    }"""
    reps = [
        {"__typename": "Order", "ebpCode": order["ebpCode"], "orderNo": order["orderNo"]},
        {"__typename": "Enterprise", "code": order["ebcCode"]},
    ]
    seen = await gql(query, token=await demo.token(scopes="customs:read"), variables={"r": reps})
    assert seen["data"]["_entities"][0]["orderNo"] == order["orderNo"]
    assert seen["data"]["_entities"][1]["code"] == order["ebcCode"]
    bank = await gql(query, token=await demo.token(scopes="finance:read"), variables={"r": reps})
    assert bank["data"]["_entities"] == [None, None]
    market = await gql(query, token=await demo.token(scopes="market:read"), variables={"r": reps})
    assert market["data"]["_entities"][0]["goodsValue"] is None
    assert market["errors"][0]["extensions"]["category"] == "order"


NESTED = """
query($first: Int) {
  enterprises(first: $first) { edges { node {
    code
    orders(first: 60) { edges { node { orderNo payment { amountPaid } } } }
    payments(first: 60) { edges { node { payTransactionId } } }
    receipts(first: 60) { edges { node { payNo } } }
    waybills(first: 60) { edges { node { logisticsNo milestones { status } } } }
    inventories(first: 60) { edges { node { customsStatus } } }
  } } }
}"""


async def test_nested_enterprise_lists_cost_the_same_statements_for_3_or_all_enterprises(
    demo: Demo, gql: Gql, statements: Any
) -> None:
    token = await demo.token(scopes="customs:read pii:read")
    counts = {}
    for first in (3, 30):
        with statements() as seen:
            body = await gql(NESTED, token=token, variables={"first": first})
        assert "errors" not in body, body.get("errors")
        counts[first] = len(seen)
    assert counts[3] == counts[30]


async def test_nested_documents_are_those_naming_the_enterprise(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    from hub.trade.models import Payment, Waybill

    body = await gql(
        NESTED, token=await demo.token(scopes="customs:read"), variables={"first": 100}
    )
    async with app.state.runtime.session_factory() as session:
        payments = list(await session.scalars(select(Payment)))
        waybills = list(await session.scalars(select(Waybill)))
    for edge in body["data"]["enterprises"]["edges"]:
        node = edge["node"]
        code = node["code"]
        expected_payments = {
            p.pay_transaction_id for p in payments if code in (p.pay_code, p.ebp_code)
        }
        got = {e["node"]["payTransactionId"] for e in node["payments"]["edges"]}
        assert got == expected_payments, code
        expected_waybills = {
            w.logistics_no for w in waybills if code in (w.logistics_code, w.ebp_code)
        }
        assert {e["node"]["logisticsNo"] for e in node["waybills"]["edges"]} == expected_waybills
