"""Retail import limits: CNY 5,000 per order, CNY 26,000 per buyer and year."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from hub.trade.limits import (
    RiskFlag,
    applies_retail_limits,
    buyer_year_key,
    check_retail_limits,
    limit_value,
)
from hub.trade.rules_config import RuleConfig

RULES = RuleConfig()


def _flags(total: str, before: str = "0", *, indivisible: bool = False) -> tuple[RiskFlag, ...]:
    return check_retail_limits(
        order_total=Decimal(total),
        buyer_year_total_before=Decimal(before),
        single_item_indivisible=indivisible,
        config=RULES,
    )


def test_an_order_within_both_limits_has_no_flags() -> None:
    assert _flags("4999.99", "20000") == ()


def test_exactly_the_single_limit_is_still_within_it() -> None:
    assert _flags("5000.00") == ()


def test_several_items_over_the_single_limit_exceed_it() -> None:
    assert _flags("5000.01") == (RiskFlag.SINGLE_LIMIT_EXCEEDED,)


def test_one_indivisible_item_over_the_single_limit_owes_full_tax_instead() -> None:
    assert _flags("6800.00", indivisible=True) == (RiskFlag.FULL_TAX_SINGLE_ITEM,)


def test_passing_the_annual_total_is_flagged() -> None:
    assert _flags("1000.00", "25000.00") == ()
    assert _flags("1000.01", "25000.00") == (RiskFlag.ANNUAL_LIMIT_EXCEEDED,)


def test_an_order_can_break_both_limits() -> None:
    assert _flags("6000", "21000") == (
        RiskFlag.SINGLE_LIMIT_EXCEEDED,
        RiskFlag.ANNUAL_LIMIT_EXCEEDED,
    )


def test_an_indivisible_item_that_passes_the_annual_total_is_an_annual_breach() -> None:
    assert _flags("6000", "21000", indivisible=True) == (RiskFlag.ANNUAL_LIMIT_EXCEEDED,)


def test_limits_are_configuration() -> None:
    tight = replace(RULES, single_limit_cny=Decimal("2000"), annual_limit_cny=Decimal("20000"))
    flags = check_retail_limits(
        order_total=Decimal("2500"),
        buyer_year_total_before=Decimal("0"),
        single_item_indivisible=False,
        config=tight,
    )
    assert flags == (RiskFlag.SINGLE_LIMIT_EXCEEDED,)


@pytest.mark.parametrize(
    ("direction", "mode", "applies"),
    [
        ("I", "9610", True),
        ("I", "1210", True),
        ("I", "1239", True),
        ("E", "9610", False),
        ("E", "9710", False),
        ("E", "9810", False),
        ("I", None, False),
    ],
)
def test_limits_apply_to_import_retail_modes_only(
    direction: str, mode: str | None, applies: bool
) -> None:
    assert applies_retail_limits(direction=direction, trade_mode=mode) is applies


def test_limit_value_is_the_dutiable_value_without_tax() -> None:
    order = {
        "goodsValue": "4900.00",
        "freight": "20.00",
        "discount": "10.00",
        "taxTotal": "446.81",
        "acturalPaid": "5356.81",
    }
    inventory = {"insuredFee": "5.00"}
    assert limit_value(order=order, inventory=inventory, config=RULES) == Decimal("4915.00")


def test_buyer_year_key_groups_by_id_and_calendar_year() -> None:
    order = {"buyerIdType": "1", "buyerIdNumber": "991201199001011234", "appTime": "20241231235959"}
    assert buyer_year_key(order=order) == ("1", "991201199001011234", 2024)
    assert buyer_year_key(order={**order, "appTime": ""}) is None
    assert buyer_year_key(order={"appTime": "20240101000000"}) is None
