"""Configurable trade rules: the figures DOMAIN.md marks unconfirmed, or that change by decree.

Matching, tax and limit checks read every threshold and every debatable reading from one
`RuleConfig`, so a zone can tighten or relax a rule without touching the rule code. Each
switch's default and the text it follows are in docs/rules.md; `HUB_RULES` overrides
fields at start-up (`parse_overrides`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "DEFAULT_CONSUMPTION_RATES",
    "DEFAULT_RULES",
    "RuleConfig",
    "RuleConfigError",
    "parse_overrides",
]

# Consumption tax by HS prefix (longest prefix wins). Only goods subject to the tax are
# listed; 3305-3307 (hair, oral and shaving products) are not, so cosmetics are keyed by
# heading rather than by chapter 33. Rates are the statutory ones for high-end cosmetics
# (15 %) and grape wine (10 %); which cosmetics are high-end is `high_end_cosmetics_only`.
DEFAULT_CONSUMPTION_RATES: tuple[tuple[str, Decimal], ...] = (
    ("3303", Decimal("0.15")),  # perfumes and toilet waters
    ("3304", Decimal("0.15")),  # beauty, make-up and skin-care preparations
    ("2204", Decimal("0.10")),  # wine of fresh grapes
)

# Customs measurement units (JGS-20 code set, 计量单位代码) by what they measure, as
# (code, millilitres or grams per unit). Litres and millilitres are volume, kilograms and
# grams mass; the 2016 threshold is per ml *or* g, so both convert to one quantity.
DEFAULT_MEASURE_UNITS: tuple[tuple[str, Decimal], ...] = (
    ("096", Decimal("1")),  # 毫升 millilitre
    ("095", Decimal("1000")),  # 升 litre
    ("036", Decimal("1")),  # 克 gram
    ("035", Decimal("1000")),  # 千克 kilogram
)


class RuleConfigError(ValueError):
    """A rule configuration value the hub cannot use."""


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Thresholds, rates and readings used by matching, import tax and the retail limits."""

    # Fraction of the order's acturalPaid by which a payment may differ (0.05 = 5 %).
    amount_tolerance: Decimal = Decimal("0")
    # Buyer and payer must be the same person. The 2016 rule asks it only where the buyer's
    # identity cannot be verified, which the hub cannot see: off by default.
    payer_must_be_buyer: bool = False
    # Export receipts usually arrive after release, so by default their absence does not
    # keep an export order from matching; a zone that wants them can require them.
    export_receipt_required: bool = False
    single_limit_cny: Decimal = Decimal("5000")
    annual_limit_cny: Decimal = Decimal("26000")
    vat_rate: Decimal = Decimal("0.13")
    default_consumption_rate: Decimal = Decimal("0")
    # (HS prefix, rate) pairs; a tuple keeps the config hashable and immutable.
    consumption_rates: tuple[tuple[str, Decimal], ...] = DEFAULT_CONSUMPTION_RATES
    # Share of the statutory VAT + consumption tax charged within the retail limits.
    retail_tax_factor: Decimal = Decimal("0.7")
    # The spec defines `discount` as a non-cash payment (points, vouchers) inside goodsValue,
    # not a price reduction: by default it does not lower the dutiable value.
    discount_reduces_dutiable_value: bool = False
    # Absolute CNY difference allowed between declared and computed taxTotal.
    tax_tolerance_cny: Decimal = Decimal("0")

    # Consumption tax on cosmetics only for high-end ones (since 2016-10): a price of at
    # least `high_end_cny_per_ml_or_g` per ml or g, or `high_end_cny_per_piece` per sheet.
    high_end_cosmetics_only: bool = True
    cosmetics_hs_prefixes: tuple[str, ...] = ("3303", "3304")
    high_end_cny_per_ml_or_g: Decimal = Decimal("10")
    high_end_cny_per_piece: Decimal = Decimal("15")
    measure_units: tuple[tuple[str, Decimal], ...] = DEFAULT_MEASURE_UNITS
    # Units the per-piece threshold reads (片 sheet, 张 sheet: face masks and the like).
    piece_units: tuple[str, ...] = ("020", "010")
    # Units of cosmetic sets (套), taxed whatever their price ("成套化妆品").
    set_units: tuple[str, ...] = ("006",)
    # A cosmetic whose lines state no volume, mass or sheet count: taxed as high-end or not.
    unmeasured_cosmetics_high_end: bool = False

    # Tariff of goods taxed in full (one indivisible item over the single limit), by HS
    # prefix; the hub has no tariff schedule, so a zone lists the rates of its goods.
    default_tariff_rate: Decimal = Decimal("0")
    tariff_rates: tuple[tuple[str, Decimal], ...] = ()

    # Who may speak for customs on a receipt (622) so that the order counts toward the
    # buyer's year on every platform: these declarants only; empty means anyone but the
    # order's own platform and seller (a customs broker, the zone's single-window relay).
    receipt_sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A float here would either raise deep inside a Decimal sum or silently round:
        # refuse it where the configuration is written.
        amounts = {
            "amount_tolerance": self.amount_tolerance,
            "single_limit_cny": self.single_limit_cny,
            "annual_limit_cny": self.annual_limit_cny,
            "vat_rate": self.vat_rate,
            "default_consumption_rate": self.default_consumption_rate,
            "retail_tax_factor": self.retail_tax_factor,
            "tax_tolerance_cny": self.tax_tolerance_cny,
            "high_end_cny_per_ml_or_g": self.high_end_cny_per_ml_or_g,
            "high_end_cny_per_piece": self.high_end_cny_per_piece,
            "default_tariff_rate": self.default_tariff_rate,
        }
        amounts.update({f"consumption_rates[{p!r}]": r for p, r in self.consumption_rates})
        amounts.update({f"tariff_rates[{p!r}]": r for p, r in self.tariff_rates})
        amounts.update({f"measure_units[{u!r}]": f for u, f in self.measure_units})
        for name, value in amounts.items():
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise RuleConfigError(
                    f"RuleConfig.{name} must be a non-negative Decimal such as "
                    f"Decimal('0.05'), got {value!r}"
                )
        rates = [self.default_consumption_rate] + [r for _, r in self.consumption_rates]
        if any(rate >= 1 for rate in rates):
            raise RuleConfigError("consumption tax rates must be below 1 (they divide by 1 − rate)")
        if any(factor == 0 for _, factor in self.measure_units):
            raise RuleConfigError("measure_units factors must be positive")

    def consumption_rate_for(self, *, hs_code: str | None) -> Decimal:
        """Return the consumption tax rate of an HS code (longest matching prefix, else default)."""
        return _longest_prefix(self.consumption_rates, hs_code, self.default_consumption_rate)

    def tariff_rate_for(self, *, hs_code: str | None) -> Decimal:
        """Return the general-trade tariff rate of an HS code (longest prefix, else default)."""
        return _longest_prefix(self.tariff_rates, hs_code, self.default_tariff_rate)

    def is_cosmetic(self, *, hs_code: str | None) -> bool:
        """Tell whether an HS code is a cosmetic the high-end threshold applies to."""
        return bool(hs_code) and any(
            str(hs_code).startswith(prefix) for prefix in self.cosmetics_hs_prefixes
        )


def _longest_prefix(
    table: tuple[tuple[str, Decimal], ...], hs_code: str | None, default: Decimal
) -> Decimal:
    if not hs_code:
        return default
    best_length = -1
    best = default
    for prefix, rate in table:
        if hs_code.startswith(prefix) and len(prefix) > best_length:
            best_length, best = len(prefix), rate
    return best


DEFAULT_RULES = RuleConfig()


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise RuleConfigError(f"{name}={raw!r}: expected true or false")


def _decimal(name: str, raw: str) -> Decimal:
    try:
        return Decimal(raw.strip())
    except InvalidOperation:
        raise RuleConfigError(f"{name}={raw!r}: expected a decimal such as 0.05") from None


def _pairs(name: str, raw: str) -> tuple[tuple[str, Decimal], ...]:
    pairs = []
    for part in filter(None, (p.strip() for p in raw.split("|"))):
        key, sep, value = part.partition(":")
        if not sep or not key.strip():
            raise RuleConfigError(f"{name}: {part!r} is not PREFIX:RATE")
        pairs.append((key.strip(), _decimal(f"{name}[{key.strip()}]", value)))
    return tuple(pairs)


def _codes(raw: str) -> tuple[str, ...]:
    return tuple(filter(None, (p.strip() for p in raw.split("|"))))


def parse_overrides(text: str | None, *, base: RuleConfig = DEFAULT_RULES) -> RuleConfig:
    """Apply `name=value;name=value` overrides (the HUB_RULES setting) to a configuration.

    Booleans are true/false, amounts decimals, tables `PREFIX:RATE|PREFIX:RATE`, code
    lists `A|B`. An unknown name or a bad value raises RuleConfigError naming it.
    """
    if not text or not text.strip():
        return base
    fields = {f.name: f for f in dataclasses.fields(RuleConfig)}
    changes: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, raw = part.partition("=")
        name = name.strip()
        if not sep or name not in fields:
            known = ", ".join(sorted(fields))
            raise RuleConfigError(f"unknown rule {name!r} (known: {known})")
        current = getattr(base, name)
        if isinstance(current, bool):
            changes[name] = _bool(name, raw)
        elif isinstance(current, Decimal):
            changes[name] = _decimal(name, raw)
        elif name in ("consumption_rates", "tariff_rates", "measure_units"):
            changes[name] = _pairs(name, raw)
        else:
            changes[name] = _codes(raw)
    return dataclasses.replace(base, **changes)
