"""Finding 1: any enterprise could change or cancel another's record.

The party check looked only at the new payload, so an unrelated platform that re-sent
another platform's order with `appType: "2"` and itself as `payCode` was accepted (and
could then read the order); `appType: "3"` cancelled others' orders; a carrier rewrote
another carrier's waybill by naming itself the platform. Changes and cancellations are now
checked against the stored record by the authority table, and may not alter its key or
parties.
"""

from __future__ import annotations

from decimal import Decimal

from tests.builders.parties import (
    CARRIER,
    OTHER_CARRIER,
    OTHER_PAYER,
    OTHER_PLATFORM,
    PAYER_INSTITUTION,
    PLATFORM,
    SELLER,
    STRANGER,
    Actors,
    codes,
    hub_actors,
    import_set,
    order_as_customs,
)

__all__ = ["hub_actors"]

ORDER_NO = "XZ-F01-0001"
READ = """query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) { orderNo payment { amountPaid } provenance { declarant } }
}"""


async def _victim_order(actors: Actors) -> dict[str, dict[str, object]]:
    docs = import_set(ORDER_NO)
    await actors.file_all(docs, "order", "payment", "waybill")
    return docs


async def test_an_unrelated_platform_cannot_change_another_platforms_order_by_naming_itself_payer(
    hub_actors: Actors,
) -> None:
    docs = await _victim_order(hub_actors)
    hijack = docs["order"] | {"appType": "2", "payCode": OTHER_PLATFORM, "goodsValue": "1.00"}

    result = await hub_actors.declare("cbec.order", hijack, as_=OTHER_PLATFORM)

    assert codes(result) == ["ROLE_NOT_ALLOWED"]
    assert result["declaration"] is None
    stored = await order_as_customs(hub_actors, PLATFORM, ORDER_NO)
    assert stored is not None
    assert (stored["version"], stored["payCode"]) == (1, PAYER_INSTITUTION)
    assert Decimal(stored["goodsValue"]) == Decimal(str(docs["order"]["goodsValue"]))
    assert stored["matching"]["status"] != "MISMATCH"
    body = await hub_actors.query(
        READ, as_=OTHER_PLATFORM, variables={"ebp": PLATFORM, "no": ORDER_NO}
    )
    assert body["data"]["order"] is None  # still nothing to read


async def test_an_enterprise_posing_as_seller_cannot_change_an_order_that_names_another(
    hub_actors: Actors,
) -> None:
    docs = await _victim_order(hub_actors)
    hijack = docs["order"] | {"appType": "2", "ebcCode": STRANGER}

    result = await hub_actors.declare("cbec.order", hijack, as_=STRANGER)

    # The seller role may change orders, but the stored order names another seller; the
    # message must not say who the stored parties are.
    assert codes(result) == ["NOT_RECORD_PARTY"]
    assert SELLER not in result["errors"][0]["message"]
    assert PLATFORM not in result["errors"][0]["message"]
    stored = await order_as_customs(hub_actors, PLATFORM, ORDER_NO)
    assert stored is not None and stored["version"] == 1


async def test_nobody_but_the_orders_platform_or_seller_can_cancel_it(hub_actors: Actors) -> None:
    docs = await _victim_order(hub_actors)
    for attacker, posing_as in ((STRANGER, "ebcCode"), (OTHER_PAYER, "payCode")):
        cancel = docs["order"] | {"appType": "3", posing_as: attacker}
        result = await hub_actors.declare("cbec.order", cancel, as_=attacker)
        assert codes(result) in (["NOT_RECORD_PARTY"], ["ROLE_NOT_ALLOWED"]), result
    stored = await order_as_customs(hub_actors, PLATFORM, ORDER_NO)
    assert stored is not None and stored["status"] == "ACTIVE"

    # The order's own seller may cancel it.
    cancelled = await hub_actors.declare("cbec.order", docs["order"] | {"appType": "3"}, as_=SELLER)
    assert codes(cancelled) == []
    stored = await order_as_customs(hub_actors, PLATFORM, ORDER_NO)
    assert stored is not None and stored["status"] == "CANCELLED"


async def test_a_carrier_cannot_rewrite_another_carriers_waybill(hub_actors: Actors) -> None:
    docs = await _victim_order(hub_actors)
    # Posing as the waybill's platform (a party of the payload) ...
    as_platform = docs["waybill"] | {"appType": "2", "ebpCode": OTHER_CARRIER, "weight": "99"}
    result = await hub_actors.declare("cbec.waybill", as_platform, as_=OTHER_CARRIER)
    assert codes(result) == ["ROLE_NOT_ALLOWED"]
    # ... or cancelling it outright.
    cancel = docs["waybill"] | {"appType": "3", "ebpCode": OTHER_CARRIER}
    result = await hub_actors.declare("cbec.waybill", cancel, as_=OTHER_CARRIER)
    assert codes(result) == ["ROLE_NOT_ALLOWED"]

    stored = await order_as_customs(hub_actors, PLATFORM, ORDER_NO)
    assert stored is not None
    assert stored["waybill"] == {
        "logisticsCode": CARRIER,
        "logisticsNo": docs["waybill"]["logisticsNo"],
    }


async def test_a_party_may_not_change_the_parties_of_a_record(hub_actors: Actors) -> None:
    docs = await _victim_order(hub_actors)
    moved = docs["order"] | {"appType": "2", "payCode": OTHER_PAYER}

    result = await hub_actors.declare("cbec.order", moved, as_=PLATFORM)

    assert codes(result) == ["PARTIES_CHANGED"]
    assert result["errors"][0]["path"] == "/payCode"
    stored = await order_as_customs(hub_actors, PLATFORM, ORDER_NO)
    assert stored is not None and stored["payCode"] == PAYER_INSTITUTION


async def test_the_records_own_parties_still_change_and_cancel_it(hub_actors: Actors) -> None:
    docs = await _victim_order(hub_actors)
    changed = docs["order"] | {"appType": "2", "note": "corrected by the seller"}
    assert codes(await hub_actors.declare("cbec.order", changed, as_=SELLER)) == []
    waybill = docs["waybill"] | {"appType": "2", "weight": "2.50"}
    assert codes(await hub_actors.declare("cbec.waybill", waybill, as_=CARRIER)) == []
    stored = await order_as_customs(hub_actors, PLATFORM, ORDER_NO)
    assert stored is not None and stored["version"] == 2


async def test_a_payment_institution_named_on_an_order_may_not_declare_it(
    hub_actors: Actors,
) -> None:
    order = import_set("XZ-F01-0002")["order"]
    result = await hub_actors.declare("cbec.order", order, as_=PAYER_INSTITUTION)
    assert codes(result) == ["ROLE_NOT_ALLOWED"]
    assert "platform, seller" in result["errors"][0]["message"]
