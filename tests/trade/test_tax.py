"""Retail import tax: the 70 % formula, per-line consumption rates and the comparison."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from hub.trade.rules_config import RuleConfig
from hub.trade.tax import dutiable_value, read_amount, retail_import_tax

RULES = RuleConfig()


def _order(lines: list[tuple[str, str]], **head: str) -> dict[str, Any]:
    goods = sum((Decimal(total) for total, _ in lines), Decimal(0))
    order = {
        "goodsValue": str(goods),
        "freight": "0",
        "discount": "0",
        "taxTotal": "0",
        "items": [
            {"gnum": gnum, "itemName": f"item {gnum}", "totalPrice": total}
            for gnum, (total, _) in enumerate(lines, start=1)
        ],
    }
    order.update(head)
    return order


def _inventory(lines: list[tuple[str, str]], insured: str = "0") -> dict[str, Any]:
    return {
        "insuredFee": insured,
        "items": [
            {"gnum": gnum, "gcode": gcode, "totalPrice": total}
            for gnum, (total, gcode) in enumerate(lines, start=1)
        ],
    }


def test_general_goods_pay_70_percent_of_vat_on_goods_plus_freight() -> None:
    # 300 goods + 12 freight = 312; 312 × 0.13 × 0.7 = 28.392 → 28.39
    lines = [("300.00", "1901101000")]
    assessment = retail_import_tax(
        order=_order(lines, freight="12.00", taxTotal="28.39"),
        inventory=_inventory(lines),
        config=RULES,
    )
    assert assessment.dutiable_value == Decimal("312.00")
    assert assessment.computed == Decimal("28.39")
    assert assessment.consumption_tax == Decimal("0.00")
    assert assessment.vat == Decimal("28.39")
    assert assessment.matches
    assert assessment.difference == Decimal("0.00")


def test_cosmetics_carry_consumption_tax_grossed_up_by_one_minus_the_rate() -> None:
    # 200 + 10 = 210; 210 × (0.15 + 0.13) / 0.85 × 0.7 = 48.4235… → 48.42
    # consumption part 210 × 0.15 / 0.85 × 0.7 = 25.9411… → 25.94, VAT the rest 22.48
    lines = [("200.00", "3304990099")]
    assessment = retail_import_tax(
        order=_order(lines, freight="10.00", taxTotal="48.42"),
        inventory=_inventory(lines),
        config=RULES,
    )
    assert assessment.computed == Decimal("48.42")
    assert assessment.consumption_tax == Decimal("25.94")
    assert assessment.vat == Decimal("22.48")
    assert assessment.matches


def test_freight_is_shared_over_lines_with_different_rates() -> None:
    # 100 cosmetics + 100 formula + 10 freight: each line bears 105.
    # 105 × 0.28 / 0.85 × 0.7 = 24.2117…; 105 × 0.091 = 9.555; total 33.7667… → 33.77
    lines = [("100.00", "3304990099"), ("100.00", "1901101000")]
    assessment = retail_import_tax(
        order=_order(lines, freight="10.00"), inventory=_inventory(lines), config=RULES
    )
    assert assessment.computed == Decimal("33.77")
    assert assessment.consumption_tax == Decimal("12.97")
    assert assessment.vat + assessment.consumption_tax == assessment.computed


def test_rounding_is_half_up_to_the_cent() -> None:
    # 15 × 0.13 × 0.7 = 1.365 exactly: half-up gives 1.37, banker's rounding would give 1.36.
    lines = [("15.00", "1901101000")]
    assessment = retail_import_tax(order=_order(lines), inventory=_inventory(lines), config=RULES)
    assert assessment.computed == Decimal("1.37")


def test_discount_lowers_the_dutiable_value_unless_configured_otherwise() -> None:
    lines = [("300.00", "1901101000")]
    order = _order(lines, freight="10.00", discount="20.00")
    assert dutiable_value(order=order, inventory=None, config=RULES) == Decimal("290.00")
    keep = replace(RULES, discount_reduces_dutiable_value=False)
    assert dutiable_value(order=order, inventory=None, config=keep) == Decimal("310.00")


def test_insurance_declared_on_the_inventory_is_dutiable() -> None:
    lines = [("100.00", "1901101000")]
    assessment = retail_import_tax(
        order=_order(lines), inventory=_inventory(lines, insured="10.00"), config=RULES
    )
    assert assessment.dutiable_value == Decimal("110.00")
    assert assessment.computed == Decimal("10.01")


def test_without_inventory_lines_are_taxed_at_the_default_rate_and_reported() -> None:
    lines = [("200.00", "3304990099")]
    assessment = retail_import_tax(order=_order(lines), inventory=None, config=RULES)
    assert assessment.computed == Decimal("18.20")  # 200 × 0.091, no consumption tax
    assert assessment.unclassified_lines == (1,)


def test_longest_hs_prefix_wins_and_unlisted_codes_use_the_default() -> None:
    rules = replace(
        RULES,
        consumption_rates=(("33", Decimal("0.05")), ("3304", Decimal("0.15"))),
        default_consumption_rate=Decimal("0.01"),
    )
    assert rules.consumption_rate_for(hs_code="3304990099") == Decimal("0.15")
    assert rules.consumption_rate_for(hs_code="3305100000") == Decimal("0.05")
    assert rules.consumption_rate_for(hs_code="1901101000") == Decimal("0.01")
    assert rules.consumption_rate_for(hs_code=None) == Decimal("0.01")


def test_shampoo_and_wine_use_their_own_rates() -> None:
    assert RULES.consumption_rate_for(hs_code="3305100000") == Decimal("0")
    assert RULES.consumption_rate_for(hs_code="2204210000") == Decimal("0.10")


def test_declared_tax_is_compared_with_tolerance() -> None:
    lines = [("300.00", "1901101000")]
    order = _order(lines, taxTotal="27.31")  # computed 27.30
    inventory = _inventory(lines)
    exact = retail_import_tax(order=order, inventory=inventory, config=RULES)
    assert exact.computed == Decimal("27.30")
    assert exact.difference == Decimal("0.01")
    assert not exact.matches
    lenient = replace(RULES, tax_tolerance_cny=Decimal("0.01"))
    assert retail_import_tax(order=order, inventory=inventory, config=lenient).matches


def test_missing_declared_tax_never_matches() -> None:
    lines = [("300.00", "1901101000")]
    order = _order(lines)
    del order["taxTotal"]
    assessment = retail_import_tax(order=order, inventory=_inventory(lines), config=RULES)
    assert assessment.declared is None
    assert assessment.difference is None
    assert not assessment.matches


def test_vat_rate_and_retail_factor_are_configuration() -> None:
    lines = [("100.00", "1901101000")]
    full = replace(RULES, retail_tax_factor=Decimal("1"), vat_rate=Decimal("0.09"))
    assessment = retail_import_tax(order=_order(lines), inventory=_inventory(lines), config=full)
    assert assessment.computed == Decimal("9.00")


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity"])
def test_unreadable_amounts_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="goodsValue"):
        read_amount(document={"goodsValue": value}, field="goodsValue")


def test_absent_or_empty_amounts_read_as_none() -> None:
    assert read_amount(document={}, field="freight") is None
    assert read_amount(document={"freight": ""}, field="freight") is None
    assert read_amount(document={"freight": "1.50"}, field="freight") == Decimal("1.50")


@pytest.mark.parametrize(
    "change",
    [
        {"amount_tolerance": 0.05},
        {"vat_rate": Decimal("-0.13")},
        {"consumption_rates": (("3304", Decimal("1")),)},
    ],
)
def test_rule_config_refuses_floats_negatives_and_rates_of_one(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"RuleConfig|below 1"):
        replace(RULES, **change)
