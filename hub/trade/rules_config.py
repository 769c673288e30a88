"""Configurable trade rules: the figures DOMAIN.md marks unconfirmed, or that change by decree.

Matching, tax and limit checks read every threshold from one `RuleConfig` so a zone can
tighten or relax a rule without touching the rule code. The defaults follow the published
rules (exact amount match, buyer must pay, CNY 5,000 / 26,000, VAT 13 %, 70 % of the
statutory tax within the limits).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["DEFAULT_CONSUMPTION_RATES", "DEFAULT_RULES", "RuleConfig"]

# Consumption tax by HS prefix (longest prefix wins). Only goods subject to the tax are
# listed; 3305-3307 (hair, oral and shaving products) are not, so cosmetics are keyed by
# heading rather than by chapter 33. Rates are the statutory ones for high-end cosmetics
# (15 %) and grape wine (10 %).
DEFAULT_CONSUMPTION_RATES: tuple[tuple[str, Decimal], ...] = (
    ("3303", Decimal("0.15")),  # perfumes and toilet waters
    ("3304", Decimal("0.15")),  # beauty, make-up and skin-care preparations
    ("2204", Decimal("0.10")),  # wine of fresh grapes
)


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Thresholds and rates used by matching, retail import tax and the retail limits."""

    # Fraction of the order's acturalPaid by which a payment may differ (0.05 = 5 %).
    amount_tolerance: Decimal = Decimal("0")
    # Buyer and payer must be the same person (unconfirmed as a general rule).
    payer_must_be_buyer: bool = True
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
    # Coupons and points (`discount`) lower the actual transaction price, hence the duty base.
    discount_reduces_dutiable_value: bool = True
    # Absolute CNY difference allowed between declared and computed taxTotal.
    tax_tolerance_cny: Decimal = Decimal("0")

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
        }
        amounts.update({f"consumption_rates[{p!r}]": r for p, r in self.consumption_rates})
        for name, value in amounts.items():
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(
                    f"RuleConfig.{name} must be a non-negative Decimal such as "
                    f"Decimal('0.05'), got {value!r}"
                )
        rates = [self.default_consumption_rate] + [r for _, r in self.consumption_rates]
        if any(rate >= 1 for rate in rates):
            raise ValueError("consumption tax rates must be below 1 (they divide by 1 − rate)")

    def consumption_rate_for(self, *, hs_code: str | None) -> Decimal:
        """Return the consumption tax rate of an HS code (longest matching prefix, else default)."""
        if not hs_code:
            return self.default_consumption_rate
        best_length = -1
        best_rate = self.default_consumption_rate
        for prefix, rate in self.consumption_rates:
            if hs_code.startswith(prefix) and len(prefix) > best_length:
                best_length, best_rate = len(prefix), rate
        return best_rate


DEFAULT_RULES = RuleConfig()
