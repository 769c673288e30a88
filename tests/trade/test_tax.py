"""Retail import tax: the 70 % formula, per-line consumption rates and the comparison."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from hub.trade.rules_config import RuleConfig
from hub.trade.tax import TaxBasis, dutiable_value, import_tax, read_amount, retail_import_tax

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


def _inventory(
    lines: list[tuple[str, str]],
    insured: str = "0",
    measures: dict[int, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Inventory lines by gnum; `measures` adds unit/qty fields (customs unit codes)."""
    return {
        "insuredFee": insured,
        "items": [
            {"gnum": gnum, "gcode": gcode, "totalPrice": total, **(measures or {}).get(gnum, {})}
            for gnum, (total, gcode) in enumerate(lines, start=1)
        ],
    }


# 15 ml of cream or 15 g of lipstick: the unit codes of the JGS-20 set (096 ml, 036 g).
FIFTEEN_ML = {"unit": "096", "qty": "15"}


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


def test_high_end_cosmetics_carry_consumption_tax_grossed_up_by_one_minus_the_rate() -> None:
    # 200 + 10 = 210 for 15 ml: 14 CNY per ml, high-end.
    # 210 × (0.15 + 0.13) / 0.85 × 0.7 = 48.4235… → 48.42
    # consumption part 210 × 0.15 / 0.85 × 0.7 = 25.9411… → 25.94, VAT the rest 22.48
    lines = [("200.00", "3304990099")]
    assessment = retail_import_tax(
        order=_order(lines, freight="10.00", taxTotal="48.42"),
        inventory=_inventory(lines, measures={1: FIFTEEN_ML}),
        config=RULES,
    )
    assert assessment.computed == Decimal("48.42")
    assert assessment.consumption_tax == Decimal("25.94")
    assert assessment.vat == Decimal("22.48")
    assert assessment.matches


def test_freight_is_shared_over_lines_with_different_rates() -> None:
    # 100 high-end cosmetics (5 ml: 21 CNY per ml with its freight share) + 100 formula
    # + 10 freight: each line bears 105.
    # 105 × 0.28 / 0.85 × 0.7 = 24.2117…; 105 × 0.091 = 9.555; total 33.7667… → 33.77
    lines = [("100.00", "3304990099"), ("100.00", "1901101000")]
    assessment = retail_import_tax(
        order=_order(lines, freight="10.00"),
        inventory=_inventory(lines, measures={1: {"unit": "096", "qty": "5"}}),
        config=RULES,
    )
    assert assessment.computed == Decimal("33.77")
    assert assessment.consumption_tax == Decimal("12.97")
    assert assessment.vat + assessment.consumption_tax == assessment.computed


def test_rounding_is_half_up_to_the_cent() -> None:
    # 15 × 0.13 × 0.7 = 1.365 exactly: half-up gives 1.37, banker's rounding would give 1.36.
    lines = [("15.00", "1901101000")]
    assessment = retail_import_tax(order=_order(lines), inventory=_inventory(lines), config=RULES)
    assert assessment.computed == Decimal("1.37")


def test_discount_is_a_non_cash_payment_and_keeps_the_dutiable_value_spec_2022_05_311() -> None:
    # Spec 311: goodsValue "商品实际成交价，含非现金抵扣金额"; discount "使用积分、虚拟货币、
    # 代金券等非现金支付金额". Points paid part of the price; they did not lower it.
    lines = [("300.00", "1901101000")]
    order = _order(lines, freight="10.00", discount="20.00")
    assert dutiable_value(order=order, inventory=None, config=RULES) == Decimal("310.00")
    assessment = retail_import_tax(order=order, inventory=None, config=RULES)
    assert assessment.computed == Decimal("28.21")  # 310 × 0.13 × 0.7 = 28.21


def test_discount_lowers_the_dutiable_value_when_switched_to_the_price_reduction_reading() -> None:
    lines = [("300.00", "1901101000")]
    order = _order(lines, freight="10.00", discount="20.00")
    reduce = replace(RULES, discount_reduces_dutiable_value=True)
    assert dutiable_value(order=order, inventory=None, config=reduce) == Decimal("290.00")


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


# -- High-end cosmetics (财税〔2016〕103号, from 2016-10-01): consumption tax only at or above
# CNY 10 per ml or g, or 15 per sheet, of the dutiable value.


def _cosmetic(total: str, measure: dict[str, str], gcode: str = "3304990099") -> Any:
    lines = [(total, gcode)]
    return retail_import_tax(
        order=_order(lines), inventory=_inventory(lines, measures={1: measure}), config=RULES
    )


def test_ordinary_cosmetics_under_10_cny_per_ml_owe_no_consumption_tax_since_2016_10() -> None:
    # 149.85 for 15 ml = 9.99 per ml: ordinary, VAT only (149.85 × 0.091 = 13.64).
    assessment = _cosmetic("149.85", FIFTEEN_ML)
    assert assessment.consumption_tax == Decimal("0.00")
    assert assessment.computed == Decimal("13.64")


def test_exactly_10_cny_per_g_is_high_end_caishui_2016_103() -> None:
    # "10元/毫升(克)…及以上": 150.00 for 15 g (unit 036) is exactly 10 per g.
    assessment = _cosmetic("150.00", {"unit": "036", "qty": "15"})
    assert assessment.consumption_tax == Decimal("18.53")  # 150 × 0.15 / 0.85 × 0.7


def test_a_bottle_declared_with_its_statutory_kilograms_is_priced_per_gram() -> None:
    # Transaction unit 142 (bottle) says nothing of the content; unit1 035 (kg) does:
    # 300 for 0.05 kg = 6 per g, ordinary. 300 for 0.02 kg = 15 per g, high-end.
    ordinary = {"unit": "142", "qty": "1", "unit1": "035", "qty1": "0.05"}
    assert _cosmetic("300.00", ordinary).consumption_tax == Decimal("0.00")
    dear = {"unit": "142", "qty": "1", "unit1": "035", "qty1": "0.02"}
    assert _cosmetic("300.00", dear).consumption_tax > 0


def test_litres_are_read_as_1000_ml_for_perfume_hs_3303() -> None:
    # 0.1 l (unit 095) of perfume for 1,200: 12 per ml, high-end.
    measure = {"unit": "095", "qty": "0.1"}
    assert _cosmetic("1200.00", measure, gcode="3303000000").consumption_tax > 0
    assert _cosmetic("900.00", measure, gcode="3303000000").consumption_tax == Decimal("0.00")


def test_sheet_masks_are_high_end_from_15_cny_per_sheet_caishui_2016_103() -> None:
    # "15元/片(张)": ten sheets (unit 020 片) at 150.00 is 15 per sheet; 149.90 is not.
    sheets = {"unit": "020", "qty": "10"}
    assert _cosmetic("150.00", sheets).consumption_tax > 0
    assert _cosmetic("149.90", sheets).consumption_tax == Decimal("0.00")


def test_cosmetic_sets_are_taxed_whatever_their_price_caishui_2016_103() -> None:
    # "征收范围包括…成套化妆品": a set (unit 006 套) has no per-ml threshold.
    assert _cosmetic("20.00", {"unit": "006", "qty": "1"}).consumption_tax > 0


def test_a_cosmetic_without_volume_mass_or_sheets_is_ordinary_and_reported() -> None:
    assessment = _cosmetic("500.00", {"unit": "007", "qty": "1"})  # 007 piece (个)
    assert assessment.consumption_tax == Decimal("0.00")
    assert assessment.unmeasured_lines == (1,)
    strict = replace(RULES, unmeasured_cosmetics_high_end=True)
    lines = [("500.00", "3304990099")]
    taxed = retail_import_tax(
        order=_order(lines),
        inventory=_inventory(lines, measures={1: {"unit": "007", "qty": "1"}}),
        config=strict,
    )
    assert taxed.consumption_tax > 0


def test_every_cosmetic_is_taxed_when_the_high_end_reading_is_switched_off() -> None:
    lines = [("100.00", "3304990099")]
    every = replace(RULES, high_end_cosmetics_only=False)
    assessment = retail_import_tax(
        order=_order(lines), inventory=_inventory(lines, measures={1: FIFTEEN_ML}), config=every
    )
    assert assessment.consumption_tax == Decimal("12.35")  # 100 × 0.15 / 0.85 × 0.7


def test_the_high_end_thresholds_are_configuration() -> None:
    lines = [("100.00", "3304990099")]
    lower = replace(RULES, high_end_cny_per_ml_or_g=Decimal("5"))
    assessment = retail_import_tax(
        order=_order(lines), inventory=_inventory(lines, measures={1: FIFTEEN_ML}), config=lower
    )
    assert assessment.consumption_tax > 0  # 6.67 per ml


def test_the_threshold_reads_the_lines_dutiable_value_including_its_freight_share() -> None:
    # 140 + 10 freight for 15 ml: 9.33 per ml on the price alone, 10 with its freight.
    lines = [("140.00", "3304990099")]
    assessment = retail_import_tax(
        order=_order(lines, freight="10.00"),
        inventory=_inventory(lines, measures={1: FIFTEEN_ML}),
        config=RULES,
    )
    assert assessment.consumption_tax > 0


# -- Full tax: one indivisible item over CNY 5,000 (财关税〔2018〕49号: "按照货物税率全额征收
# 关税和进口环节增值税、消费税").


def test_full_tax_is_the_general_trade_formula_with_the_configured_tariff() -> None:
    # 6,000 of formula, tariff 15 %: tariff 900; VAT (6,000 + 900) × 0.13 = 897; 1,797.
    lines = [("6000.00", "1901101000")]
    rules = replace(RULES, tariff_rates=(("1901", Decimal("0.15")),))
    assessment = import_tax(
        order=_order(lines), inventory=_inventory(lines), config=rules, basis=TaxBasis.FULL
    )
    assert assessment.basis is TaxBasis.FULL
    assert assessment.tariff == Decimal("900.00")
    assert assessment.vat == Decimal("897.00")
    assert assessment.computed == Decimal("1797.00")


def test_full_tax_grosses_consumption_tax_up_on_value_plus_tariff() -> None:
    # 8,000 of perfume (high-end), tariff 3 %: 240 tariff; (8,240) / 0.85 = 9,694.1176…;
    # consumption 1,454.1176…, VAT 1,260.2352…; total 2,954.35.
    lines = [("8000.00", "3303000000")]
    rules = replace(RULES, default_tariff_rate=Decimal("0.03"))
    assessment = import_tax(
        order=_order(lines),
        inventory=_inventory(lines, measures={1: {"unit": "096", "qty": "100"}}),
        config=rules,
        basis=TaxBasis.FULL,
    )
    assert assessment.tariff == Decimal("240.00")
    assert assessment.consumption_tax == Decimal("1454.12")
    assert assessment.computed == Decimal("2954.35")
    assert assessment.tariff + assessment.vat + assessment.consumption_tax == assessment.computed
