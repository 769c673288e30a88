"""Finding 2: attaching to another's record.

The original code (ded634c) accepted a payment for an order that names a different
`payCode`: the order's payment was replaced by it (the newest document of a kind won) and
the seller's `forexTotals` counted its amount (BELOW → OVER the USD 200k band); a carrier
filing a waybill for someone else's order became that order's carrier. A link is now
accepted only where the records name each other (authority table), and the graph, the
matching and the forex totals link only documents that agree with their order: the
payment the order names, the waybill its inventory names (else the first declared).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.builders.parties import (
    AGENT,
    CARRIER,
    OTHER_AGENT,
    OTHER_CARRIER,
    OTHER_PAYER,
    PAYER_INSTITUTION,
    PLATFORM,
    SELLER,
    Actors,
    codes,
    hub_actors,
    import_set,
    order_as_customs,
)

__all__ = ["hub_actors"]

FOREX = """query($code: String!) {
  forexTotals(year: 2024, enterprise: $code) { paymentsUsd band }
}"""
OWN_VIEW = """query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) { orderNo waybill { logisticsNo } }
}"""
BIG = "1500000.00"  # CNY: far over the USD 200k band on its own


def _hostile_payment(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A payment by another payment firm for the same order, with a huge amount."""
    return docs["payment"] | {
        "payCode": OTHER_PAYER,
        "payTransactionId": "HOSTILE-0001",
        "amountPaid": BIG,
    }


async def _forex(actors: Actors) -> dict[str, Any]:
    body = await actors.query(FOREX, scopes="forex:read", variables={"code": SELLER})
    assert "errors" not in body, body["errors"]
    [total] = body["data"]["forexTotals"]
    return dict(total)


async def test_a_payment_for_an_order_naming_another_payer_is_refused(hub_actors: Actors) -> None:
    docs = import_set("XZ-F02-0001")
    await hub_actors.file_all(docs, "order", "payment")
    before = await _forex(hub_actors)

    result = await hub_actors.declare("cbec.payment", _hostile_payment(docs), as_=OTHER_PAYER)

    assert codes(result) == ["LINK_MISMATCH"]
    assert result["errors"][0]["path"] == "/payCode"
    stored = await order_as_customs(hub_actors, PLATFORM, "XZ-F02-0001")
    assert stored is not None
    assert stored["payment"]["payCode"] == PAYER_INSTITUTION
    assert Decimal(stored["payment"]["amountPaid"]) == Decimal(docs["payment"]["amountPaid"])
    assert await _forex(hub_actors) == before


async def test_a_payment_filed_before_its_order_is_not_linked_when_the_order_names_another_payer(
    hub_actors: Actors,
) -> None:
    docs = import_set("XZ-F02-0002")
    # The attacker gets in first: no order to contradict it yet, so it is stored ...
    early = await hub_actors.declare("cbec.payment", _hostile_payment(docs), as_=OTHER_PAYER)
    assert codes(early) == []
    await hub_actors.file_all(docs, "order", "payment")

    # ... but the order names another payer, so nothing links it.
    stored = await order_as_customs(hub_actors, PLATFORM, "XZ-F02-0002")
    assert stored is not None
    assert stored["payment"]["payCode"] == PAYER_INSTITUTION
    assert stored["matching"]["status"] != "MISMATCH"
    total = await _forex(hub_actors)
    assert total["band"] == "BELOW"
    # The hostile payment adds nothing: withdrawing it leaves the totals as they are.
    withdrawn = _hostile_payment(docs) | {"appType": "3"}
    assert codes(await hub_actors.declare("cbec.payment", withdrawn, as_=OTHER_PAYER)) == []
    assert await _forex(hub_actors) == total
    attacker = await hub_actors.query(
        OWN_VIEW, as_=OTHER_PAYER, variables={"ebp": PLATFORM, "no": "XZ-F02-0002"}
    )
    assert attacker["data"]["order"] is None


async def test_a_waybill_the_orders_inventory_does_not_name_is_refused(hub_actors: Actors) -> None:
    docs = import_set("XZ-F02-0003")
    await hub_actors.file_all(docs, "order", "waybill", "inventory")
    rival = docs["waybill"] | {"logisticsCode": OTHER_CARRIER, "logisticsNo": "RIVAL-0003"}

    result = await hub_actors.declare("cbec.waybill", rival, as_=OTHER_CARRIER)

    assert codes(result) == ["LINK_MISMATCH"]
    stored = await order_as_customs(hub_actors, PLATFORM, "XZ-F02-0003")
    assert stored is not None and stored["waybill"]["logisticsCode"] == CARRIER


async def test_an_early_rival_waybill_loses_its_order_once_the_inventory_names_the_real_one(
    hub_actors: Actors,
) -> None:
    docs = import_set("XZ-F02-0004")
    rival = docs["waybill"] | {"logisticsCode": OTHER_CARRIER, "logisticsNo": "RIVAL-0004"}
    await hub_actors.file("order", docs["order"])
    assert codes(await hub_actors.declare("cbec.waybill", rival, as_=OTHER_CARRIER)) == []
    await hub_actors.file_all(docs, "payment", "waybill", "inventory", "status")

    stored = await order_as_customs(hub_actors, PLATFORM, "XZ-F02-0004")
    assert stored is not None
    assert stored["waybill"]["logisticsNo"] == docs["waybill"]["logisticsNo"]
    assert stored["matching"]["status"] == "MATCHED"
    variables = {"ebp": PLATFORM, "no": "XZ-F02-0004"}
    rival_view = await hub_actors.query(OWN_VIEW, as_=OTHER_CARRIER, variables=variables)
    assert rival_view["data"]["order"] is None
    carrier_view = await hub_actors.query(OWN_VIEW, as_=CARRIER, variables=variables)
    assert carrier_view["data"]["order"]["waybill"]["logisticsNo"] == docs["waybill"]["logisticsNo"]


async def test_a_rival_waybill_filed_before_the_inventory_reads_nothing_of_the_order(
    hub_actors: Actors,
) -> None:
    """A waybill names its order but the order does not name its waybill: a rival carrier
    that files first, for an order number it guessed, must not read that order (its
    logistics, its masked consignee) or see its reads, until the inventory decides."""
    docs = import_set("XZ-F02-0007")
    rival = docs["waybill"] | {"logisticsCode": OTHER_CARRIER, "logisticsNo": "RIVAL-0007"}
    await hub_actors.file_all(docs, "order", "payment")
    assert codes(await hub_actors.declare("cbec.waybill", rival, as_=OTHER_CARRIER)) == []
    variables = {"ebp": PLATFORM, "no": "XZ-F02-0007"}

    before = await hub_actors.query(OWN_VIEW, as_=OTHER_CARRIER, variables=variables)
    assert before["data"]["order"] is None
    listed = await hub_actors.query(
        "{ orders(first: 50) { edges { node { orderNo consignee } } } }", as_=OTHER_CARRIER
    )
    assert listed["data"]["orders"]["edges"] == []

    # The real carrier, too, reads the order once the inventory names its waybill.
    await hub_actors.file_all(docs, "waybill")
    early = await hub_actors.query(OWN_VIEW, as_=CARRIER, variables=variables)
    assert early["data"]["order"] is None
    await hub_actors.file_all(docs, "inventory")
    confirmed = await hub_actors.query(OWN_VIEW, as_=CARRIER, variables=variables)
    assert confirmed["data"]["order"]["waybill"]["logisticsNo"] == docs["waybill"]["logisticsNo"]
    rival_after = await hub_actors.query(OWN_VIEW, as_=OTHER_CARRIER, variables=variables)
    assert rival_after["data"]["order"] is None


async def test_an_inventory_naming_the_waybill_of_another_order_is_refused(
    hub_actors: Actors,
) -> None:
    first, second = import_set("XZ-F02-0005"), import_set("XZ-F02-0006")
    await hub_actors.file_all(first, "order", "waybill")
    await hub_actors.file("order", second["order"])
    borrowed = second["inventory"] | {"logisticsNo": first["waybill"]["logisticsNo"]}

    result = await hub_actors.declare(
        "cbec.inventory", borrowed, as_=str(second["inventory"]["agentCode"])
    )

    assert codes(result) == ["LINK_MISMATCH"]
    assert result["errors"][0]["path"] in ("/ebpCode", "/orderNo")


RIVAL_VIEW = """query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) {
    orderNo goodsValue payment { amountPaid } inventory { agentCode customsStatus }
  }
}"""
OWN_EVENTS = """{ accessLog(first: 50) { edges { node { clientId enterprises } } } }"""


async def test_a_rival_broker_that_files_an_inventory_first_is_seen_and_cancelled_by_the_platform(
    hub_actors: Actors,
) -> None:
    """An order does not name its customs broker, so any broker that knows an order's
    platform, number and seller can file the inventory first (the hub cannot tell a real
    entrustment from a false one). What it gets must stay small and undoable: it reads only
    clearance and tax (never the amounts, lines or payment), its reads show in the
    platform's access log, the real broker is told only that the inventory exists, and the
    platform cancels the rival's inventory, after which the rival reads nothing and the
    real broker files."""
    docs = import_set("XZ-F02-0008")
    await hub_actors.file_all(docs, "order", "payment", "waybill")
    rival = docs["inventory"] | {"agentCode": OTHER_AGENT}
    assert codes(await hub_actors.declare("cbec.inventory", rival, as_=OTHER_AGENT)) == []
    variables = {"ebp": PLATFORM, "no": "XZ-F02-0008"}

    seen = await hub_actors.query(RIVAL_VIEW, as_=OTHER_AGENT, variables=variables)
    order = seen["data"]["order"]
    assert order["inventory"]["agentCode"] == OTHER_AGENT
    assert order["goodsValue"] is None and order["payment"] is None
    forbidden = {tuple(e["path"]) for e in seen["errors"]}
    assert ("order", "goodsValue") in forbidden and ("order", "payment") in forbidden
    assert {e["extensions"]["code"] for e in seen["errors"]} == {"FORBIDDEN"}

    blocked = await hub_actors.declare("cbec.inventory", docs["inventory"], as_=AGENT)
    assert codes(blocked) == ["RECORD_EXISTS"]
    assert OTHER_AGENT not in str(blocked)

    # The platform sees who filed the inventory and that it read its order.
    own = await order_as_customs(hub_actors, PLATFORM, "XZ-F02-0008")
    assert own is not None and own["inventory"]["agentCode"] == OTHER_AGENT
    log = await hub_actors.query(OWN_EVENTS, as_=PLATFORM)
    readers = {e["node"]["clientId"] for e in log["data"]["accessLog"]["edges"]}
    assert hub_actors.client_ids[OTHER_AGENT] in readers

    cancel = rival | {"appType": "3"}
    assert codes(await hub_actors.declare("cbec.inventory", cancel, as_=PLATFORM)) == []
    after = await hub_actors.query(RIVAL_VIEW, as_=OTHER_AGENT, variables=variables)
    assert after["data"]["order"] is None
    assert codes(await hub_actors.declare("cbec.inventory", docs["inventory"], as_=AGENT)) == []
    stored = await order_as_customs(hub_actors, PLATFORM, "XZ-F02-0008")
    assert stored is not None and stored["inventory"]["agentCode"] == AGENT
