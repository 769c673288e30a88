"""Retail import limits: CNY 5,000 per transaction and CNY 26,000 per person and year.

The limits apply only to import retail orders (direction "I", trade modes 9610, 1210,
1239); ask `applies_retail_limits` before calling `check_retail_limits`.

How a caller computes `buyer_year_total_before`:
1. Take the buyer's other import retail orders, identified by `buyer_year_key` (ID type,
   ID number and the calendar year of the order's appTime), that come before this order
   (earlier appTime; ties broken by orderNo).
2. Leave out orders that never became purchases: deleted (appType "3"), cancelled (623),
   returned (625), or whose inventory customs rejected (status 100 or negative).
3. Sum `limit_value` of each. Orders taxed in full because they exceeded a limit still
   count: the purchase happened.

`limit_value` is the dutiable value (goods + freight + insurance − discount), not
acturalPaid: the 2018 announcement sets both limits on the dutiable value, which excludes
the tax itself. Using one function for the running total and the order keeps them alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hub.trade.rules_config import RuleConfig
from hub.trade.tax import dutiable_value

__all__ = [
    "IMPORT_RETAIL_MODES",
    "RiskFlag",
    "applies_retail_limits",
    "buyer_year_key",
    "check_retail_limits",
    "limit_value",
]

IMPORT_RETAIL_MODES = frozenset({"9610", "1210", "1239"})


class RiskFlag(StrEnum):
    """Why an import retail order falls outside the retail tax treatment."""

    # Over the single limit with several items: not admissible as a retail import.
    SINGLE_LIMIT_EXCEEDED = "SINGLE_LIMIT_EXCEEDED"
    # The buyer's yearly total would pass the annual limit: general trade applies.
    ANNUAL_LIMIT_EXCEEDED = "ANNUAL_LIMIT_EXCEEDED"
    # One indivisible item over the single limit but within the annual limit: admissible,
    # but tariff, VAT and consumption tax are due in full and it counts toward the year.
    FULL_TAX_SINGLE_ITEM = "FULL_TAX_SINGLE_ITEM"


def applies_retail_limits(*, direction: str, trade_mode: str | None) -> bool:
    """Tell whether an order's direction and trade mode make it subject to the retail limits."""
    return direction == "I" and trade_mode in IMPORT_RETAIL_MODES


def limit_value(
    *, order: Mapping[str, Any], inventory: Mapping[str, Any] | None, config: RuleConfig
) -> Decimal:
    """Return the amount an order counts against both limits (its dutiable value)."""
    return dutiable_value(order=order, inventory=inventory, config=config)


def buyer_year_key(*, order: Mapping[str, Any]) -> tuple[str, str, int] | None:
    """Return (buyerIdType, buyerIdNumber, year of appTime) or None if any part is missing."""
    id_type, id_number, app_time = (
        order.get("buyerIdType"),
        order.get("buyerIdNumber"),
        order.get("appTime"),
    )
    if not (id_type and id_number and isinstance(app_time, str) and app_time[:4].isdigit()):
        return None
    return (str(id_type), str(id_number), int(app_time[:4]))


def check_retail_limits(
    *,
    order_total: Decimal,
    buyer_year_total_before: Decimal,
    single_item_indivisible: bool,
    config: RuleConfig,
) -> tuple[RiskFlag, ...]:
    """Flag an import retail order against the single and annual limits (empty: within)."""
    flags: list[RiskFlag] = []
    # "At most CNY 5,000": exactly the limit is still within it.
    over_single = order_total > config.single_limit_cny
    over_annual = buyer_year_total_before + order_total > config.annual_limit_cny
    if over_single and not single_item_indivisible:
        flags.append(RiskFlag.SINGLE_LIMIT_EXCEEDED)
    if over_annual:
        flags.append(RiskFlag.ANNUAL_LIMIT_EXCEEDED)
    elif over_single and single_item_indivisible:
        flags.append(RiskFlag.FULL_TAX_SINGLE_ITEM)
    return tuple(flags)
