"""The CEB 2022-05 records after an order's clearance, through XML intake: cancellations
(623) and returns (625) give annual quota back, the tax bill (816) shows customs' tax beside
the hub's estimate, summary results (792) give export inventories their customs
declaration, departure lists (509) keep the departure evidence on the waybills. Each is
applied only where it names the inventory's (or waybill's) own parties: the attacks below.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from hub.trade.models import BuyerYearTotal, Inventory, LimitEntry, Order, Waybill
from tests.builders.parties import Actors, hub_actors
from tests.customs.test_matching_xml import (
    EXPORT_ORDER,
    IMPORT_ORDER,
    order_view,
    post_all,
    post_record,
)
from tests.customs.xml_sets import (
    arrival,
    cancellation,
    departure,
    export_set,
    goods_return,
    import_set,
    summary_result,
    tax_bill,
)

__all__ = ["hub_actors"]

STRANGER_BROKER = "3301969005"
BUYER_ID = "130681136250023332"


async def _released_import(actors: Actors, order_no: str = "ORD-CLR-I-0001") -> dict[str, Any]:
    docs = import_set(order_no)
    await post_all(actors, docs, (*IMPORT_ORDER, "CEB622"))
    return docs


async def _quota(actors: Actors, order_no: str) -> tuple[str, Decimal, Decimal]:
    """(standing, amount counted, buyer's confirmed total) of an order's entry."""
    async with actors.app.state.runtime.session_factory() as session:
        entry = await session.scalar(
            select(LimitEntry)
            .join(Order, Order.id == LimitEntry.order_id)
            .where(Order.order_no == order_no)
        )
        total = await session.scalar(
            select(BuyerYearTotal.confirmed_total).where(BuyerYearTotal.buyer_id_number == BUYER_ID)
        )
    assert entry is not None
    return entry.standing, entry.amount, total or Decimal(0)


async def _row(actors: Actors, model: Any, **where: Any) -> Any:
    async with actors.app.state.runtime.session_factory() as session:
        query = select(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return await session.scalar(query)


# --- cancellations and returns --------------------------------------------------------------


async def test_a_released_import_counts_and_its_cancellation_gives_the_quota_back(
    hub_actors: Actors,
) -> None:
    docs = await _released_import(hub_actors)
    assert await _quota(hub_actors, "ORD-CLR-I-0001") == (
        "CONFIRMED",
        Decimal("1010.00000"),
        Decimal("1010.00000"),
    )
    result = await post_record(hub_actors, "CEB623", cancellation(docs))
    assert result["accepted"], result
    # As a withdrawn inventory: the buyer's year (every platform) no longer counts it; the
    # platform's own tally keeps the order while the order itself stands (hub.trade.limits).
    standing, _, total = await _quota(hub_actors, "ORD-CLR-I-0001")
    assert (standing, total) == ("PENDING", Decimal(0))
    inventory = await _row(hub_actors, Inventory, order_no="ORD-CLR-I-0001")
    assert [r["kind"] for r in inventory.requests] == ["CANCEL"]
    assert inventory.requests[0]["reason"] == "消费者取消订单"

    # The broker withdraws its application: the order counts again.
    withdrawn = await post_record(hub_actors, "CEB623", cancellation(docs, appType="3"))
    assert withdrawn["accepted"], withdrawn
    assert (await _quota(hub_actors, "ORD-CLR-I-0001"))[2] == Decimal("1010.00000")


async def test_a_partial_return_gives_back_its_share_of_the_dutiable_value(
    hub_actors: Actors,
) -> None:
    docs = await _released_import(hub_actors)
    # Line 1 is 600 of 1000 of goods, 2 pieces; one piece returned: 1010 × 0.6 × 1/2 = 303.
    result = await post_record(hub_actors, "CEB625", goods_return(docs, [(1, "1")]))
    assert result["accepted"], result
    assert await _quota(hub_actors, "ORD-CLR-I-0001") == (
        "CONFIRMED",
        Decimal("707.00000"),
        Decimal("707.00000"),
    )
    inventory = await _row(hub_actors, Inventory, order_no="ORD-CLR-I-0001")
    assert inventory.requests[0]["items"] == [{"gnum": 1, "qty": "1", "unit": "007"}]

    # A return of more than the inventory holds gives back the whole line, never more.
    more = goods_return(docs, [(1, "5"), (2, "1")], copNo="R2-CLR-I-0001")
    assert (await post_record(hub_actors, "CEB625", more))["accepted"]
    assert (await _quota(hub_actors, "ORD-CLR-I-0001"))[1] == Decimal(0)


async def test_a_cancellation_by_another_broker_is_refused_and_frees_nothing(
    hub_actors: Actors,
) -> None:
    docs = await _released_import(hub_actors)
    forged = cancellation(docs, agentCode=STRANGER_BROKER)
    result = await post_record(hub_actors, "CEB623", forged)
    assert [e["code"] for e in result["errors"]] == ["LINK_MISMATCH"]
    assert (await _quota(hub_actors, "ORD-CLR-I-0001"))[0] == "CONFIRMED"


async def test_a_return_filed_before_the_inventory_by_another_broker_is_never_applied(
    hub_actors: Actors,
) -> None:
    docs = import_set("ORD-CLR-I-0002")
    forged = goods_return(docs, [(1, "2"), (2, "1")], agentCode=STRANGER_BROKER)
    assert (await post_record(hub_actors, "CEB625", forged))["accepted"]  # nothing to check yet
    await post_all(hub_actors, docs, (*IMPORT_ORDER, "CEB622"))
    assert await _quota(hub_actors, "ORD-CLR-I-0002") == (
        "CONFIRMED",
        Decimal("1010.00000"),
        Decimal("1010.00000"),
    )
    inventory = await _row(hub_actors, Inventory, order_no="ORD-CLR-I-0002")
    assert inventory.requests is None


# --- tax bills ---------------------------------------------------------------------------------


async def test_the_tax_bill_is_shown_beside_the_estimate_and_agrees(hub_actors: Actors) -> None:
    docs = await _released_import(hub_actors)
    estimate = docs["CEB311"]["taxTotal"]  # the hub's estimate, declared as taxTotal
    result = await post_record(hub_actors, "CEB816", tax_bill(docs, vat=estimate))
    assert result["accepted"], result
    order = await _row(hub_actors, Order, order_no="ORD-CLR-I-0001")
    assert order.tax_assessed == order.tax_computed == Decimal(estimate)
    assert "TAX_ASSESSED_DIFFERS" not in order.risk_flags
    inventory = await _row(hub_actors, Inventory, order_no="ORD-CLR-I-0001")
    assert inventory.invt_no == docs["CEB622"]["invtNo"]  # from the 622
    assert inventory.tax_bill["total"] == estimate
    assert [line["gnum"] for line in inventory.tax_bill["items"]] == [1, 2]


async def test_a_tax_bill_other_than_the_estimate_is_flagged_and_a_void_one_is_not(
    hub_actors: Actors,
) -> None:
    docs = await _released_import(hub_actors)
    assessed = tax_bill(docs, vat="120.00")
    assert (await post_record(hub_actors, "CEB816", assessed))["accepted"]
    order = await _row(hub_actors, Order, order_no="ORD-CLR-I-0001")
    assert order.tax_assessed == Decimal("120.00")
    assert "TAX_ASSESSED_DIFFERS" in order.risk_flags
    void = assessed | {"status": "3", "returnTime": "20240302100000000"}
    assert (await post_record(hub_actors, "CEB816", void))["accepted"]
    order = await _row(hub_actors, Order, order_no="ORD-CLR-I-0001")
    assert order.tax_assessed is None and "TAX_ASSESSED_DIFFERS" not in order.risk_flags


async def test_a_tax_bill_arriving_before_the_inventory_number_waits_for_it(
    hub_actors: Actors,
) -> None:
    docs = import_set("ORD-CLR-I-0003")
    await post_all(hub_actors, docs, IMPORT_ORDER)
    assert (await post_record(hub_actors, "CEB816", tax_bill(docs, vat="120.00")))["accepted"]
    assert (await _row(hub_actors, Order, order_no="ORD-CLR-I-0003")).tax_assessed is None
    assert (await post_record(hub_actors, "CEB622", docs["CEB622"]))["accepted"]
    order = await _row(hub_actors, Order, order_no="ORD-CLR-I-0003")
    assert order.tax_assessed == Decimal("120.00")


async def test_a_tax_bill_relayed_by_a_stranger_is_never_shown(hub_actors: Actors) -> None:
    # The attack: a broker that declared nothing of this order relays a bill naming itself.
    docs = await _released_import(hub_actors)
    forged = tax_bill(docs, vat="0.01", agentCode=STRANGER_BROKER)
    assert (await post_record(hub_actors, "CEB816", forged))["accepted"]
    order = await _row(hub_actors, Order, order_no="ORD-CLR-I-0001")
    assert order.tax_assessed is None and order.risk_flags == []


# --- export: summary results and departure evidence ---------------------------------------------


async def _released_export(actors: Actors) -> dict[str, Any]:
    docs = export_set("ORD-CLR-E-0001")
    await post_all(actors, docs, (*EXPORT_ORDER, "CEB604"))
    return docs


async def test_a_summary_result_gives_the_export_inventory_its_customs_declaration(
    hub_actors: Actors,
) -> None:
    docs = await _released_export(hub_actors)
    entry_id = "150120241000000001"
    result = await post_record(hub_actors, "CEB792", summary_result(docs, entry_id))
    assert result["accepted"], result
    inventory = await _row(hub_actors, Inventory, order_no="ORD-CLR-E-0001")
    assert inventory.invt_no == docs["CEB604"]["invtNo"]
    assert inventory.entry_id == entry_id
    assert inventory.sum_no == summary_result(docs, entry_id)["sumNo"]
    # Another broker's result for the same inventory number changes nothing.
    forged = summary_result(docs, "150120249999999999", agentCode=STRANGER_BROKER)
    assert (await post_record(hub_actors, "CEB792", forged))["accepted"]
    assert (await _row(hub_actors, Inventory, order_no="ORD-CLR-E-0001")).entry_id == entry_id


async def test_arrival_and_departure_lists_keep_their_evidence_on_the_waybill(
    hub_actors: Actors,
) -> None:
    docs = await _released_export(hub_actors)
    assert (await post_record(hub_actors, "CEB507", arrival(docs)))["accepted"]
    listed = departure(docs)
    assert (await post_record(hub_actors, "CEB509", listed))["accepted"]
    waybill = await _row(hub_actors, Waybill, logistics_no=docs["CEB505"]["logisticsNo"])
    assert waybill.arrival["operatorCode"] == "3301960008"
    assert waybill.departure["leaveTime"] == "20240309093000"
    assert waybill.departure["voyageNo"] == "CA1234"
    assert waybill.departure["billNo"] == "999-12345675"
    assert waybill.departure["totalPackageNo"] == "P1"
    order = await order_view(hub_actors, "ORD-CLR-E-0001")
    assert order["matching"]["status"] == "MATCHED"
    # The carrier cancels the list: the evidence goes with it.
    assert (await post_record(hub_actors, "CEB509", listed | {"appType": "3"}))["accepted"]
    waybill = await _row(hub_actors, Waybill, logistics_no=docs["CEB505"]["logisticsNo"])
    assert waybill.departure is None and waybill.arrival is not None


async def test_a_departure_list_by_another_carrier_touches_none_of_its_waybills(
    hub_actors: Actors,
) -> None:
    docs = await _released_export(hub_actors)
    forged = departure(docs, logisticsCode="3301969004")
    assert (await post_record(hub_actors, "CEB509", forged))["accepted"]
    waybill = await _row(hub_actors, Waybill, logistics_no=docs["CEB505"]["logisticsNo"])
    assert waybill.departure is None
