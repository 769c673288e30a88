"""Import tax of a cross-border retail order: the 70 % retail formula, or full tax.

Within the CNY 5,000 / 26,000 limits the tariff is 0 and VAT plus consumption tax are
charged at 70 % of the statutory amount (财关税〔2018〕49号):

    retail = dutiable value × (consumption rate + VAT rate) / (1 − consumption rate) × 70 %

One indivisible item over the single limit is admitted but "按照货物税率全额征收关税和进口
环节增值税、消费税" — tariff, VAT and consumption tax in full, the general-trade formula:

    tariff      = dutiable value × tariff rate
    consumption = (dutiable value + tariff) × consumption rate / (1 − consumption rate)
    VAT         = (dutiable value + tariff + consumption) × VAT rate
    full        = tariff + consumption + VAT

The dutiable value is the actual transaction price including freight and insurance.
Freight, insurance (and discount, when configured to count) are spread over the lines in
proportion to their totalPrice; each line takes the rates of its HS code. Cosmetics
(HS 3303/3304) carry consumption tax only when high-end (财税〔2016〕103号): at least
CNY 10 per ml or g, or 15 per sheet, of the line's dutiable value; `cosmetic_grade`
reads the quantity from the declared unit codes. docs/rules.md cites each reading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import Any

from hub.trade.rules_config import RuleConfig

__all__ = [
    "CosmeticGrade",
    "TaxAssessment",
    "TaxBasis",
    "cosmetic_grade",
    "dutiable_value",
    "import_tax",
    "read_amount",
    "retail_import_tax",
]

CENT = Decimal("0.01")
# Enough digits that allocating freight over lines and dividing by (1 − rate) never loses a
# cent before the single final rounding.
_PRECISION = 50


class TaxBasis(StrEnum):
    """Which formula the tax follows."""

    RETAIL = "RETAIL"  # within the limits: tariff 0, 70 % of VAT + consumption tax
    FULL = "FULL"  # taxed in full: tariff, VAT and consumption tax at 100 %


class CosmeticGrade(StrEnum):
    """Whether a cosmetic line is subject to consumption tax, and why."""

    HIGH_END = "HIGH_END"  # price per ml/g or per sheet at or above the threshold
    SET = "SET"  # a cosmetic set, taxed whatever its price
    ORDINARY = "ORDINARY"  # below the threshold: no consumption tax since 2016-10
    UNMEASURED = "UNMEASURED"  # no volume, mass or sheet count declared


@dataclass(frozen=True, slots=True)
class TaxAssessment:
    """The import tax an order owes, compared with what the order declared."""

    declared: Decimal | None  # the order's taxTotal, None when absent
    computed: Decimal  # rounded to 0.01 CNY, ROUND_HALF_UP
    difference: Decimal | None  # declared − computed (positive: over-declared)
    matches: bool  # |difference| within config.tax_tolerance_cny
    dutiable_value: Decimal
    vat: Decimal
    consumption_tax: Decimal  # tariff + vat + consumption_tax == computed
    # gnums taxed at the default consumption rate because no HS code was known for them
    # (no inventory yet, or the inventory lacks the line).
    unclassified_lines: tuple[int, ...]
    basis: TaxBasis = TaxBasis.RETAIL
    tariff: Decimal = Decimal("0.00")
    # gnums of cosmetics that state no volume, mass or sheet count (graded by configuration).
    unmeasured_lines: tuple[int, ...] = ()


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
    """Return the order's dutiable value: goods + freight + insurance, unrounded.

    `discount` is subtracted only with `config.discount_reduces_dutiable_value`: the spec
    defines it as a non-cash payment inside goodsValue, not a lower price.
    """
    value = (
        _amount_or_zero(order, "goodsValue")
        + _amount_or_zero(order, "freight")
        # Orders carry no insurance; the inventory declares it.
        + _amount_or_zero(inventory, "insuredFee")
    )
    if config.discount_reduces_dutiable_value:
        value -= _amount_or_zero(order, "discount")
    return value


def _quantities(lines: Sequence[Mapping[str, Any] | None]) -> list[tuple[str, Decimal]]:
    """(unit code, quantity) pairs a line declares, transaction unit first."""
    found = []
    for line in lines:
        if line is None:
            continue
        for unit_field, qty_field in (("unit", "qty"), ("unit1", "qty1"), ("unit2", "qty2")):
            unit, qty = line.get(unit_field), line.get(qty_field)
            if not unit or qty in (None, ""):
                continue
            try:
                amount = read_amount(document=line, field=qty_field)
            except (TypeError, ValueError):
                continue
            if amount is not None and amount > 0:
                found.append((str(unit), amount))
    return found


def cosmetic_grade(
    *,
    line_value: Decimal,
    lines: Sequence[Mapping[str, Any] | None],
    config: RuleConfig,
) -> CosmeticGrade:
    """Grade a cosmetic line by its dutiable value per ml or g, or per sheet.

    `lines` are the inventory line and the order line of the same gnum; the first declared
    quantity in a unit that measures volume, mass, sheets or sets decides (transaction unit,
    then statutory unit1, then unit2), so a bottle (142) declared with its statutory
    kilograms is priced per gram.
    """
    measures = dict(config.measure_units)
    for unit, qty in _quantities(lines):
        if unit in config.set_units:
            return CosmeticGrade.SET
        if unit in measures:
            per = line_value / (qty * measures[unit])
            high = per >= config.high_end_cny_per_ml_or_g
            return CosmeticGrade.HIGH_END if high else CosmeticGrade.ORDINARY
        if unit in config.piece_units:
            per = line_value / qty
            high = per >= config.high_end_cny_per_piece
            return CosmeticGrade.HIGH_END if high else CosmeticGrade.ORDINARY
    return CosmeticGrade.UNMEASURED


@dataclass(frozen=True, slots=True)
class _Share:
    weight: Decimal
    consumption_rate: Decimal
    tariff_rate: Decimal


def import_tax(
    *,
    order: Mapping[str, Any],
    inventory: Mapping[str, Any] | None,
    config: RuleConfig,
    basis: TaxBasis = TaxBasis.RETAIL,
) -> TaxAssessment:
    """Compute an order's import tax on `basis` and compare it with the declared taxTotal."""
    lines = [line for line in order.get("items") or () if isinstance(line, Mapping)]
    inventory_lines = {
        line.get("gnum"): line
        for line in (inventory or {}).get("items") or ()
        if isinstance(line, Mapping)
    }
    base = dutiable_value(order=order, inventory=inventory, config=config)
    line_values = [_amount_or_zero(line, "totalPrice") for line in lines]
    all_zero = not any(line_values)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        # A free order (all lines 0) is split evenly so every line still gets a rate.
        weights = [Decimal(1) if all_zero else value for value in line_values]
        total_weight = sum(weights, Decimal(0))
        shares: list[_Share] = []
        unclassified: list[Any] = []
        unmeasured: list[Any] = []
        for line, weight in zip(lines, weights, strict=True):
            gnum = line.get("gnum")
            inventory_line = inventory_lines.get(gnum)
            gcode = inventory_line.get("gcode") if inventory_line else None
            if not gcode:
                unclassified.append(gnum)
            rate = config.consumption_rate_for(hs_code=gcode)
            if rate and config.high_end_cosmetics_only and config.is_cosmetic(hs_code=gcode):
                line_base = base * weight / total_weight if total_weight else Decimal(0)
                grade = cosmetic_grade(
                    line_value=line_base, lines=(inventory_line, line), config=config
                )
                if grade is CosmeticGrade.UNMEASURED:
                    unmeasured.append(gnum)
                    taxed = config.unmeasured_cosmetics_high_end
                else:
                    taxed = grade is not CosmeticGrade.ORDINARY
                if not taxed:
                    rate = Decimal(0)
            tariff_rate = config.tariff_rate_for(hs_code=gcode) if basis is TaxBasis.FULL else 0
            shares.append(_Share(weight, rate, Decimal(tariff_rate)))
        if not shares:
            shares.append(_Share(Decimal(1), config.default_consumption_rate, Decimal(0)))
            total_weight = Decimal(1)

        factor = config.retail_tax_factor if basis is TaxBasis.RETAIL else Decimal(1)
        tax = consumption = tariff = Decimal(0)
        for share in shares:
            share_base = base * share.weight / total_weight if total_weight else Decimal(0)
            share_tariff = share_base * share.tariff_rate
            statutory = (share_base + share_tariff) / (1 - share.consumption_rate)
            rates = share.consumption_rate + config.vat_rate
            tax += share_tariff + statutory * rates * factor
            consumption += statutory * share.consumption_rate * factor
            tariff += share_tariff
        computed = tax.quantize(CENT, rounding=ROUND_HALF_UP)
        consumption_tax = consumption.quantize(CENT, rounding=ROUND_HALF_UP)
        tariff_tax = tariff.quantize(CENT, rounding=ROUND_HALF_UP)

    declared = read_amount(document=order, field="taxTotal")
    difference = None if declared is None else declared - computed
    return TaxAssessment(
        declared=declared,
        computed=computed,
        difference=difference,
        matches=difference is not None and abs(difference) <= config.tax_tolerance_cny,
        dutiable_value=base,
        # VAT takes the remainder so the parts always add up to the rounded total.
        vat=computed - consumption_tax - tariff_tax,
        consumption_tax=consumption_tax,
        unclassified_lines=tuple(gnum for gnum in unclassified if isinstance(gnum, int)),
        basis=basis,
        tariff=tariff_tax,
        unmeasured_lines=tuple(gnum for gnum in unmeasured if isinstance(gnum, int)),
    )


def retail_import_tax(
    *, order: Mapping[str, Any], inventory: Mapping[str, Any] | None, config: RuleConfig
) -> TaxAssessment:
    """Compute the retail (70 %) import tax of an order and compare it with taxTotal."""
    return import_tax(order=order, inventory=inventory, config=config, basis=TaxBasis.RETAIL)
