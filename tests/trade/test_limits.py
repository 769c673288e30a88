"""Retail import limits: CNY 5,000 per order, CNY 26,000 per buyer and year."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from hub.trade.limits import (
    CustomsDecision,
    RiskFlag,
    Standing,
    applies_retail_limits,
    buyer_year_key,
    check_retail_limits,
    customs_decision,
    decide,
    full_tax_applies,
    limit_value,
    receipt_speaks_for_customs,
    standing,
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
    # The discount is a non-cash payment inside goodsValue: it does not lower the value.
    assert limit_value(order=order, inventory=inventory, config=RULES) == Decimal("4925.00")


def test_buyer_year_key_groups_by_id_and_calendar_year() -> None:
    order = {"buyerIdType": "1", "buyerIdNumber": "991201199001011234", "appTime": "20241231235959"}
    assert buyer_year_key(order=order) == ("1", "991201199001011234", 2024)
    assert buyer_year_key(order={**order, "appTime": ""}) is None
    assert buyer_year_key(order={"appTime": "20240101000000"}) is None


# -- What counts toward the year (docs/rules.md).


def test_an_order_over_the_annual_limit_uses_no_quota_caiguanshui_2018_49() -> None:
    # "年度交易总额超过年度交易限值的，应按一般贸易管理": general trade, not a retail purchase.
    over = decide(value=Decimal("4000"), used=Decimal("25000"), indivisible=False, config=RULES)
    assert over.flags == (RiskFlag.ANNUAL_LIMIT_EXCEEDED,)
    assert not over.counts
    assert over.over_annual


def test_exactly_26000_in_the_year_is_within_the_annual_limit() -> None:
    within = decide(value=Decimal("1000"), used=Decimal("25000"), indivisible=False, config=RULES)
    assert within.flags == ()
    assert within.counts


def test_one_indivisible_item_over_5000_counts_toward_the_year_caiguanshui_2018_49() -> None:
    # "…按照货物税率全额征收…，交易额计入年度交易总额".
    full = decide(value=Decimal("6800"), used=Decimal("0"), indivisible=True, config=RULES)
    assert full.flags == (RiskFlag.FULL_TAX_SINGLE_ITEM,)
    assert full.counts
    assert full_tax_applies(value=Decimal("6800"), indivisible=True, config=RULES)
    assert not full_tax_applies(value=Decimal("5000"), indivisible=True, config=RULES)
    assert not full_tax_applies(value=Decimal("6800"), indivisible=False, config=RULES)


def test_several_items_over_5000_are_no_retail_purchase_and_use_no_quota() -> None:
    single = decide(value=Decimal("5000.01"), used=Decimal("0"), indivisible=False, config=RULES)
    assert single.flags == (RiskFlag.SINGLE_LIMIT_EXCEEDED,)
    assert not single.counts
    assert not single.over_annual


@pytest.mark.parametrize(
    ("status", "decision"),
    [
        (120, CustomsDecision.ACCEPTED),
        (300, CustomsDecision.ACCEPTED),
        (399, CustomsDecision.ACCEPTED),
        (500, CustomsDecision.ACCEPTED),
        (599, CustomsDecision.ACCEPTED),
        (800, CustomsDecision.ACCEPTED),
        (899, CustomsDecision.ACCEPTED),
        (100, CustomsDecision.REFUSED),
        (700, CustomsDecision.REFUSED),
        (-301, CustomsDecision.REFUSED),
        (1, CustomsDecision.UNDECIDED),  # e-port: stored
        (2, CustomsDecision.UNDECIDED),  # e-port: being declared
        (3, CustomsDecision.UNDECIDED),  # e-port: sent to customs
        (4, CustomsDecision.UNDECIDED),  # e-port: sending failed
        (200, CustomsDecision.UNDECIDED),
    ],
)
def test_receipt_statuses_read_as_the_2022_05_spec_lists_them(
    status: int, decision: CustomsDecision
) -> None:
    assert customs_decision(status) is decision


def test_a_receipt_speaks_for_customs_unless_the_orders_own_platform_or_seller_forwards_it() -> (
    None
):
    def speaks(declarant: str, config: RuleConfig = RULES) -> bool:
        return receipt_speaks_for_customs(
            declarant=declarant, platform="EBP", seller="EBC", config=config
        )

    assert speaks("BROKER")
    assert not speaks("EBP")
    assert not speaks("EBC")
    relay = replace(RULES, receipt_sources=("SINGLE-WINDOW",))
    assert speaks("SINGLE-WINDOW", relay)
    assert not speaks("BROKER", relay)


def test_standing_follows_the_latest_customs_decision_a_trusted_source_relays() -> None:
    def where(trusted: list[int], latest: int | None = None, **state: bool) -> Standing:
        return standing(
            active=state.get("active", True),
            inventory_active=state.get("inventory_active", True),
            trusted=trusted,
            latest=latest if latest is not None else (trusted[-1] if trusted else None),
        )

    assert where([]) is Standing.PENDING
    assert where([120]) is Standing.CONFIRMED
    assert where([120, 800]) is Standing.CONFIRMED
    assert where([120, 700]) is Standing.OUT  # returned
    assert where([100]) is Standing.OUT  # rejected
    assert where([120, 2]) is Standing.CONFIRMED  # an e-port code after the decision
    assert where([120], inventory_active=False) is Standing.PENDING  # inventory withdrawn
    assert where([120], active=False) is Standing.OUT  # order cancelled
    # The platform's own word: a refusal takes its order out, an acceptance confirms nothing.
    assert where([], latest=100) is Standing.OUT
    assert where([], latest=800) is Standing.PENDING
    assert where([120], latest=100) is Standing.CONFIRMED  # the trusted decision stands
