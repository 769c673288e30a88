"""Retail import limits: CNY 5,000 per transaction and CNY 26,000 per person and year.

Pure rules; `hub.trade.quota` keeps the running totals in the database. The limits apply
only to import retail orders (direction "I", trade modes 9610, 1210, 1239) of a buyer
with an ID number: ask `applies_retail_limits` first.

What counts toward a buyer's year (docs/rules.md cites the texts):
- `limit_value` of the order: its dutiable value (goods + freight + insurance), not
  acturalPaid; the 2018 announcement sets both limits on the dutiable value.
- Only purchases the retail channel admits: orders within both limits, and one
  indivisible item over the single limit (taxed in full, "交易额计入年度交易总额").
  An order that would pass the annual limit is general trade ("按一般贸易管理") and a
  multi-item order over the single limit is no retail import: neither counts.
- Orders that never became purchases count nothing: cancelled (appType 3), rejected or
  returned by customs (receipt 100, 700, negative), given back by a return (625).
- A *confirmed* order — its inventory accepted by customs (receipt 120, 300, 399, 500-599,
  800, 899) on a receipt that someone other than the order's platform and seller forwarded
  (or one of `RuleConfig.receipt_sources`) — counts on every platform. Any other order is
  *pending*: it counts for its own platform only. A competitor can fabricate orders and
  receipts of its own, never another's customs acceptance, so it can neither push a
  buyer's real orders over the limit nor learn, from its own orders' flags, what the buyer
  spent elsewhere.

Order of counting: an order is checked when it is evaluated (on arrival, on a change,
when customs accepts it), against what already counts — as customs checks the quota when
the inventory is declared. An arrival never re-decides orders counted before it; when
quota is freed, flagged orders are re-checked in arrival order and admitted if they fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hub.trade.rules_config import RuleConfig
from hub.trade.tax import dutiable_value

__all__ = [
    "IMPORT_RETAIL_MODES",
    "LIMIT_FLAGS",
    "CustomsDecision",
    "LimitDecision",
    "RiskFlag",
    "Standing",
    "applies_retail_limits",
    "buyer_year_key",
    "check_retail_limits",
    "customs_decision",
    "decide",
    "full_tax_applies",
    "limit_value",
    "receipt_speaks_for_customs",
    "standing",
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


# The flags this module decides; an order's other flags (TAX_MISMATCH, ...) are kept.
LIMIT_FLAGS = frozenset(flag.value for flag in RiskFlag)


class CustomsDecision(StrEnum):
    """What a customs receipt status says about an inventory."""

    ACCEPTED = "ACCEPTED"  # 120 entered, 300/399 review, 500-599 inspection, 800, 899
    REFUSED = "REFUSED"  # 100 rejected, 700 returned, negative: processing error
    UNDECIDED = "UNDECIDED"  # e-port codes 1-4 and anything else: customs has not spoken


class Standing(StrEnum):
    """Where an order counts toward its buyer's year."""

    CONFIRMED = "CONFIRMED"  # customs accepted it: counts on every platform
    PENDING = "PENDING"  # counts for its own platform only
    OUT = "OUT"  # no purchase: counts nowhere


_ACCEPTED = frozenset({120, 300, 399, 800, 899})


def customs_decision(status: int) -> CustomsDecision:
    """Classify a receipt's returnStatus (the 2022-05 spec's 622 table)."""
    if status in _ACCEPTED or 500 <= status <= 599:
        return CustomsDecision.ACCEPTED
    if status in (100, 700) or status < 0:
        return CustomsDecision.REFUSED
    return CustomsDecision.UNDECIDED


def receipt_speaks_for_customs(
    *, declarant: str | None, platform: str, seller: str | None, config: RuleConfig
) -> bool:
    """Tell whether a receipt's declarant is believed to relay customs' own decision."""
    if not declarant:
        return False
    if config.receipt_sources:
        return declarant in config.receipt_sources
    return declarant not in (platform, seller)


def standing(
    *,
    active: bool,
    inventory_active: bool,
    trusted: Iterable[int],
    latest: int | None,
) -> Standing:
    """Where an order counts, from its state and its receipts (each list oldest first).

    `trusted` are the statuses of receipts that speak for customs; `latest` is the newest
    receipt from anyone. A customs decision relayed by a trusted source settles it; without
    one, the platform's own word that its order was refused takes it out of its own total.
    """
    if not active:
        return Standing.OUT
    decision = CustomsDecision.UNDECIDED
    for status in trusted:
        verdict = customs_decision(status)
        if verdict is not CustomsDecision.UNDECIDED:
            decision = verdict
    if decision is CustomsDecision.REFUSED:
        return Standing.OUT
    if decision is CustomsDecision.ACCEPTED and inventory_active:
        return Standing.CONFIRMED
    if latest is not None and customs_decision(latest) is CustomsDecision.REFUSED:
        return Standing.OUT
    return Standing.PENDING


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


def full_tax_applies(*, value: Decimal, indivisible: bool, config: RuleConfig) -> bool:
    """Tell whether an order is one indivisible item over the single limit (taxed in full)."""
    return indivisible and value > config.single_limit_cny


def check_retail_limits(
    *,
    order_total: Decimal,
    buyer_year_total_before: Decimal,
    single_item_indivisible: bool,
    config: RuleConfig,
) -> tuple[RiskFlag, ...]:
    """Flag an import retail order against the single and annual limits (empty: within)."""
    return decide(
        value=order_total,
        used=buyer_year_total_before,
        indivisible=single_item_indivisible,
        config=config,
    ).flags


@dataclass(frozen=True, slots=True)
class LimitDecision:
    """An order's limit flags and whether it uses quota."""

    flags: tuple[RiskFlag, ...]
    counts: bool  # the retail channel admits it: it adds its value to the year

    @property
    def over_annual(self) -> bool:
        """True when the annual limit alone may clear later (quota freed by others)."""
        return RiskFlag.ANNUAL_LIMIT_EXCEEDED in self.flags


def decide(
    *, value: Decimal, used: Decimal, indivisible: bool, config: RuleConfig
) -> LimitDecision:
    """Decide an order's limit flags given the quota `used` by what counts before it."""
    flags: list[RiskFlag] = []
    # "At most CNY 5,000" (含5000元): exactly the limit is still within it; likewise 26,000.
    over_single = value > config.single_limit_cny
    over_annual = used + value > config.annual_limit_cny
    if over_single and not indivisible:
        flags.append(RiskFlag.SINGLE_LIMIT_EXCEEDED)
    if over_annual:
        flags.append(RiskFlag.ANNUAL_LIMIT_EXCEEDED)
    elif over_single and indivisible:
        flags.append(RiskFlag.FULL_TAX_SINGLE_ITEM)
    counts = not over_annual and not (over_single and not indivisible)
    return LimitDecision(flags=tuple(flags), counts=counts)
