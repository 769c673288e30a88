"""Retail import tax (cross-border e-commerce, within the CNY 5,000 / 26,000 limits).

Within the limits the tariff is 0 and VAT plus consumption tax are charged at 70 % of the
statutory amount:

    tax = dutiable value × (consumption rate + VAT rate) / (1 − consumption rate) × 70 %

The dutiable value is the actual transaction price including freight and insurance. Orders
above the limits owe full general-trade tax instead; `hub.trade.limits` tells which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from hub.trade.rules_config import RuleConfig

__all__ = ["TaxAssessment", "dutiable_value", "read_amount", "retail_import_tax"]

CENT = Decimal("0.01")
# Enough digits that allocating freight over lines and dividing by (1 − rate) never loses a
# cent before the single final rounding.
_PRECISION = 50


@dataclass(frozen=True, slots=True)
class TaxAssessment:
    """The retail import tax an order owes, compared with what the order declared."""

    declared: Decimal | None  # the order's taxTotal, None when absent
    computed: Decimal  # rounded to 0.01 CNY, ROUND_HALF_UP
    difference: Decimal | None  # declared − computed (positive: over-declared)
    matches: bool  # |difference| within config.tax_tolerance_cny
    dutiable_value: Decimal
    vat: Decimal
    consumption_tax: Decimal  # vat + consumption_tax == computed
    # gnums taxed at the default consumption rate because no HS code was known for them
    # (no inventory yet, or the inventory lacks the line).
    unclassified_lines: tuple[int, ...]


def read_amount(*, document: Mapping[str, Any], field: str) -> Decimal | None:
    """Read a decimal-string field of a payload; None when absent or empty."""
    value = document.get(field)
    if value is None or value == "":
        return None
    # Floats would already have lost the exact amount; the standards carry strings.
    if isinstance(value, bool | float):
        raise TypeError(f"{field} must be a decimal string, got {type(value).__name__}")
    try:
        amount = Decimal(value) if isinstance(value, str | int) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{field} is not a decimal: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{field} is not a finite decimal: {value!r}")
    return amount


def _amount_or_zero(document: Mapping[str, Any] | None, field: str) -> Decimal:
    if document is None:
        return Decimal(0)
    amount = read_amount(document=document, field=field)
    return Decimal(0) if amount is None else amount


def dutiable_value(
    *, order: Mapping[str, Any], inventory: Mapping[str, Any] | None, config: RuleConfig
) -> Decimal:
    """Return the order's dutiable value: goods + freight + insurance (− discount), unrounded."""
    value = (
        _amount_or_zero(order, "goodsValue")
        + _amount_or_zero(order, "freight")
        # Orders carry no insurance; the inventory declares it.
        + _amount_or_zero(inventory, "insuredFee")
    )
    if config.discount_reduces_dutiable_value:
        value -= _amount_or_zero(order, "discount")
    return value


def retail_import_tax(
    *, order: Mapping[str, Any], inventory: Mapping[str, Any] | None, config: RuleConfig
) -> TaxAssessment:
    """Compute the retail import tax of an order and compare it with the declared taxTotal."""
    lines = [line for line in order.get("items") or () if isinstance(line, Mapping)]
    hs_by_gnum = {
        line.get("gnum"): line.get("gcode")
        for line in (inventory or {}).get("items") or ()
        if isinstance(line, Mapping)
    }
    base = dutiable_value(order=order, inventory=inventory, config=config)

    # Goods value per consumption rate: freight, insurance and discount are spread over
    # the lines in proportion to their totalPrice, so only each rate's share is needed.
    value_by_rate: dict[Decimal, Decimal] = {}
    unclassified: list[int] = []
    line_values = [_amount_or_zero(line, "totalPrice") for line in lines]
    all_zero = not any(line_values)
    for line, line_value in zip(lines, line_values, strict=True):
        gcode = hs_by_gnum.get(line.get("gnum"))
        if not gcode:
            unclassified.append(line.get("gnum"))
        rate = config.consumption_rate_for(hs_code=gcode)
        # A free order (all lines 0) is split evenly so every line still gets a rate.
        share = Decimal(1) if all_zero else line_value
        value_by_rate[rate] = value_by_rate.get(rate, Decimal(0)) + share
    if not value_by_rate:
        value_by_rate[config.default_consumption_rate] = Decimal(1)

    with localcontext() as ctx:
        ctx.prec = _PRECISION
        total_share = sum(value_by_rate.values(), Decimal(0))
        tax = Decimal(0)
        consumption = Decimal(0)
        for rate, share in value_by_rate.items():
            rate_base = base * share / total_share
            statutory = rate_base / (1 - rate)
            tax += statutory * (rate + config.vat_rate) * config.retail_tax_factor
            consumption += statutory * rate * config.retail_tax_factor
        computed = tax.quantize(CENT, rounding=ROUND_HALF_UP)
        consumption_tax = consumption.quantize(CENT, rounding=ROUND_HALF_UP)

    declared = read_amount(document=order, field="taxTotal")
    difference = None if declared is None else declared - computed
    return TaxAssessment(
        declared=declared,
        computed=computed,
        difference=difference,
        matches=difference is not None and abs(difference) <= config.tax_tolerance_cny,
        dutiable_value=base,
        # VAT takes the remainder so the two parts always add up to the rounded total.
        vat=computed - consumption_tax,
        consumption_tax=consumption_tax,
        unclassified_lines=tuple(gnum for gnum in unclassified if isinstance(gnum, int)),
    )
