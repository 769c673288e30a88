"""Three-document matching: every discrepancy code, the statuses and the configurable rules."""

from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from hub.trade.matching import (
    DiscrepancyCode,
    MatchResult,
    MatchStatus,
    match_order,
    required_documents,
)
from hub.trade.rules_config import RuleConfig

RULES = RuleConfig()
PLATFORM = "91350100M000100Y43"
SELLER = "91440300708461136T"
PAY = "91320602MA1L3C8R6X"
CARRIER = "91320681MA1Q9W5N4X"


def _import_documents() -> dict[str, dict[str, Any]]:
    """A consistent import order with its payment, waybill and inventory."""
    order = {
        "orderType": "I",
        "orderNo": "PY2024I00000001",
        "ebpCode": PLATFORM,
        "ebpName": "Demo Platform",
        "ebcCode": SELLER,
        "ebcName": "Demo Seller",
        "goodsValue": "300.00",
        "freight": "10.00",
        "discount": "20.00",
        "taxTotal": "26.39",
        "acturalPaid": "316.39",
        "currency": "142",
        "tradeMode": "9610",
        "buyerRegNo": "u0000001",
        "buyerName": "Zhao Ning",
        "buyerTelephone": "10012345678",
        "buyerIdType": "1",
        "buyerIdNumber": "991201199001011234",
        "payCode": PAY,
        "payName": "Demo Pay",
        "payTransactionId": "TZ00000000000001",
        "consignee": "Zhao Ning",
        "consigneeTelephone": "10012345678",
        "consigneeAddress": "Room 101, 1 Renmin Road, Gulou District, Nanjing",
        "items": [
            {
                "gnum": 1,
                "itemName": "Infant formula stage 1",
                "gmodel": "800 g",
                "unit": "122",
                "qty": "1",
                "price": "200.00",
                "totalPrice": "200.00",
                "currency": "142",
                "country": "609",
            },
            {
                "gnum": 2,
                "itemName": "Fish oil softgels",
                "gmodel": "400 capsules",
                "unit": "142",
                "qty": "2",
                "price": "50.00",
                "totalPrice": "100.00",
                "currency": "142",
                "country": "601",
            },
        ],
        "appType": "1",
        "appTime": "20240301101010",
    }
    payment = {
        "payCode": PAY,
        "payName": "Demo Pay",
        "payTransactionId": "TZ00000000000001",
        "orderNo": order["orderNo"],
        "ebpCode": PLATFORM,
        "ebpName": "Demo Platform",
        "payerIdType": "1",
        "payerIdNumber": order["buyerIdNumber"],
        "payerName": order["buyerName"],
        "amountPaid": "316.39",
        "currency": "142",
        "payTime": "20240301101500",
        "appType": "1",
        "appTime": "20240301101600",
    }
    waybill = {
        "ieFlag": "I",
        "logisticsCode": CARRIER,
        "logisticsName": "Demo Carrier",
        "logisticsNo": "HHKY240000000001",
        "ebpCode": PLATFORM,
        "orderNo": order["orderNo"],
        "currency": "142",
        "weight": "2.5",
        "packNo": 1,
        "consignee": order["consignee"],
        "consigneeAddress": order["consigneeAddress"],
        "consigneeTelephone": order["consigneeTelephone"],
        "appType": "1",
        "appTime": "20240301120000",
    }
    inventory = {
        "ieFlag": "I",
        "orderNo": order["orderNo"],
        "ebpCode": PLATFORM,
        "ebcCode": SELLER,
        "logisticsCode": CARRIER,
        "logisticsNo": waybill["logisticsNo"],
        "tradeMode": "9610",
        "buyerIdType": "1",
        "buyerIdNumber": order["buyerIdNumber"],
        "buyerName": order["buyerName"],
        "insuredFee": "0",
        "items": [
            {
                "gnum": 1,
                "gcode": "1901101000",
                "gname": "Infant formula stage 1",
                "qty": "1",
                "totalPrice": "200.00",
            },
            {
                "gnum": 2,
                "gcode": "2106909090",
                "gname": "Fish oil softgels",
                "qty": "2",
                "totalPrice": "100.00",
            },
        ],
    }
    return copy.deepcopy(
        {"order": order, "payment": payment, "waybill": waybill, "inventory": inventory}
    )


def _export_documents() -> dict[str, dict[str, Any]]:
    """A consistent export (B2C) order with its receipt, waybill and inventory."""
    documents = _import_documents()
    order = documents["order"]
    order.update(orderType="E", tradeMode="9610", taxTotal="0", acturalPaid="290.00")
    for field in ("buyerIdType", "buyerIdNumber", "payCode", "payName", "payTransactionId"):
        del order[field]
    receipt = {
        "payCode": PAY,
        "payName": "Demo Pay",
        "payNo": "RTZ0001",
        "orderNo": order["orderNo"],
        "ebpCode": PLATFORM,
        "ebpName": "Demo Platform",
        "charge": "290.00",
        "currency": "142",
        "accountingDate": "20240310000000",
        "appType": "1",
        "appTime": "20240310000000",
    }
    documents["waybill"]["ieFlag"] = "E"
    inventory = documents["inventory"]
    inventory["ieFlag"] = "E"
    for field in ("buyerIdType", "buyerIdNumber", "buyerName"):
        del inventory[field]
    return {**documents, "payment": receipt}


def _match(documents: dict[str, Any], direction: str = "I", **rules: Any) -> MatchResult:
    return match_order(
        order=documents.get("order"),
        payment=documents.get("payment"),
        waybill=documents.get("waybill"),
        inventory=documents.get("inventory"),
        direction=direction,  # type: ignore[arg-type]
        config=replace(RULES, **rules),
    )


def test_consistent_import_documents_match() -> None:
    result = _match(_import_documents())
    assert result.status is MatchStatus.MATCHED
    assert result.missing == ()
    assert result.discrepancies == ()


def test_consistent_export_documents_match() -> None:
    result = _match(_export_documents(), "E")
    assert result.status is MatchStatus.MATCHED, result


@pytest.mark.parametrize("absent", ["order", "payment", "waybill", "inventory"])
def test_an_absent_import_document_makes_the_order_incomplete(absent: str) -> None:
    documents = _import_documents()
    documents[absent] = None
    result = _match(documents)
    assert result.status is MatchStatus.INCOMPLETE
    assert result.missing == (absent,)


def test_only_an_order_is_incomplete_with_every_other_slot_missing() -> None:
    documents = {"order": _import_documents()["order"]}
    result = _match(documents)
    assert result.status is MatchStatus.INCOMPLETE
    assert result.missing == ("payment", "waybill", "inventory")


def test_export_receipt_is_optional_by_default_and_named_receipt_when_required() -> None:
    documents = _export_documents()
    documents["payment"] = None
    assert _match(documents, "E").status is MatchStatus.MATCHED
    strict = _match(documents, "E", export_receipt_required=True)
    assert strict.status is MatchStatus.INCOMPLETE
    assert strict.missing == ("receipt",)
    assert required_documents(direction="E", config=RULES) == ("order", "waybill", "inventory")


def test_a_discrepancy_wins_over_missing_documents() -> None:
    documents = _import_documents()
    documents["inventory"] = None
    documents["payment"]["amountPaid"] = "300.00"
    result = _match(documents)
    assert result.status is MatchStatus.MISMATCH
    assert result.missing == ("inventory",)
    assert result.codes == {DiscrepancyCode.AMOUNT_PAID_MISMATCH}


def test_amount_paid_must_equal_actural_paid_exactly_by_default() -> None:
    documents = _import_documents()
    documents["payment"]["amountPaid"] = "316.38"
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.AMOUNT_PAID_MISMATCH}
    assert "316.39" in result.discrepancies[0].detail


def test_amounts_compare_as_decimals_not_as_text() -> None:
    documents = _import_documents()
    documents["payment"]["amountPaid"] = "316.390"
    assert _match(documents).status is MatchStatus.MATCHED


def test_amount_tolerance_is_a_fraction_of_actural_paid() -> None:
    documents = _import_documents()
    # 5 % of 316.39 is 15.8195: 15.81 off passes, 15.82 off does not.
    documents["payment"]["amountPaid"] = str(Decimal("316.39") - Decimal("15.81"))
    assert _match(documents, amount_tolerance=Decimal("0.05")).status is MatchStatus.MATCHED
    documents["payment"]["amountPaid"] = str(Decimal("316.39") + Decimal("15.82"))
    result = _match(documents, amount_tolerance=Decimal("0.05"))
    assert result.codes == {DiscrepancyCode.AMOUNT_PAID_MISMATCH}


def test_export_receipt_charge_is_checked_against_actural_paid() -> None:
    documents = _export_documents()
    documents["payment"]["charge"] = "280.00"
    assert _match(documents, "E").codes == {DiscrepancyCode.AMOUNT_PAID_MISMATCH}


def test_payment_in_another_currency_is_a_currency_mismatch() -> None:
    documents = _import_documents()
    documents["payment"]["currency"] = "502"
    assert _match(documents).codes == {DiscrepancyCode.CURRENCY_MISMATCH}


def test_actural_paid_must_be_goods_plus_freight_plus_tax_minus_discount() -> None:
    documents = _import_documents()
    documents["order"]["acturalPaid"] = "336.39"  # discount forgotten
    documents["payment"]["amountPaid"] = "336.39"
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.ORDER_TOTAL_MISMATCH}


def test_tolerance_does_not_relax_the_order_arithmetic() -> None:
    documents = _import_documents()
    documents["order"]["acturalPaid"] = "316.40"
    documents["payment"]["amountPaid"] = "316.40"
    result = _match(documents, amount_tolerance=Decimal("0.05"))
    assert result.codes == {DiscrepancyCode.ORDER_TOTAL_MISMATCH}


def test_line_totals_must_add_up_to_goods_value() -> None:
    documents = _import_documents()
    documents["order"]["items"][1]["totalPrice"] = "90.00"
    documents["inventory"]["items"][1]["totalPrice"] = "90.00"
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.LINE_TOTAL_MISMATCH}


def test_decimal_sums_are_exact() -> None:
    # 0.1 + 0.2 is not 0.3 in binary floating point; it must be here.
    documents = _import_documents()
    order = documents["order"]
    order.update(goodsValue="0.3", freight="0", discount="0", taxTotal="0", acturalPaid="0.3")
    order["items"][0]["totalPrice"] = "0.1"
    order["items"][1]["totalPrice"] = "0.2"
    documents["inventory"]["items"][0]["totalPrice"] = "0.1"
    documents["inventory"]["items"][1]["totalPrice"] = "0.2"
    documents["payment"]["amountPaid"] = "0.30"
    assert _match(documents).status is MatchStatus.MATCHED


def test_amounts_given_as_floats_are_refused() -> None:
    documents = _import_documents()
    documents["payment"]["amountPaid"] = 316.39
    with pytest.raises(TypeError, match="amountPaid"):
        _match(documents)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payTransactionId", "TZ99999999999999"),
        ("payCode", "91320302MA1D7B2P5X"),
        ("orderNo", "PY2024I00000002"),
        ("ebpCode", SELLER),
    ],
)
def test_payment_must_carry_the_order_references(field: str, value: str) -> None:
    documents = _import_documents()
    documents["payment"][field] = value
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.PAYMENT_ORDER_REF_MISMATCH}
    assert field in result.discrepancies[0].detail


def test_pay_references_are_only_compared_when_the_order_names_them() -> None:
    documents = _import_documents()
    del documents["order"]["payCode"], documents["order"]["payTransactionId"]
    assert _match(documents).status is MatchStatus.MATCHED


def test_payer_may_differ_from_the_buyer_by_default_customs_2016_26() -> None:
    # The 2016 rule asks payer = buyer only where the buyer's identity cannot be verified,
    # which the hub cannot see: the check is off unless a zone switches it on.
    documents = _import_documents()
    documents["payment"]["payerIdNumber"] = "991201198502020012"
    documents["payment"]["payerName"] = "Zhao Ming"
    assert _match(documents).status is MatchStatus.MATCHED


def test_payer_must_be_the_buyer_when_switched_on() -> None:
    documents = _import_documents()
    documents["payment"]["payerIdNumber"] = "991201198502020012"
    documents["payment"]["payerName"] = "Zhao Ming"
    result = _match(documents, payer_must_be_buyer=True)
    assert result.codes == {DiscrepancyCode.PAYER_NOT_BUYER}
    assert "payerIdNumber" not in result.discrepancies[0].detail  # named in buyer's terms
    assert "buyerIdNumber" in result.discrepancies[0].detail
    assert "buyerName" in result.discrepancies[0].detail


@pytest.mark.parametrize("field", ["consignee", "consigneeTelephone", "consigneeAddress"])
def test_waybill_consignee_must_equal_the_order_and_the_detail_names_the_field(
    field: str,
) -> None:
    documents = _import_documents()
    documents["waybill"][field] += "9"
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.CONSIGNEE_MISMATCH}
    assert result.discrepancies[0].detail.endswith(field)


def test_waybill_must_name_the_order() -> None:
    documents = _import_documents()
    documents["waybill"]["orderNo"] = "PY2024I00000002"
    assert _match(documents).codes == {DiscrepancyCode.WAYBILL_ORDER_MISMATCH}


@pytest.mark.parametrize(
    "field", ["orderNo", "ebpCode", "ebcCode", "buyerIdNumber", "buyerName", "tradeMode"]
)
def test_inventory_must_repeat_the_order_head(field: str) -> None:
    documents = _import_documents()
    documents["inventory"][field] = "1210" if field == "tradeMode" else "X" + field
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.INVENTORY_ORDER_MISMATCH}
    assert field in result.discrepancies[0].detail


@pytest.mark.parametrize("field", ["logisticsCode", "logisticsNo"])
def test_inventory_and_waybill_must_share_carrier_and_number(field: str) -> None:
    documents = _import_documents()
    documents["inventory"][field] = "HHKY240000000099"
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.INVENTORY_WAYBILL_MISMATCH}


def test_inventory_and_waybill_are_compared_even_without_an_order() -> None:
    documents = _import_documents()
    documents["order"] = None
    documents["waybill"]["logisticsNo"] = "HHKY240000000099"
    result = _match(documents)
    assert result.status is MatchStatus.MISMATCH
    assert result.codes == {DiscrepancyCode.INVENTORY_WAYBILL_MISMATCH}


def test_an_order_line_absent_from_the_inventory_is_missing() -> None:
    documents = _import_documents()
    del documents["inventory"]["items"][1]
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.LINE_MISSING}
    assert "gnum 2" in result.discrepancies[0].detail


def test_an_inventory_line_without_order_line_is_extra() -> None:
    documents = _import_documents()
    extra = dict(documents["inventory"]["items"][1], gnum=3)
    documents["inventory"]["items"].append(extra)
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.LINE_EXTRA}


def test_a_gnum_used_twice_is_a_duplicate() -> None:
    documents = _import_documents()
    documents["inventory"]["items"][1]["gnum"] = 1
    result = _match(documents)
    assert DiscrepancyCode.LINE_DUPLICATE in result.codes


def test_inventory_line_names_must_equal_order_item_names() -> None:
    documents = _import_documents()
    documents["inventory"]["items"][0]["gname"] = "Infant formula stage 2"
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.LINE_NAME_MISMATCH}
    assert "stage 2" in result.discrepancies[0].detail


def test_inventory_line_quantities_and_totals_must_equal_the_order() -> None:
    documents = _import_documents()
    documents["inventory"]["items"][1]["qty"] = "3"
    result = _match(documents)
    assert result.codes == {DiscrepancyCode.LINE_VALUE_MISMATCH}


def test_documents_of_the_other_direction_are_flagged() -> None:
    documents = _import_documents()
    documents["waybill"]["ieFlag"] = "E"
    assert _match(documents).codes == {DiscrepancyCode.DIRECTION_MISMATCH}
    assert DiscrepancyCode.DIRECTION_MISMATCH in _match(_import_documents(), "E").codes


def test_export_consignee_is_compared_only_where_both_documents_state_it() -> None:
    documents = _export_documents()
    del documents["waybill"]["consigneeTelephone"]
    assert _match(documents, "E").status is MatchStatus.MATCHED
    documents["waybill"]["consignee"] = "Someone Else"
    assert _match(documents, "E").codes == {DiscrepancyCode.CONSIGNEE_MISMATCH}


def test_export_orders_skip_the_payer_rule() -> None:
    documents = _export_documents()
    assert _match(documents, "E", payer_must_be_buyer=True).status is MatchStatus.MATCHED


def test_several_discrepancies_are_all_reported_in_check_order() -> None:
    documents = _import_documents()
    documents["payment"]["amountPaid"] = "1.00"
    documents["waybill"]["consignee"] = "Qian Yu"
    documents["inventory"]["items"][0]["gname"] = "Something else"
    result = _match(documents)
    assert [d.code for d in result.discrepancies] == [
        DiscrepancyCode.AMOUNT_PAID_MISMATCH,
        DiscrepancyCode.CONSIGNEE_MISMATCH,
        DiscrepancyCode.LINE_NAME_MISMATCH,
    ]


def test_an_unknown_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="direction"):
        _match(_import_documents(), "X")
