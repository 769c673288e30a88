"""Three-document matching through XML intake (issue 10, must-show 3).

An import set (311 + 411 + 511 + 621, then the 622 release) and an export set (303 + 403 +
505 + 603, then the 604 release), built from the official samples' shapes with values that
belong together, are posted to `POST /messages` as the enterprise that sends each message:
the order is MATCHED. Then one variant per matching rule, each changing one value of one
message, is MISMATCH with that rule's code. Rules that the authority table's link rules
enforce before matching (a payment naming another payer, an inventory naming another
seller, ...) are shown with their link-rule outcome: the stray document is refused at intake
or never linked, so the order stays INCOMPLETE rather than matching a document that is not
its own. CURRENCY_MISMATCH is shown on exports only: the import XSD fixes every currency of
311 and 411 to 142 (CNY).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from hub.trade.models import Waybill
from tests.builders.parties import Actors, hub_actors
from tests.customs.xml_sets import (
    BROKER,
    CARRIER,
    PLATFORM,
    SENDER_FIELD,
    Record,
    export_set,
    import_set,
    message,
)

__all__ = ["hub_actors"]

IMPORT_ORDER = ("CEB311", "CEB411", "CEB511", "CEB621")
EXPORT_ORDER = ("CEB303", "CEB403", "CEB505", "CEB603")

MATCHING = """
query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) {
    direction customsStatus riskFlags taxTotal taxComputed
    matching { status missing discrepancies { code detail } }
    payment { payTransactionId }
    receipt { payNo }
    waybill { logisticsCode logisticsNo }
    inventory { copNo customsStatus }
  }
}"""


async def post_record(actors: Actors, name: str, record: Record, *, as_: str | None = None):
    """Posts one record as a message of type `name`, as its sender (or `as_`)."""
    sender = as_ or record[SENDER_FIELD[name]]
    token = await actors.enterprise(sender)
    response = await actors.http.post(
        "/messages",
        content=message(name, [record], sender=sender),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    return result


async def post_all(actors: Actors, docs: dict[str, Record], names: tuple[str, ...]) -> None:
    for name in names:
        result = await post_record(actors, name, docs[name])
        assert result["accepted"], (name, result)


async def order_view(actors: Actors, order_no: str) -> dict[str, Any]:
    body = await actors.query(
        MATCHING, scopes="customs:read", variables={"ebp": PLATFORM, "no": order_no}
    )
    assert "errors" not in body, body
    order: dict[str, Any] = body["data"]["order"]
    assert order is not None
    return order


def codes(order: dict[str, Any]) -> set[str]:
    return {d["code"] for d in order["matching"]["discrepancies"]}


# --- the consistent sets ------------------------------------------------------------------


async def test_an_import_set_posted_as_xml_is_matched_and_released(hub_actors: Actors) -> None:
    docs = import_set()
    order_no = docs["CEB311"]["orderNo"]
    await post_all(hub_actors, docs, IMPORT_ORDER)
    order = await order_view(hub_actors, order_no)
    assert order["matching"] == {"status": "MATCHED", "missing": [], "discrepancies": []}
    assert order["direction"] == "I"
    # The tax the order declares is the hub's estimate: no risk flag at all.
    assert order["riskFlags"] == [] and order["taxTotal"] == order["taxComputed"]
    # The CEB511 names no platform: the inventory naming its waybill number linked it.
    assert order["waybill"] == {
        "logisticsCode": CARRIER,
        "logisticsNo": docs["CEB511"]["logisticsNo"],
    }
    assert order["payment"]["payTransactionId"] == docs["CEB411"]["payTransactionId"]
    assert order["customsStatus"] is None

    # The 622 names the inventory by agentCode + copNo only; it reaches the order.
    result = await post_record(hub_actors, "CEB622", docs["CEB622"])
    assert result["accepted"], result
    order = await order_view(hub_actors, order_no)
    assert order["customsStatus"] == 800
    assert order["inventory"] == {"copNo": docs["CEB621"]["copNo"], "customsStatus": 800}
    assert order["matching"]["status"] == "MATCHED"


async def test_an_export_set_posted_as_xml_is_matched_and_released(hub_actors: Actors) -> None:
    docs = export_set()
    order_no = docs["CEB303"]["orderNo"]
    await post_all(hub_actors, docs, EXPORT_ORDER)
    order = await order_view(hub_actors, order_no)
    assert order["matching"] == {"status": "MATCHED", "missing": [], "discrepancies": []}
    assert order["direction"] == "E"
    # The CEB505 names no order: the 603 links it by logisticsCode + logisticsNo.
    assert order["waybill"]["logisticsNo"] == docs["CEB505"]["logisticsNo"]
    assert order["receipt"] == {"payNo": docs["CEB403"]["payNo"]}
    result = await post_record(hub_actors, "CEB604", docs["CEB604"])
    assert result["accepted"], result
    order = await order_view(hub_actors, order_no)
    assert order["customsStatus"] == 800
    assert order["inventory"]["customsStatus"] == 800
    assert order["matching"]["status"] == "MATCHED"


@pytest.mark.parametrize("names", [EXPORT_ORDER[::-1], IMPORT_ORDER[::-1]])
async def test_a_set_posted_in_reverse_order_matches_all_the_same(
    hub_actors: Actors, names: tuple[str, ...]
) -> None:
    # Waybills before their inventory, inventories before their order: links wait.
    docs = export_set() if names[-1] == "CEB303" else import_set()
    await post_all(hub_actors, docs, names)
    order = await order_view(hub_actors, docs[names[-1]]["orderNo"])
    assert order["matching"]["status"] == "MATCHED", order


# --- one variant per matching rule -----------------------------------------------------------


Change = Callable[[dict[str, Record]], None]


def _set(name: str, field: str, value: Any) -> Change:
    def change(docs: dict[str, Record]) -> None:
        docs[name][field] = value

    return change


def _line(name: str, index: int, **values: Any) -> Change:
    def change(docs: dict[str, Record]) -> None:
        docs[name]["items"][index].update(values)

    return change


def _drop_line(name: str, index: int) -> Change:
    def change(docs: dict[str, Record]) -> None:
        del docs[name]["items"][index]

    return change


def _extra_line(name: str, gnum: int) -> Change:
    # A copy of line `gnum` when there is one (the same line twice), else of the first.
    def change(docs: dict[str, Record]) -> None:
        items = docs[name]["items"]
        source = next((line for line in items if line["gnum"] == gnum), items[0])
        items.append(copy.deepcopy(source) | {"gnum": gnum})

    return change


def _amounts(**values: str) -> Change:
    # Order and payment amounts changed together, so that only one rule breaks.
    def change(docs: dict[str, Record]) -> None:
        for field, value in values.items():
            name = "CEB411" if field == "amountPaid" else "CEB311"
            docs[name][field] = value

    return change


IMPORT_VARIANTS: list[tuple[str, Change, str]] = [
    ("payment amountPaid", _set("CEB411", "amountPaid", "1000.00"), "AMOUNT_PAID_MISMATCH"),
    (
        "order acturalPaid",
        _amounts(acturalPaid="1200.00", amountPaid="1200.00"),
        "ORDER_TOTAL_MISMATCH",
    ),
    (
        # Lines total 1000; goodsValue, what is paid and the tax say 1100.
        "order goodsValue",
        _amounts(goodsValue="1100", taxTotal="101.01", acturalPaid="1211.01", amountPaid="1211.01"),
        "LINE_TOTAL_MISMATCH",
    ),
    ("waybill consignee", _set("CEB511", "consignee", "王小明"), "CONSIGNEE_MISMATCH"),
    ("inventory buyerName", _set("CEB621", "buyerName", "王小明"), "INVENTORY_ORDER_MISMATCH"),
    ("inventory line gone", _drop_line("CEB621", 1), "LINE_MISSING"),
    ("inventory line extra", _extra_line("CEB621", 3), "LINE_EXTRA"),
    ("inventory gnum twice", _extra_line("CEB621", 1), "LINE_DUPLICATE"),
    ("inventory gname", _line("CEB621", 0, gname="小米电视"), "LINE_NAME_MISMATCH"),
    ("inventory qty", _line("CEB621", 0, qty="3"), "LINE_VALUE_MISMATCH"),
    ("inventory totalPrice", _line("CEB621", 1, totalPrice="450"), "LINE_VALUE_MISMATCH"),
]
EXPORT_VARIANTS: list[tuple[str, Change, str]] = [
    ("receipt currency", _set("CEB403", "currency", "502"), "CURRENCY_MISMATCH"),
    ("order goodsValue", _set("CEB303", "goodsValue", "900"), "LINE_TOTAL_MISMATCH"),
    ("waybill seller", _set("CEB505", "ebcCode", "3301969999"), "WAYBILL_ORDER_MISMATCH"),
    ("inventory line gone", _drop_line("CEB603", 0), "LINE_MISSING"),
    ("inventory line extra", _extra_line("CEB603", 3), "LINE_EXTRA"),
    ("inventory gnum twice", _extra_line("CEB603", 2), "LINE_DUPLICATE"),
    ("inventory gname", _line("CEB603", 1, gname="有线耳机"), "LINE_NAME_MISMATCH"),
    ("inventory qty", _line("CEB603", 1, qty="2"), "LINE_VALUE_MISMATCH"),
]


@pytest.mark.parametrize(
    ("what", "change", "code"), IMPORT_VARIANTS, ids=[v[0] for v in IMPORT_VARIANTS]
)
async def test_an_import_variant_is_a_mismatch_with_its_rule_code(
    hub_actors: Actors, what: str, change: Change, code: str
) -> None:
    docs = import_set()
    change(docs)
    await post_all(hub_actors, docs, IMPORT_ORDER)
    order = await order_view(hub_actors, docs["CEB311"]["orderNo"])
    assert order["matching"]["status"] == "MISMATCH", order
    assert codes(order) == {code}, order["matching"]


@pytest.mark.parametrize(
    ("what", "change", "code"), EXPORT_VARIANTS, ids=[v[0] for v in EXPORT_VARIANTS]
)
async def test_an_export_variant_is_a_mismatch_with_its_rule_code(
    hub_actors: Actors, what: str, change: Change, code: str
) -> None:
    docs = export_set()
    change(docs)
    await post_all(hub_actors, docs, EXPORT_ORDER)
    order = await order_view(hub_actors, docs["CEB303"]["orderNo"])
    assert order["matching"]["status"] == "MISMATCH", order
    assert codes(order) == {code}, order["matching"]


async def test_an_import_inventory_under_an_export_order_is_a_direction_mismatch(
    hub_actors: Actors,
) -> None:
    docs = export_set()
    await post_all(hub_actors, docs, ("CEB303", "CEB403", "CEB505"))
    inventory = import_set(docs["CEB303"]["orderNo"])["CEB621"]
    inventory["logisticsNo"] = docs["CEB505"]["logisticsNo"]
    result = await post_record(hub_actors, "CEB621", inventory)
    assert result["accepted"], result
    order = await order_view(hub_actors, docs["CEB303"]["orderNo"])
    assert order["matching"]["status"] == "MISMATCH"
    assert codes(order) == {"DIRECTION_MISMATCH"}
    # An import inventory never links an export waybill.
    assert order["matching"]["missing"] == ["waybill"]


async def test_payer_not_buyer_is_a_mismatch_when_the_switch_asks_for_it(
    hub_actors: Actors,
) -> None:
    # Off by default (the 2016 rule asks for it only where the buyer's identity cannot be
    # verified, rules_config.payer_must_be_buyer); a zone that turns it on sees the rule.
    runtime = hub_actors.app.state.runtime
    runtime.rules = replace(runtime.rules, payer_must_be_buyer=True)
    docs = import_set()
    docs["CEB411"]["payerName"] = "王小明"
    await post_all(hub_actors, docs, IMPORT_ORDER)
    order = await order_view(hub_actors, docs["CEB311"]["orderNo"])
    assert codes(order) == {"PAYER_NOT_BUYER"}


# --- rules the link rules enforce first --------------------------------------------------------


async def test_a_payment_naming_another_transaction_is_refused_and_the_order_waits(
    hub_actors: Actors,
) -> None:
    # PAYMENT_ORDER_REF_MISMATCH cannot arise: the payment must name the order's payCode and
    # payTransactionId (authority table link rule), so it is refused, not mismatched.
    docs = import_set()
    docs["CEB411"]["payTransactionId"] = "P-SOMEONE-ELSE"
    await post_all(hub_actors, docs, ("CEB311", "CEB511", "CEB621"))
    refused = await post_record(hub_actors, "CEB411", docs["CEB411"])
    assert {e["code"] for e in refused["errors"]} == {"LINK_MISMATCH"}
    assert refused["errors"][0]["path"].startswith("/CEB411Message/Payment[1]/PaymentHead/")
    order = await order_view(hub_actors, docs["CEB311"]["orderNo"])
    assert order["matching"]["status"] == "INCOMPLETE"
    assert order["matching"]["missing"] == ["payment"]


async def test_an_export_inventory_naming_another_seller_is_refused(hub_actors: Actors) -> None:
    # INVENTORY_ORDER_MISMATCH on ebcCode: the inventory must name the order's seller.
    docs = export_set()
    docs["CEB603"]["ebcCode"] = "3301969999"
    await post_all(hub_actors, docs, ("CEB303", "CEB403", "CEB505"))
    refused = await post_record(hub_actors, "CEB603", docs["CEB603"])
    assert {e["code"] for e in refused["errors"]} == {"LINK_MISMATCH"}
    order = await order_view(hub_actors, docs["CEB303"]["orderNo"])
    assert order["matching"]["status"] == "INCOMPLETE"
    # The export waybill names no order: without the inventory nothing links it either.
    assert order["matching"]["missing"] == ["waybill", "inventory"]


async def test_an_import_waybill_naming_another_order_is_never_linked(hub_actors: Actors) -> None:
    # The attack: a 511 for order B under the waybill number the inventory of order A names.
    # The CEB511 names no platform, so only an inventory of the same orderNo may link it:
    # order A stays without a waybill (INCOMPLETE), and no platform gains the parcel.
    docs = import_set()
    docs["CEB511"]["orderNo"] = "ORD-SOMEONE-ELSE"
    await post_all(hub_actors, docs, ("CEB311", "CEB411", "CEB621", "CEB511"))
    order = await order_view(hub_actors, docs["CEB311"]["orderNo"])
    assert order["matching"]["status"] == "INCOMPLETE"
    assert order["matching"]["missing"] == ["waybill"]
    assert order["waybill"] is None
    async with hub_actors.app.state.runtime.session_factory() as session:
        waybill = await session.scalar(select(Waybill))
        assert waybill is not None and waybill.ebp_code == ""


async def test_an_inventory_naming_a_waybill_of_another_order_is_refused(
    hub_actors: Actors,
) -> None:
    # The waybill arrived first and names order B: the inventory of order A that names it
    # is refused (the link would not be mutual), the order waits for its own documents.
    docs = import_set()
    docs["CEB511"]["orderNo"] = "ORD-SOMEONE-ELSE"
    await post_all(hub_actors, docs, ("CEB511", "CEB311", "CEB411"))
    refused = await post_record(hub_actors, "CEB621", docs["CEB621"], as_=BROKER)
    assert {e["code"] for e in refused["errors"]} == {"LINK_MISMATCH"}
