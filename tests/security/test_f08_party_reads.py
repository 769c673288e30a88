"""Finding 8: "party" was too broad.

The original code (ded634c) gave every enterprise named anywhere around an order (carrier,
payment institution, declaring agent) the whole order: a carrier read the amounts, lines,
tax and payment of orders it only carries, a payment firm read their waybills and
inventories, and a guarantor (`assureCode`) could declare an inventory but read nothing of
it. Now the authority table says what each role reads, and the SQL row predicate and the
read check are both generated from it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.builders.parties import (
    AGENT,
    CARRIER,
    GUARANTOR,
    PAYER_INSTITUTION,
    PLATFORM,
    STRANGER,
    Actors,
    hub_actors,
    import_set,
)

__all__ = ["hub_actors"]

ORDER_NO = "XZ-F08-0001"
ORDER = """query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) {
    orderNo goodsValue acturalPaid taxTotal taxComputed buyerName consignee consigneeAddress
    items { itemName price }
    payment { amountPaid payerName }
    waybill { logisticsNo weight consignee consigneeAddress }
    inventory { invtNo customsStatus items { gcode } buyerName }
  }
}"""
LISTS = """query($code: String!) {
  enterprise(code: $code) {
    waybills { edges { node { logisticsNo } } }
    inventories { edges { node { invtNo customsStatus } } }
    payments { edges { node { amountPaid } } }
  }
  orders { edges { node { orderNo } } }
}"""


async def _filed(actors: Actors) -> dict[str, dict[str, Any]]:
    docs = import_set(ORDER_NO)
    await actors.file_all(docs)
    return docs


async def _read(actors: Actors, as_: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The order as the enterprise reads it, and the category each FORBIDDEN path names."""
    body = await actors.query(ORDER, as_=as_, variables={"ebp": PLATFORM, "no": ORDER_NO})
    forbidden = {
        ".".join(str(p) for p in e["path"][1:]): e["extensions"]["category"]
        for e in body.get("errors", [])
        if e["extensions"]["code"] == "FORBIDDEN"
    }
    return body["data"]["order"], forbidden


def _masked(value: Any, clear: Any) -> bool:
    return isinstance(value, str) and "*" in value and value != clear


async def test_a_carrier_reads_logistics_and_the_masked_consignee_but_no_money(
    hub_actors: Actors,
) -> None:
    docs = await _filed(hub_actors)

    order, forbidden = await _read(hub_actors, CARRIER)

    assert order is not None
    assert order["orderNo"] == ORDER_NO
    assert order["waybill"]["logisticsNo"] == docs["waybill"]["logisticsNo"]
    assert order["waybill"]["weight"] is not None
    assert _masked(order["waybill"]["consignee"], docs["waybill"]["consignee"])
    assert _masked(order["consignee"], docs["order"]["consignee"])
    # No amounts, lines, tax, payment, clearance or buyer.
    for path, category in {
        "goodsValue": "order",
        "acturalPaid": "order",
        "taxTotal": "tax",
        "taxComputed": "tax",
        "items": "goods",
        "payment": "payment",
        "inventory": "clearance",
        "buyerName": "personal",
    }.items():
        assert order[path] is None, path
        assert forbidden[path] == category, (path, forbidden)


async def test_a_payment_firm_reads_the_order_header_and_its_payment_not_logistics_or_clearance(
    hub_actors: Actors,
) -> None:
    docs = await _filed(hub_actors)

    order, forbidden = await _read(hub_actors, PAYER_INSTITUTION)

    assert order is not None
    assert Decimal(order["goodsValue"]) == Decimal(docs["order"]["goodsValue"])
    assert Decimal(order["payment"]["amountPaid"]) == Decimal(docs["payment"]["amountPaid"])
    assert _masked(order["payment"]["payerName"], docs["payment"]["payerName"])
    for path, category in {
        "waybill": "logistics",
        "inventory": "clearance",
        "items": "goods",
        "taxTotal": "tax",
        "buyerName": "personal",
        "consignee": "personal",
    }.items():
        assert order[path] is None, path
        assert forbidden[path] == category, (path, forbidden)

    lists = await hub_actors.query(
        LISTS, as_=PAYER_INSTITUTION, variables={"code": PAYER_INSTITUTION}
    )
    mine = lists["data"]["enterprise"]
    assert mine["waybills"]["edges"] == [] and mine["inventories"]["edges"] == []
    assert [Decimal(e["node"]["amountPaid"]) for e in mine["payments"]["edges"]] == [
        Decimal(docs["payment"]["amountPaid"])
    ]


async def test_a_guarantor_reads_clearance_and_tax_of_the_inventory_it_stands_for(
    hub_actors: Actors,
) -> None:
    docs = await _filed(hub_actors)

    order, forbidden = await _read(hub_actors, GUARANTOR)

    assert order is not None  # the original code showed it nothing at all
    assert order["inventory"]["customsStatus"] == 800
    assert Decimal(order["taxTotal"]) == Decimal(docs["order"]["taxTotal"])
    assert order["taxComputed"] is not None
    for path, category in {
        "goodsValue": "order",
        "payment": "payment",
        "waybill": "logistics",
        "inventory.items": "goods",
        "inventory.buyerName": "personal",
    }.items():
        node = order
        for part in path.split("."):
            node = node[part]
        assert node is None, path
        assert forbidden[path] == category, (path, forbidden)

    lists = await hub_actors.query(LISTS, as_=GUARANTOR, variables={"code": GUARANTOR})
    assert [e["node"]["orderNo"] for e in lists["data"]["orders"]["edges"]] == [ORDER_NO]
    [inventory] = lists["data"]["enterprise"]["inventories"]["edges"]
    assert inventory["node"]["customsStatus"] == 800


async def test_the_orders_list_applies_the_same_rule_as_the_single_order(
    hub_actors: Actors,
) -> None:
    await _filed(hub_actors)
    listing = """{ orders { edges { node { orderNo goodsValue waybill { logisticsNo } } } } }"""

    for party, sees_value in ((CARRIER, False), (AGENT, False), (PAYER_INSTITUTION, True)):
        body = await hub_actors.query(listing, as_=party)
        [edge] = body["data"]["orders"]["edges"]
        assert edge["node"]["orderNo"] == ORDER_NO
        assert (edge["node"]["goodsValue"] is not None) is sees_value, party
    stranger = await hub_actors.query(listing, as_=STRANGER)
    assert stranger["data"]["orders"]["edges"] == []
